"""EL 2.1 operators, for JUEL translated to Python (engine/spiff/juel.py).

JSR-245 "Expression Language Specification 2.1" as Camunda 7's JUEL
(org.camunda.bpm.impl.juel: NumberOperations, BooleanOperations,
TypeConverterImpl) runs it, over JSON data: None is null, bool Boolean, int
Long, float Double, str String, dict Map, list List.

* §1.7 arithmetic: null and "" count as 0 (both operands null: 0); a Double
  operand, or a String holding '.', 'e' or 'E', makes `+ - * %` Double, else
  Long (64-bit, wrapping as Java does); `/` is always Double (7 / 2 is 3.5,
  x / 0 is Infinity or NaN); Long `%` keeps the dividend's sign, `% 0` fails.
* §1.8 relational and §1.9 equality: null is only equal to null and makes
  `< > <= >=` false (`<= >=` true when both are null); otherwise a Double
  operand compares as Double, a Long as Long, a Boolean (equality) as Boolean,
  a String as String, coercing the other operand: "5000" > 1000 is true,
  "true" == true is true, "abc" == 5 fails (an error, as in Camunda).
* §1.18 coercion: to Long, Long.valueOf (no '.', no blanks); to Double,
  Double.valueOf; to Boolean, null and "" are false, a String is true when it
  is "true" in any case, anything else fails.
* §1.6 property access (`a.b`, `a[b]`): null base or null property gives null;
  a Map's missing key gives null (MapELResolver); a List index out of range
  gives null (ListELResolver); a property of any other value fails
  (`PropertyNotFound`, as BeanELResolver raises PropertyNotFoundException).
* A whole condition (Camunda 7's UelExpressionCondition.evaluate) must be a
  Boolean: `condition` fails with "condition expression returns null" or
  "condition expression returns non-Boolean: 'yes' (java.lang.String)",
  naming the element; it coerces nothing.

Numbers beyond 64 bits (Java's BigInteger/BigDecimal paths) fail instead of
being guessed at, and so does a String of more than 400 characters coerced to
a Double (Java would read 500 digits as Infinity; the cap keeps the work per
coercion small). Every failure is an `ELException`: the step fails with an
incident, as Camunda raises javax.el.ELException. The functions run inside the
sandbox's budget (`runtime`) and do constant work except for comparisons,
which go through the budget's checked comparison.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

NAMES = frozenset(
    {"_el_arith_", "_el_neg_", "_el_cmp_", "_el_bool_", "_el_get_", "_el_condition_"}
)
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_LONG_TEXT = re.compile(r"[+-]?\d+")  # Long.valueOf: no blanks, no '.'
_DOUBLE_TEXT = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?)"
)
_JAVA_TYPES = {
    str: "java.lang.String",
    bool: "java.lang.Boolean",
    int: "java.lang.Long",
    float: "java.lang.Double",
    dict: "java.util.Map",
    list: "java.util.List",
}
Compare = Callable[[str, Any, Any], Any]


class ELException(Exception):  # noqa: N818 - Camunda's name for it
    """An EL operation failed (message says which coercion or operation)."""


class PropertyNotFound(ELException):
    """A property of a value that has none (javax.el.PropertyNotFoundException).

    Like a variable that does not exist (NameError), it counts as false in a
    conditional event's condition (UelExpressionCondition.tryEvaluate).
    """


def _java(value: Any) -> str:
    return _JAVA_TYPES.get(type(value), type(value).__name__)


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "..."


def _cannot(value: Any, target: str) -> ELException:
    if isinstance(value, str):
        return ELException(
            f"Cannot coerce '{_shown(value)}' to {target} (EL 2.1 §1.18)"
        )
    return ELException(f"Cannot coerce from {_java(value)} to {target} (EL 2.1 §1.18)")


def _wrap(value: int) -> int:
    """Java's long arithmetic: two's complement, 64 bits."""
    return (value - _LONG_MIN) % 2**64 + _LONG_MIN


def _long_operand(value: int) -> int:
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ELException(
            f"{value} is beyond a 64-bit Long (BigInteger arithmetic is not supported)"
        )
    return value


def to_long(value: Any) -> int:
    """Coerce to Long (EL 2.1 §1.18.3)."""
    if value is None or value == "":
        return 0
    kind = type(value)
    if kind is int:
        return _long_operand(value)
    if kind is float:  # Number.longValue(): truncated, NaN 0, saturated
        if math.isnan(value):
            return 0
        if math.isinf(value):
            return _LONG_MAX if value > 0 else _LONG_MIN
        return max(_LONG_MIN, min(_LONG_MAX, int(value)))
    if kind is str and len(value) <= 20 and _LONG_TEXT.fullmatch(value):
        number = int(value)
        if _LONG_MIN <= number <= _LONG_MAX:
            return number
    raise _cannot(value, "java.lang.Long")


def to_double(value: Any) -> float:
    """Coerce to Double (EL 2.1 §1.18.3)."""
    if value is None or value == "":
        return 0.0
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(_long_operand(value))
    if kind is str:
        text = value.strip(" \t\n\r\f\v\0")  # Double.valueOf trims chars <= ' '
        if len(text) <= 400 and _DOUBLE_TEXT.fullmatch(text):
            return float(text.rstrip("fFdD"))
    raise _cannot(value, "java.lang.Double")


def to_bool(value: Any) -> bool:
    """Coerce to Boolean (EL 2.1 §1.18.2): only "true", in any case, is true."""
    if value is None or value == "":
        return False
    if type(value) is bool:
        return value
    if type(value) is str:
        return len(value) == 4 and value.lower() == "true"
    raise _cannot(value, "java.lang.Boolean")


def _to_str(value: Any) -> str:
    """Coerce to String (EL 2.1 §1.18.1) for the scalars JSON has."""
    if type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    raise ELException(
        f"Cannot compare {_java(value)} with a String here (EL 2.1 §1.18.1: "
        "its Java text form is not reproduced)"
    )


def _is_double(value: Any) -> bool:
    """A Double, or a String holding '.', 'e' or 'E' (EL 2.1 §1.7.1)."""
    if type(value) is float:
        return True
    return type(value) is str and any(c in value for c in ".eE")


def _divide(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:  # Java: Infinity or NaN, no exception
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _double_remainder(a: float, b: float) -> float:
    if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    return a if math.isinf(b) else math.fmod(a, b)


def _long_remainder(a: int, b: int) -> int:
    if b == 0:
        raise ELException("/ by zero (Long remainder, EL 2.1 §1.7.3)")
    rest = abs(a) % abs(b)
    return rest if a >= 0 else -rest


_DOUBLE_OPS: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "%": _double_remainder,
}
_LONG_OPS: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "%": _long_remainder,
}


def arith(op: str, a: Any, b: Any) -> int | float:
    """Return `a op b` for op in + - * / % (EL 2.1 §1.7)."""
    if a is None and b is None:
        return 0
    if op == "/":
        return _divide(to_double(a), to_double(b))
    if _is_double(a) or _is_double(b):
        return _DOUBLE_OPS[op](to_double(a), to_double(b))
    return _wrap(_LONG_OPS[op](to_long(a), to_long(b)))


def neg(value: Any) -> int | float:
    """Return `-value` (EL 2.1 §1.7.4)."""
    if value is None:
        return 0
    if type(value) is float:
        return -value
    if type(value) is int:
        return _wrap(-_long_operand(value))
    if type(value) is str:
        return -to_double(value) if _is_double(value) else _wrap(-to_long(value))
    raise ELException(f"Cannot negate {_java(value)} (EL 2.1 §1.7.4)")


def _double_equal(a: float, b: float) -> bool:
    """Double.equals: NaN equals NaN, 0.0 differs from -0.0."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _equal(a: Any, b: Any, cmp: Compare) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    kinds = {type(a), type(b)}
    if float in kinds:
        return _double_equal(to_double(a), to_double(b))
    if int in kinds:
        return to_long(a) == to_long(b)
    if bool in kinds:
        return to_bool(a) == to_bool(b)
    if str in kinds:
        return bool(cmp("==", _to_str(a), _to_str(b)))
    return bool(cmp("==", a, b))


def _less(a: Any, b: Any, cmp: Compare) -> bool:
    """BooleanOperations.lt0: both operands are not null."""
    kinds = {type(a), type(b)}
    if float in kinds:
        return to_double(a) < to_double(b)
    if int in kinds:
        return to_long(a) < to_long(b)
    if str in kinds:
        return bool(cmp("<", _to_str(a), _to_str(b)))
    if kinds == {bool}:
        return a < b
    raise ELException(
        f"Cannot compare {_java(a)} with {_java(b)} (EL 2.1 §1.8.1: not Comparable)"
    )


def compare(op: str, a: Any, b: Any, cmp: Compare) -> bool:
    """Return `a op b` for op in == != < > <= >= (EL 2.1 §1.8, §1.9)."""
    if op in ("==", "!="):
        return _equal(a, b, cmp) is (op == "==")
    if a is None and b is None:
        return op in ("<=", ">=")
    if a is None or b is None:
        return False
    if op == "<":
        return _less(a, b, cmp)
    if op == ">":
        return _less(b, a, cmp)
    if op == "<=":
        return not _less(b, a, cmp)
    return not _less(a, b, cmp)


def _index(key: Any) -> int:
    """ListELResolver's index: a Number's int value, a String's Integer.valueOf."""
    if type(key) is bool:
        return 1 if key else 0
    if type(key) is int:
        return key
    if type(key) is float and math.isfinite(key):
        return int(key)
    if type(key) is str and len(key) <= 20 and _LONG_TEXT.fullmatch(key):
        return int(key)
    shown = _shown(key) if isinstance(key, str) else _java(key)
    raise ELException(f"Cannot use '{shown}' as a list index (EL 2.1 §1.6)")


def get(base: Any, key: Any) -> Any:
    """Return `base.key` / `base[key]` (EL 2.1 §1.6)."""
    if base is None or key is None:
        return None
    if type(base) is dict:
        if isinstance(key, dict | list):
            return None  # no JSON object has such a key
        return base.get(key)
    if type(base) in (list, tuple):
        index = _index(key)
        return base[index] if 0 <= index < len(base) else None
    name = _shown(key) if isinstance(key, str) else _java(key)
    raise PropertyNotFound(
        f"Property '{name}' not found on type {_java(base)} (EL 2.1 §1.6: only a "
        "map (JSON object) or a list has properties here)"
    )


def condition(value: Any, where: str) -> bool:
    """Return a whole condition's value, which must be a Boolean.

    Camunda 7's UelExpressionCondition.evaluate (ensureNotNull "condition
    expression returns null", ensureInstanceOf "condition expression returns
    non-Boolean"); `where` names the condition ("Condition of sequence flow
    'Flow_Yes'").
    """
    if type(value) is bool:
        return value
    if value is None:
        raise ELException(f"{where}: condition expression returns null")
    if isinstance(value, str):
        shown = repr(_shown(value))
    elif type(value) in (int, float):
        shown = repr(value)
    else:
        shown = "a " + _java(value)
    raise ELException(
        f"{where}: condition expression returns non-Boolean: {shown} ({_java(value)})"
    )


def runtime(cmp: Compare) -> dict[str, Callable[..., Any]]:
    """Return the functions translated JUEL calls, comparing through `cmp`."""
    return {
        "_el_arith_": arith,
        "_el_neg_": neg,
        "_el_cmp_": lambda op, a, b: compare(op, a, b, cmp),
        "_el_bool_": to_bool,
        "_el_get_": get,
        "_el_condition_": condition,
    }
