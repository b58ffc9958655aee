"""The restricted script environment: the only engine Laneway ever gives a workflow.

SpiffWorkflow's default `PythonScriptEngine` runs `eval`/`exec` with full builtins,
and a deserialized workflow silently gets a fresh default engine. Every workflow
this adapter creates or loads is built with `script_engine()` instead.

Expressions and scripts are compiled by RestrictedPython (no imports, no names or
attributes starting with `_`, guarded item/attribute access and writes). Work and
memory budgets are added by the engine-hardening work (see the issue on
sandboxing); the seam is `RestrictedEnvironment.evaluate/execute`.
"""

from __future__ import annotations

import ast
import operator
from functools import lru_cache
from typing import Any

from RestrictedPython import (
    compile_restricted_eval,
    compile_restricted_exec,
    limited_builtins,
    safe_builtins,
    utility_builtins,
)
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine


class ScriptError(Exception):
    """An expression or script was refused or failed (message is for the user)."""


_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "|=": operator.ior,
    "&=": operator.iand,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    try:
        return _INPLACE[op](x, y)
    except KeyError:
        raise ScriptError(f"operator {op} is not allowed") from None


def _apply(func: Any, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


_EXTRA_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in ("sum", "min", "max", "any", "all", "enumerate", "list", "dict", "set",
                 "sorted", "reversed", "map", "filter")
}
_BUILTINS = {**safe_builtins, **limited_builtins, **utility_builtins, **_EXTRA_BUILTINS}
_BUILTINS.pop("__import__", None)

_GUARDS = {
    "__builtins__": _BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_apply_": _apply,
    "_print_": PrintCollector,
}


def _first_error(errors: tuple[str, ...] | list[str]) -> str:
    return "; ".join(errors) if errors else "not allowed"


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Any:
    """Compile an expression under the restrictions, or raise ScriptError."""
    result = compile_restricted_eval(source.strip(), "<expression>")
    if result.errors or result.code is None:
        raise ScriptError(f"invalid expression: {_first_error(result.errors)}")
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str) -> Any:
    """Compile a script under the restrictions, or raise ScriptError."""
    result = compile_restricted_exec(source, "<string>")
    if result.errors or result.code is None:
        raise ScriptError(f"invalid script: {_first_error(result.errors)}")
    return result.code


def check_expression(source: str) -> str | None:
    """Return why an expression cannot run here, or None when it compiles."""
    try:
        compile_expression(source)
    except ScriptError as exc:
        return str(exc)
    return None


def check_script(source: str) -> str | None:
    """Return why a script cannot run here, or None when it compiles."""
    try:
        compile_script(source)
    except ScriptError as exc:
        return str(exc)
    return None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluate and execute with RestrictedPython-compiled code and guarded globals."""

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        code = compile_expression(expression)
        scope = {**_GUARDS, **(external_context or {}), **context}
        return eval(code, scope)  # noqa: S307 - restricted bytecode, guarded globals

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        code = compile_script(script)
        scope = {**_GUARDS, **(external_context or {}), **context}
        exec(code, scope)  # noqa: S102 - restricted bytecode, guarded globals
        injected = set(_GUARDS) | set(external_context or {})
        for key, value in scope.items():
            if key in injected or key.startswith("_") or callable(value):
                continue
            context[key] = value
        for key in [k for k in context if k not in scope]:
            del context[key]
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        raise ScriptError("service tasks run asynchronously through the worker")


class LanewayScriptEngine(PythonScriptEngine):
    """The script engine every Laneway workflow uses."""

    def __init__(self) -> None:
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression: str) -> None:
        ast.parse(expression)
        compile_expression(expression)


_ENGINE = LanewayScriptEngine()


def script_engine() -> LanewayScriptEngine:
    """Return the shared restricted engine (stateless, safe to share)."""
    return _ENGINE
