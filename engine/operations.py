"""Service-task operations: Python callables named in ENGINE_SERVICE_OPERATIONS.

The setting maps the operation name a diagram uses (`spiffworkflow:serviceTaskOperator
id`, Camunda `topic`, ...) to the dotted path of a callable; a list of dotted paths
registers each under its own path. Upload validation (processes) reads the same
setting, so a diagram naming an unknown operation is rejected before it deploys.
An operation is called with the variables it sees as keyword arguments (its task's
input parameters, else every case variable: `operation_arguments` passes those its
signature names unless it takes **kwargs) plus `idempotency_key` (case:task:epoch)
and returns a JSON value: a dict of variables merged into the case, or the value of
the task's result variable (engine/spiff/service_tasks.py).

Any other exception is a technical failure: the call is retried with backoff, then
an incident opens. `BusinessError(code)` is an answer, not a failure: it is thrown
as a BPMN error at the service task, for an error boundary event to catch.
Operations run under a soft time limit (ENGINE_SERVICE_TIMEOUT_SECONDS): they should
give their own I/O shorter timeouts and let `SoftTimeLimitExceeded` propagate.
"""

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

Operation = Callable[..., Any]


class BusinessError(Exception):
    """A business outcome the process models as a BPMN error (errorCode `code`).

    `variables` are set as case variables where the error is caught (Camunda's
    bpmnError variables); `data` travels with the error itself.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        data: Any = None,
        *,
        variables: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.data = data
        self.variables = dict(variables or {})


def operation_registry() -> dict[str, str]:
    """Return {operation name: dotted path} from the setting."""
    raw = settings.ENGINE_SERVICE_OPERATIONS
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    return {str(path): str(path) for path in raw}


def operation_get(name: str) -> Operation | None:
    """Return the callable registered as `name`, or None."""
    path = operation_registry().get(name)
    return import_string(path) if path else None


def operation_arguments(func: Operation, variables: Mapping[str, Any]) -> dict:
    """Return the variables `func` takes as keyword arguments.

    All of them when it takes **kwargs; else those its signature names (a
    Camunda worker or delegate reads the variables it needs and ignores the
    rest). `idempotency_key` is the engine's, never a variable's.
    """
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: pass them all
        parameters = []
    if not parameters or any(p.kind is p.VAR_KEYWORD for p in parameters):
        names = None
    else:
        names = {
            p.name
            for p in parameters
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        }
    return {
        k: v
        for k, v in variables.items()
        if k != "idempotency_key" and (names is None or k in names)
    }


def echo(*, idempotency_key: str, **params: Any) -> dict[str, Any]:
    """Return the parameters unchanged (`laneway.echo`, for examples and tests)."""
    return {"echo": params, "idempotency_key": idempotency_key}
