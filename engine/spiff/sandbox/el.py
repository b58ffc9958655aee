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
* §1.18 coercion: to Long, Long.valueOf (no '.', no blanks, leading zeros of
  any length); to Double, Double.valueOf (trimmed, ASCII digits, hex too); to
  Boolean, null and "" are false, a String is true when it is "true" in any
  case, anything else fails.
* §1.6 property access (`a.b`, `a[b]`): null base or null property gives null;
  a Map's missing key gives null (MapELResolver); a List index (an Integer:
  Long.intValue keeps 32 bits) out of range gives null (ListELResolver); a
  property of any other value fails (`PropertyNotFound`, as BeanELResolver
  raises PropertyNotFoundException), but for a Java getter BeanELResolver
  would read (`"a".bytes`), which fails as ELException.
* A whole condition (Camunda 7's UelExpressionCondition.evaluate) must be a
  Boolean: `condition` fails with "condition expression returns null" or
  "condition expression returns non-Boolean: 'yes' (java.lang.String)",
  naming the element; it coerces nothing.
* §1.8.1 two Strings compare as String.compareTo: by UTF-16 code units (a
  character beyond U+FFFF sorts before U+E000-U+FFFF); a String against a Map
  or List would compare with its Java toString, which is not reproduced: it
  fails.
* §1.9.2 `==` of two Maps or Lists, and the `equals` method, are Java's
  equals: type-strict (Long 5 is not Double 5.0), element-wise (`java_equals`).
* Method calls (`call`): each runs only on the Java types that have it
  (`"abc".size()` fails: String has length(), not size()).

Numbers beyond 64 bits (Java's BigInteger/BigDecimal paths, which JSON data
would need) fail instead of being guessed at; an integer literal beyond a Long
is refused at upload (juel.py), as JUEL's parser refuses it. String coercions
parse the whole text as Java does (leading zeros, any length); the work is
charged to the sandbox's budget. Every failure is an `ELException`: the step
fails with an incident, as Camunda raises javax.el.ELException. The functions
run inside the sandbox's budget (`runtime`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

# The data name under which the engine's facts about the running element (ids,
# business key, activity, the signed-in user: scripting.engine_facts) reach
# translated JUEL that reads Camunda 7's engine objects (juel.py).
ENGINE = "_el_engine_"
NAMES = frozenset(
    {
        "_el_arith_",
        "_el_neg_",
        "_el_cmp_",
        "_el_bool_",
        "_el_get_",
        "_el_condition_",
        "_el_call_",
        "_el_text_",
        "_el_var_",
        "_el_has_",
        "_el_object_",
        "_el_map_",
        ENGINE,
    }
)
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_INTEGER_TEXT = re.compile(r"[+-]?\d+")  # Long.valueOf: no blanks, no '.'
# Double.valueOf (FloatingDecimal): ASCII digits only, a decimal or a hex
# (0x1.8p1) literal, an optional f/F/d/D suffix.
_DOUBLE_TEXT = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)"
)
_HEX_DOUBLE_TEXT = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+[fFdD]?"
)
_JAVA_TYPES = {
    str: "java.lang.String",
    bool: "java.lang.Boolean",
    int: "java.lang.Long",
    float: "java.lang.Double",
    dict: "java.util.Map",
    list: "java.util.List",
    type(None): "null",
}
Compare = Callable[[str, Any, Any], Any]
Charge = Callable[[int], None]


def _free(work: int) -> None:
    """No budget to charge (the differential test's plain engine)."""


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


def _integer(text: str, low: int, high: int) -> int | None:
    """Long.valueOf / Integer.valueOf of `text` (None: NumberFormatException).

    An optional sign and decimal digits (Character.digit: any Unicode decimal
    digit, as Python's \\d), no blanks; leading zeros do not count towards the
    range, so "000…0005" of any length is 5.
    """
    if not _INTEGER_TEXT.fullmatch(text):
        return None
    sign = text[0] if text[0] in "+-" else ""
    digits = text[len(sign) :].lstrip("0") or "0"
    if len(digits) > 19:  # beyond any Long; int() of it would be costly
        return None
    number = int(sign + digits)
    return number if low <= number <= high else None


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
    if kind is str:
        number = _integer(value, _LONG_MIN, _LONG_MAX)
        if number is not None:
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
        text = _java_trim(value)  # Double.valueOf trims chars <= ' '
        if _DOUBLE_TEXT.fullmatch(text):  # linear, as float() is
            return float(text.rstrip("fFdD"))
        if _HEX_DOUBLE_TEXT.fullmatch(text):
            return float.fromhex(text.rstrip("fFdD"))
    raise _cannot(value, "java.lang.Double")


_JAVA_BLANKS = "".join(map(chr, range(0x21)))


def _java_trim(text: str) -> str:
    """String.trim: strip the characters up to ' ' (U+0020) at both ends."""
    return text.strip(_JAVA_BLANKS)


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


def _double_text(value: float) -> str:
    """Double.toString: plain from 10^-3 to 10^7, else computerized notation
    (1.0E7, 1.5E-4), with the shortest digits that read back (JDK 19 on)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    shortest = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, shortest.digits))
    exponent = len(digits) - 1 + int(shortest.exponent)
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def to_text(value: Any) -> str:
    """Coerce a part of composite text to String (EL 2.1 §1.18.1): null is "",
    a Boolean "true"/"false", a number its Java text; a Map or List fails (its
    Java text form is not reproduced)."""
    if value is None:
        return ""
    if type(value) is float:
        return _double_text(value)
    try:
        return _to_str(value)
    except ELException:
        raise ELException(
            f"Cannot coerce from {_java(value)} to java.lang.String here (EL 2.1 "
            "§1.18.1: its Java text form is not reproduced)"
        ) from None


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


def _equal(a: Any, b: Any, cmp: Compare, charge: Charge) -> bool:
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
    return java_equals(a, b, charge)  # o1.equals(o2): a Map, a List


def _text_less(a: str, b: str, cmp: Compare) -> bool:
    """String.compareTo(...) < 0: Java orders UTF-16 code units, so a character
    beyond U+FFFF (a surrogate pair, U+D800-U+DFFF) sorts before U+E000-U+FFFF,
    where Python orders code points."""
    if a.isascii() or b.isascii():  # no pair on one side: the orders agree
        return bool(cmp("<", a, b))
    cmp("<", a, b)  # charges the budget for the comparison
    utf16 = "utf-16-be"  # big-endian bytes order as the code units do
    return a.encode(utf16, "surrogatepass") < b.encode(utf16, "surrogatepass")


def _kind(value: Any) -> type:
    """The Java type `value` stands for: a tuple is a List too."""
    kind = type(value)
    return list if kind is tuple else kind


def _step(x: Any, y: Any, pending: list[tuple[Any, Any]]) -> int:
    """Compare one pair of `java_equals`' walk: -1 when they differ, else the
    work done (the pairs of a List's or Map's members go to `pending`)."""
    kind = _kind(x)
    if kind is not _kind(y):
        return -1
    if kind is float:
        return 1 if _double_equal(x, y) else -1
    if kind is list or kind is dict:
        if len(x) != len(y):
            return -1
        if kind is list:
            pending.extend(zip(x, y, strict=True))
            return 1 + len(x)
        for key, value in x.items():
            if key not in y:
                return -1
            pending.append((value, y[key]))
        return 1 + len(x)
    if x != y:  # Long, Boolean, String (null never meets a non-null here)
        return -1
    return 1 + (len(x) if kind is str else 0)


def java_equals(a: Any, b: Any, charge: Charge = _free) -> bool:
    """Java's a.equals(b) for the values JUEL sees (no coercion, EL 2.1 §1.9.2's
    last rule, and the `equals` method): the types must match (Long 5 is not
    Double 5.0, the String "5" is not the Long 5, true is not 1), Double as
    Double.equals (NaN equals NaN, 0.0 is not -0.0), a List element-wise, a Map
    by its keys and each value, again with equals. The walk stops at the first
    difference and charges the budget for what it visits.
    """
    pending = [(a, b)]
    visited = 0
    while pending:
        work = _step(*pending.pop(), pending)
        if work < 0:
            charge(visited)
            return False
        visited += work
        if visited > 4096:
            charge(visited)
            visited = 0
    charge(visited)
    return True


def _less(a: Any, b: Any, cmp: Compare) -> bool:
    """BooleanOperations.lt0: both operands are not null."""
    kinds = {type(a), type(b)}
    if float in kinds:
        return to_double(a) < to_double(b)
    if int in kinds:
        return to_long(a) < to_long(b)
    if str in kinds:
        return _text_less(_to_str(a), _to_str(b), cmp)
    if kinds == {bool}:
        return a < b
    raise ELException(
        f"Cannot compare {_java(a)} with {_java(b)} (EL 2.1 §1.8.1: not Comparable)"
    )


def compare(op: str, a: Any, b: Any, cmp: Compare, charge: Charge = _free) -> bool:
    """Return `a op b` for op in == != < > <= >= (EL 2.1 §1.8, §1.9)."""
    if op in ("==", "!="):
        return _equal(a, b, cmp, charge) is (op == "==")
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


def _int_value(number: int) -> int:
    """Long.intValue(): the low 32 bits, two's complement."""
    return (number - _INT_MIN) % 2**32 + _INT_MIN


def _index(key: Any) -> int:
    """ListELResolver's index (EL 2.1 §1.6): a Number's intValue(), a String's
    Integer.valueOf, a Boolean's 1 or 0; anything else fails."""
    if type(key) is bool:
        return 1 if key else 0
    if type(key) is int:
        return _int_value(key)
    if type(key) is float:  # Double.intValue(): truncated, NaN 0, saturated
        if math.isnan(key):
            return 0
        return (
            max(_INT_MIN, min(_INT_MAX, int(key)))
            if math.isfinite(key)
            else (_INT_MAX if key > 0 else _INT_MIN)
        )
    if type(key) is str:
        index = _integer(key, _INT_MIN, _INT_MAX)
        if index is not None:
            return index
    shown = _shown(key) if isinstance(key, str) else _java(key)
    raise ELException(f"Cannot use '{shown}' as a list index (EL 2.1 §1.6)")


# Java getters BeanELResolver reads as properties of the scalars JSON has
# (String.isEmpty() would be `empty`, a reserved word EL cannot name): Camunda
# gives a value, so they fail as ELException, never as the PropertyNotFound a
# conditional event's condition reads as false.
_BEAN_PROPERTIES: dict[type, frozenset[str]] = {
    str: frozenset({"blank", "bytes", "class"}),
    int: frozenset({"class"}),
    float: frozenset({"class", "naN", "infinite"}),
    bool: frozenset({"class"}),
}


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
    if key in _BEAN_PROPERTIES.get(type(base), ()):
        raise ELException(
            f"The property '{key}' of a {_java(base)} (a Java getter) is not "
            "supported here (EL 2.1 §1.6)"
        )
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


def _no_method(name: str, subject: Any) -> ELException:
    # javax.el.MethodNotFoundException (not a PropertyNotFoundException)
    return ELException(
        f"Cannot find method '{name}' in '{_java(subject)}' (EL 2.2 method call)"
    )


def _spin_key(key: Any, name: str) -> str:
    """The String a Spin method's name parameter is coerced to (EL 2.1 §1.18.2)."""
    if type(key) is str:
        return key
    if type(key) in (bool, int):
        return _to_str(key)
    raise ELException(f"Cannot coerce {_java(key)} to java.lang.String for {name}()")


def _contains(subject: Any, item: Any, cmp: Compare, charge: Charge) -> bool:
    if type(subject) is str:
        if type(item) is not str:  # contains(CharSequence): no coercion
            raise _cannot(item, "java.lang.CharSequence")
        return bool(cmp("in", item, subject))
    charge(len(subject))  # List.contains(o): o.equals(element)
    kind = type(item)
    if kind in (int, str, bool, type(None)):  # equals is type and value
        return any(type(e) is kind and e == item for e in subject)
    return any(java_equals(item, element, charge) for element in subject)


def _prop(subject: dict[str, Any], key: Any, *_: Any) -> Any:
    name = _spin_key(key, "prop")
    if name not in subject:  # Spin: SpinJsonPropertyException
        raise ELException(f"Unable to find property '{_shown(name)}' (Spin prop())")
    return subject[name]


def _has_prop(subject: dict[str, Any], key: Any, *_: Any) -> bool:
    return _spin_key(key, "hasProp") in subject


def _itself(subject: Any, *_: Any) -> Any:
    return subject


# Each method: the Java types that have it, and what it does.
_METHODS: dict[str, tuple[tuple[type, ...], Callable[..., Any]]] = {
    "contains": ((str, list), _contains),
    "size": ((list, dict), lambda subject, *_: len(subject)),
    "isEmpty": ((str, list, dict), lambda subject, *_: len(subject) == 0),
    "prop": ((dict,), _prop),
    "hasProp": ((dict,), _has_prop),
    "numberValue": ((int, float), _itself),  # a Boolean is not a Number here
    "stringValue": ((str,), _itself),
    "boolValue": ((bool,), _itself),
}


def call(
    name: str, subject: Any, args: tuple[Any, ...], cmp: Compare, charge: Charge
) -> Any:
    """Return `subject.name(*args)` as the Java method runs on the value.

    Only the methods the translator lets through (engine/spiff/juel.py): Object's
    equals; String's contains and isEmpty; List's contains, size and isEmpty;
    Map's size and isEmpty; Camunda Spin's prop, hasProp, numberValue,
    stringValue and boolValue on JSON data. A null subject fails as
    PropertyNotFoundException (JUEL's AstMethod), a method the value's type has
    not fails as MethodNotFoundException.
    """
    if subject is None:
        raise PropertyNotFound(
            f"Cannot call {name}(): its object is null (EL 2.1 §1.6, "
            "javax.el.PropertyNotFoundException)"
        )
    if name == "equals":
        return java_equals(subject, args[0], charge)
    kinds, method = _METHODS.get(name, ((), _itself))
    if _kind(subject) not in kinds:
        raise _no_method(name, subject)
    return method(subject, *args, cmp, charge)


def variable(read: Callable[[], Any]) -> Any:
    """VariableScope.getVariable: the variable's value, null when no scope
    holds it (`read` reads it by name: the nearest scope's value)."""
    try:
        return read()
    except NameError:
        return None


def has_variable(read: Callable[[], Any]) -> bool:
    """VariableScope.hasVariable: whether any scope holds the variable."""
    try:
        read()
    except NameError:
        return False
    return True


def java_text_order(text: str) -> bytes:
    """A sort key ordering texts as Java's String.compareTo does (by UTF-16
    code units)."""
    return text.encode("utf-16-be", "surrogatepass")


def text_map(entries: list[tuple[str, Any, Any]]) -> dict[str, Any]:
    """A camunda:map parameter whose keys are expressions, as Camunda 7's
    MapValueProvider builds it from (key text, key value, value) entries:
    each key's value is a key of a TreeMap (the entries sorted by key, a key
    met again keeps the later value); a null key fails (TreeMap's
    NullPointerException). Keys are text here: another value would not stay
    what Camunda keeps (a Long key, say) once stored as JSON, so it fails
    too, never a guessed text."""
    result: dict[str, Any] = {}
    for text, key, value in entries:
        if not isinstance(key, str):
            shown = "null" if key is None else f"{key!r} ({_java(key)})"
            raise ELException(
                f"The camunda:map entry key {text!r} evaluates to {shown}: a key "
                "here must be a text (Camunda 7 keeps the map in a TreeMap)"
            )
        result[key] = value
    return {k: result[k] for k in sorted(result, key=java_text_order)}


def engine_object(facts: Any, name: str) -> Any:
    """A property of Camunda 7's engine objects (`execution.processInstanceId`)
    from the facts the engine gives the running element; one it cannot give
    here fails (an incident), never a guessed value."""
    if not isinstance(facts, dict) or name not in facts:
        raise ELException(
            f"{name} is not available where this expression runs here (Laneway "
            "gives it to a task's expressions, listeners and scripts)"
        )
    return facts[name]


def _text_work(a: Any, b: Any) -> int:
    return (len(a) if type(a) is str else 0) + (len(b) if type(b) is str else 0)


def runtime(cmp: Compare, charge: Charge = _free) -> dict[str, Callable[..., Any]]:
    """Return the functions translated JUEL calls, comparing through `cmp` and
    charging the work a String coercion or a deep equals does to `charge`."""

    def arith_(op: str, a: Any, b: Any) -> int | float:
        if type(a) is str or type(b) is str:  # parsing is linear in the text
            charge(_text_work(a, b))
        return arith(op, a, b)

    def neg_(value: Any) -> int | float:
        if type(value) is str:
            charge(len(value))
        return neg(value)

    def compare_(op: str, a: Any, b: Any) -> bool:
        if type(a) is str or type(b) is str:
            charge(_text_work(a, b))
        return compare(op, a, b, cmp, charge)

    def call_(name: str, subject: Any, *args: Any) -> Any:
        return call(name, subject, args, cmp, charge)

    def text_(*parts: Any) -> str:
        texts = [to_text(part) for part in parts]
        charge(sum(len(t) for t in texts))
        return "".join(texts)

    return {
        "_el_arith_": arith_,
        "_el_neg_": neg_,
        "_el_cmp_": compare_,
        "_el_bool_": to_bool,
        "_el_get_": get,
        "_el_condition_": condition,
        "_el_call_": call_,
        "_el_text_": text_,
        "_el_var_": variable,
        "_el_has_": has_variable,
        "_el_object_": engine_object,
        "_el_map_": text_map,
    }
