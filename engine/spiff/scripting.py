"""The sandboxed script environment: the only engine Laneway ever gives a workflow.

SpiffWorkflow's default `PythonScriptEngine` runs `eval`/`exec` with full
builtins, and a deserialized workflow silently gets a fresh default engine.
Every workflow this adapter creates or loads is built with `script_engine()`.

* Expressions (gateway conditions, timer and MI expressions, DMN cells, message
  payloads, service parameters) run in the calling thread through the guarded
  evaluator (`sandbox`): RestrictedPython + an AST whitelist + checked
  operations with a step/work/memory/wall-clock budget. About 2 µs each, no
  signals, so web threads are bounded too.
* Scripts (script tasks, pre/post scripts) run in a worker process of
  `sandbox.pool` with RLIMIT_AS, RLIMIT_CPU and a wall-clock kill, and the
  guarded evaluator inside; only the variables the script names cross the
  process boundary, as JSON, with the data of the SpiffArena helpers it calls
  (`script_helpers`).

The policy lives in the environment, not in a `PythonScriptEngine` subclass:
some SpiffWorkflow call sites (completion conditions, message correlations)
call `script_engine.environment.evaluate` directly. Errors raised here are
plain `Exception`s, which SpiffWorkflow wraps into `WorkflowTaskException`
with the task set to ERROR.
"""

from __future__ import annotations

import ast
import functools
import math
from dataclasses import replace
from types import CodeType
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import (
    BasePythonScriptEngineEnvironment,
    PythonScriptEngine,
)

from .engine_objects import engine_facts
from .juel import ENGINE_FACTS
from .limits import (
    MAX_INSTANCES,
    InstanceCountOutOfBounds,
    check_timer_value,
    limits_get,
)
from .multi_instance import loop_variables
from .sandbox import DEFAULT_LIMITS, Limits, SandboxViolation, compile_guarded
from .sandbox import evaluate as guarded_evaluate
from .sandbox.pool import get_pool
from .script_helpers import helper_data, running_task, unknown_calls


class ScriptError(Exception):
    """An expression or script was refused or failed (message is for the user)."""


@functools.cache
def _expression_limits(wall_ms: int) -> Limits:
    return replace(DEFAULT_LIMITS, wall_s=wall_ms / 1000)


def expression_limits() -> Limits:
    """Return the budget of one expression under the configured EngineLimits."""
    return _expression_limits(limits_get().expression_time_limit_ms)


def compile_expression(source: str) -> CodeType:
    """Compile an expression under the sandbox rules, or raise ScriptError."""
    try:
        return compile_guarded(source, "eval", expression_limits())
    except SandboxViolation as exc:
        raise ScriptError(f"invalid expression: {exc}") from None


def compile_script(source: str) -> CodeType:
    """Compile a script under the sandbox rules, or raise ScriptError."""
    try:
        return compile_guarded(source, "exec", DEFAULT_LIMITS)
    except SandboxViolation as exc:
        raise ScriptError(f"invalid script: {exc}") from None


def check_expression(source: str) -> str | None:
    """Return why an expression cannot run here, or None when it compiles."""
    try:
        compile_expression(source)
    except ScriptError as exc:
        return str(exc)
    return unknown_calls(source, script=False)


def check_script(source: str) -> str | None:
    """Return why a script cannot run here, or None when it compiles."""
    try:
        compile_script(source)
    except ScriptError as exc:
        return str(exc)
    return unknown_calls(source, script=True)


@functools.lru_cache(maxsize=4096)
def referenced_names(script: str) -> frozenset[str]:
    """Return the names a script can read or write.

    Sandboxed code has no globals()/vars(), so task variables it does not name
    can neither be read nor changed: only these cross the process boundary.
    """
    return frozenset(
        n.id for n in ast.walk(ast.parse(script)) if isinstance(n, ast.Name)
    )


def _non_finite(value: Any) -> float | None:
    """Return the first Infinity or NaN in `value` (inside lists and maps too)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if not math.isfinite(item):
                return item
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
    return None


def _check_finite(what: str, value: Any) -> None:
    """Refuse Infinity and NaN (EL 2.1 gives them for x / 0): JSON has neither.

    Caught here, the step fails with an incident; stored, the case data would
    be refused by the database at the end of the advance. A value inside a list
    or map counts too (a script's `[1e308 * 10]`).
    """
    kind = type(value)
    if kind is not float and kind is not dict and kind is not list:
        return
    bad = _non_finite(value)
    if bad is not None:
        shown = "NaN" if math.isnan(bad) else ("-" if bad < 0 else "") + "Infinity"
        inside = "" if bad is value else " (inside it)"
        raise ScriptError(
            f"{what} is {shown}{inside}, which case data (JSON) cannot hold (EL "
            "gives it for a division by zero; a float overflows to it)"
        )


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """Expressions in-process (guarded), scripts in the worker pool (guarded)."""

    def evaluate(
        self, expression: str, context: dict, external_context: dict | None = None
    ) -> Any:
        external_context = with_engine_facts(None, expression, external_context)
        scope = {**self.globals, **(external_context or {}), **context}
        value = guarded_evaluate(expression, scope, expression_limits())
        _check_finite("the expression's value", value)
        if type(value) is str:
            # Timer expressions come through here; SpiffWorkflow loops once per
            # month of a duration in host code ("P1000000Y" takes seconds).
            check_timer_value(value)
        return value

    def execute(
        self, script: str, context: dict, external_context: dict | None = None
    ) -> bool:
        compile_script(script)  # fail fast, with the same message as at upload
        external_context = with_engine_facts(None, script, external_context)
        external = {**self.globals, **(external_context or {})}
        names = referenced_names(script)
        full = {**external, **context}
        sent = {k: full[k] for k in names if k in full}
        helpers = helper_data(script, sent)
        result = get_pool().execute(script, sent, helpers=helpers)
        for key in set(sent) - set(result):
            context.pop(key, None)  # `del x` in the script
        for key, value in result.items():
            _check_finite(key, value)
            if key not in external or external[key] != value:
                context[key] = value
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        raise ScriptError("service tasks run asynchronously through the worker")


class LanewayScriptEngine(PythonScriptEngine):
    """The script engine every Laneway workflow uses."""

    def __init__(self) -> None:
        super().__init__(environment=SandboxedEnvironment())

    def validate(self, expression: str) -> None:
        # SyntaxError, as SpiffWorkflow expects: its DMN engine validates an input
        # entry such as ">= 1000" and on SyntaxError retries it as "v >= 1000".
        try:
            compile_expression(expression)
        except ScriptError as exc:
            raise SyntaxError(str(exc)) from None

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        external_context = _with_loop_variables(task, external_context)
        external_context = with_engine_facts(task, expression, external_context)
        value = super().evaluate(task, expression, external_context)
        # A parallel multi-instance creates range(cardinality) children at once.
        if expression is not None and expression == getattr(
            task.task_spec, "cardinality", None
        ):
            value = loop_cardinality(task, value)
        return value

    def execute(self, task: Any, script: str, external_context: Any = None) -> Any:
        external_context = _with_loop_variables(task, external_context)
        external_context = with_engine_facts(task, script, external_context)
        with running_task(task):
            return super().execute(task, script, external_context)


def loop_cardinality(task: Any, value: Any) -> int:
    """Return a loop cardinality as Camunda 7 reads it, or fail the step.

    MultiInstanceActivityBehavior.resolveLoopCardinality: a Number (its
    intValue(), a fraction truncated), or a String holding an integer; a
    negative count fails ("must be a non-negative integer value"), where
    range() made it zero instances.
    """
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    elif isinstance(value, float) and math.isfinite(value):
        value = int(value)  # Number.intValue(): 2.5 runs two instances
    if isinstance(value, bool) or not isinstance(value, int):
        why = "is not a whole number"
    elif value < 0:
        why = "is negative (Camunda 7: must be a non-negative integer value)"
    elif value > MAX_INSTANCES:
        why = f"is more than {MAX_INSTANCES}"
    else:
        return value
    error = InstanceCountOutOfBounds(f"loop cardinality {value!r} {why}")
    raise WorkflowTaskException(str(error), task=task, exception=error)


def with_engine_facts(task: Any, source: Any, external_context: Any) -> Any:
    """Add what translated JUEL reads of Camunda 7's engine objects
    (engine_objects.py) when `source` reads any, for `task` (None: the step's
    user only; the rest then fails as not available)."""
    if not isinstance(source, str) or ENGINE_FACTS not in source:
        return external_context
    if external_context and ENGINE_FACTS in external_context:
        return external_context
    return {**(external_context or {}), ENGINE_FACTS: engine_facts(task)}


def _with_loop_variables(task: Any, external_context: Any) -> Any:
    """Add Camunda's multi-instance variables when `task` is in a multi-instance."""
    counters = loop_variables(task) if task is not None else {}
    return {**counters, **(external_context or {})} if counters else external_context


_ENGINE = LanewayScriptEngine()


def script_engine() -> LanewayScriptEngine:
    """Return the shared sandboxed engine (stateless, safe to share)."""
    return _ENGINE
