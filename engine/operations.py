"""Service-task operations: registered Python callables, run by Celery workers.

An operation takes the evaluated parameters plus the call's idempotency key
(case:task:epoch) and returns a JSON value; register one with `@operation("name")`.
"""

from collections.abc import Callable
from typing import Any

Operation = Callable[..., Any]
_REGISTRY: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    """Register a function as the service operation `name`."""

    def register(func: Operation) -> Operation:
        _REGISTRY[name] = func
        return func

    return register


def operation_get(name: str) -> Operation | None:
    """Return the registered operation, or None."""
    return _REGISTRY.get(name)


def operation_names() -> frozenset[str]:
    """Return the names of every registered operation."""
    return frozenset(_REGISTRY)


@operation("laneway.echo")
def echo(*, idempotency_key: str, **params: Any) -> dict[str, Any]:
    """Return the parameters unchanged (for examples and tests)."""
    return {"echo": params, "idempotency_key": idempotency_key}
