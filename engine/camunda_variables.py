"""Camunda 7's typed variables <-> Laneway's JSON case variables.

Camunda's REST API sends each variable as ``{"value": .., "type": .., "valueInfo":
{..}}``. Case variables are JSON values only (ARCHITECTURE §3), so a value becomes
its JSON equivalent: Json and Object (application/json) values are parsed, a Date
stays its ISO text; Bytes, File and Java-serialized objects have none and are
refused (400, naming the variable). A variable sent without a type (Camunda's
Python client sends ``{"value": 5}``) is taken as the JSON value it is.
"""

import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from engine.json_safety import body_problem, max_data_bytes, max_depth, too_large

_INT32 = 2**31
_TEXT_TYPES = ("string", "xml")
# The Java type of each integer type and its range: Camunda's REST API
# converts the value to it (Jackson), refusing one out of range (400).
_INTEGER_TYPES = {
    "integer": ("Integer", 2**31),
    "long": ("Long", 2**63),
    "short": ("Short", 2**15),
}
# Camunda 7 REST's date format (yyyy-MM-dd'T'HH:mm:ss.SSSZ, e.g.
# 2013-06-30T21:33:44.000+0200): a Date value that does not parse is refused.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}")


class VariableInvalid(ValueError):
    """A variable Laneway cannot hold; the message names it."""


def _json_text(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value  # some clients send the object itself
    try:
        return json.loads(value)
    except RecursionError:
        raise VariableInvalid(
            f"Variable '{name}': nested deeper than {max_depth()} levels."
        ) from None
    except ValueError as exc:
        raise VariableInvalid(f"Variable '{name}': not valid JSON ({exc}).") from None


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _integer(name: str, value: Any, *, kind: str = "long") -> int:
    java, bound = _INTEGER_TYPES[kind]
    whole = _whole(value)
    if whole is None:
        raise VariableInvalid(f"Variable '{name}': {value!r} is not an integer.")
    if not -bound <= whole < bound:
        raise VariableInvalid(
            f"Variable '{name}': {value!r} is out of the range of a {java} "
            f"({-bound} to {bound - 1}), as Camunda 7 refuses it."
        )
    return whole


def _date(name: str, value: Any) -> str | None:
    text = _text(name, value)
    if text is None:
        return None
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
        valid = _DATE.fullmatch(text) is not None
    except ValueError:
        valid = False
    if not valid:
        raise VariableInvalid(
            f"Variable '{name}': {text!r} is not a Date in Camunda's format "
            "yyyy-MM-dd'T'HH:mm:ss.SSSZ (e.g. 2026-01-31T12:00:00.000+0100)."
        )
    return text


def _double(name: str, value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise VariableInvalid(f"Variable '{name}': {value!r} is not a number.")


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise VariableInvalid(f"Variable '{name}': {value!r} is not a boolean.")


def _object(name: str, value: Any, info: dict) -> Any:
    data_format = str(info.get("serializationDataFormat") or "application/json")
    if data_format.split(";")[0].strip().lower() != "application/json":
        raise VariableInvalid(
            f"Variable '{name}': objects serialized as {data_format} cannot be "
            "stored; send JSON (type Json, or Object as application/json)."
        )
    return _json_text(name, value)


def _text(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise VariableInvalid(f"Variable '{name}': {value!r} is not text.")


def _untyped_one(name: str, typed: Any) -> Any:
    if not isinstance(typed, dict):
        raise VariableInvalid(
            f'Variable \'{name}\' must be an object {{"value": .., "type": ..}}.'
        )
    value = typed.get("value")
    kind = str(typed.get("type") or "").strip().lower()
    info = typed.get("valueInfo") if isinstance(typed.get("valueInfo"), dict) else {}
    if value is None or kind in ("", "null"):
        return value
    converters: dict[str, Callable[[str, Any], Any]] = {
        "boolean": _boolean,
        "double": _double,
        "json": _json_text,
        **{java: partial(_integer, kind=java) for java in _INTEGER_TYPES},
        **dict.fromkeys(_TEXT_TYPES, _text),
        "date": _date,
    }
    if kind in converters:
        return converters[kind](name, value)
    if kind == "object":
        return _object(name, value, info or {})
    raise VariableInvalid(
        f"Variable '{name}': the type '{typed.get('type')}' cannot be stored "
        "(case variables are JSON: String, Integer, Long, Double, Boolean, Date, "
        "Json, Object as JSON, Null)."
    )


def variables_untyped(typed: Any, *, field: str = "variables") -> dict[str, Any]:
    """Return Camunda typed variables as plain JSON values.

    Raises:
        VariableInvalid: naming the variable that cannot be held, or when the
            whole is too large (ENGINE_MAX_DATA_BYTES) or unstorable.
    """
    if typed is None:
        return {}
    if not isinstance(typed, dict):
        raise VariableInvalid(f"'{field}' must be an object of variables.")
    plain = {str(name): _untyped_one(str(name), value) for name, value in typed.items()}
    problem = body_problem(plain, limit=max_depth())
    if problem is not None:
        raise VariableInvalid(f"Variable '{problem[0]}': {problem[1]}")
    oversize = too_large(plain, limit=max_data_bytes())
    if oversize:
        raise VariableInvalid(f"'{field}': {oversize}")
    return plain


def variable_typed(value: Any) -> dict[str, Any]:
    """Return one JSON value as a Camunda typed value."""
    kind: str
    shown: Any = value
    if value is None:
        kind = "Null"
    elif isinstance(value, bool):
        kind = "Boolean"
    elif isinstance(value, int):
        kind = "Integer" if -_INT32 <= value < _INT32 else "Long"
    elif isinstance(value, float):
        kind = "Double"
    elif isinstance(value, str):
        kind = "String"
    else:
        kind, shown = "Json", json.dumps(value, ensure_ascii=False)
    return {"type": kind, "value": shown, "valueInfo": {}}


def variables_typed(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return JSON variables in Camunda's typed form."""
    return {name: variable_typed(value) for name, value in values.items()}
