"""Translated JUEL evaluates as EL 2.1 says (adapter only, no DB).

One table: a JUEL expression, its variables, and the value Camunda 7's JUEL
(JSR-245 EL 2.1 as org.camunda.bpm.impl.juel runs it) gives, or the error it
raises. Long and Double are told apart: 2 is a Long, 2.0 a Double.
"""

import math
import re
from dataclasses import dataclass

import pytest

from engine.spiff import juel_to_python
from engine.spiff.sandbox import evaluate
from engine.spiff.scripting import check_script, expression_limits, script_engine


@dataclass(frozen=True)
class Fails:
    """Camunda raises: the step fails (an incident), with this in the message."""

    message: str


NAN = math.nan
INF = math.inf
COERCE = Fails("Cannot coerce")

TABLE = [
    # §1.7.1 A {+,-,*} B: null is 0, both null is (Long)0
    ("${x + 1}", {"x": None}, 1),
    ("${x + y}", {"x": None, "y": None}, 0),
    ("${x - 1}", {"x": None}, -1),
    ("${x * 5}", {"x": None}, 0),
    ("${x + 1.5}", {"x": None}, 1.5),
    ("${2 * 3}", {}, 6),
    ("${2.0 * 3}", {}, 6.0),
    ("${n + 1}", {"n": 0.5}, 1.5),
    # §1.7.1: a String with '.', 'e' or 'E' makes it Double, else Long
    ('${"5" + 1}', {}, 6),
    ('${"1.5" + 1}', {}, 2.5),
    ('${"1e3" + 1}', {}, 1001.0),
    ('${"" + 1}', {}, 1),  # §1.18.3: "" is 0
    ("${s + 1}", {"s": "x.y"}, COERCE),  # Double.valueOf fails
    ('${" 5" + 1}', {}, COERCE),  # Long.valueOf does not trim
    ("${s + 1}", {"s": "1" * 100_000}, COERCE),  # beyond a Long
    ('${"abc" + 1}', {}, COERCE),
    ("${true + 1}", {}, COERCE),  # §1.18.3: Boolean to Number is an error
    ("${order + 1}", {"order": {}}, COERCE),
    ("${9223372036854775807 + 1}", {}, -9223372036854775808),  # Java long wraps
    # §1.7.2 A {/,div} B: always Double (both null: (Long)0)
    ("${7 / 2}", {}, 3.5),
    ("${6 div 3}", {}, 2.0),
    ("${x / 2}", {"x": None}, 0.0),
    ("${x / y}", {"x": None, "y": None}, 0),
    ('${"9" / 2}', {}, 4.5),
    ("${1 / 0}", {}, INF),  # Java double division: no exception
    ("${-1 / 0}", {}, -INF),
    ("${0 / 0}", {}, NAN),
    # §1.7.3 A {%,mod} B: Long remainder keeps the dividend's sign
    ("${7 % 3}", {}, 1),
    ("${-7 % 3}", {}, -1),
    ("${7 mod -3}", {}, 1),
    ("${7.5 % 2}", {}, 1.5),
    ('${"7.5" % 2}', {}, 1.5),
    ("${x % 3}", {"x": None}, 0),
    ("${x mod y}", {"x": None, "y": None}, 0),
    ("${7 % 0}", {}, Fails("/ by zero")),
    ("${7.0 % 0}", {}, NAN),
    # §1.7.4 -A
    ("${-x}", {"x": None}, 0),
    ("${-n}", {"n": 5}, -5),
    ("${-n}", {"n": 2.5}, -2.5),
    ('${-"5"}', {}, -5),
    ('${-"2.5"}', {}, -2.5),
    ("${-flag}", {"flag": True}, Fails("Cannot negate")),
    # §1.8.1 relational: a String against a number is coerced to the number
    ('${"5000" > 1000}', {}, True),
    ("${amount > 1000}", {"amount": "5000"}, True),
    ("${amount > 1000}", {"amount": ""}, False),  # "" is 0
    ("${amount > 1000}", {"amount": "abc"}, COERCE),
    ("${amount > 1000}", {"amount": "50.5"}, COERCE),  # coerced to Long
    ("${amount > 1000.0}", {"amount": "50.5"}, False),  # coerced to Double
    ("${amount >= 1000}", {"amount": 1000.0}, True),
    ("${amount gt 1000}", {"amount": 1500}, True),
    ("${amount < 10}", {"amount": None}, False),  # null: false
    ("${a <= b}", {"a": None, "b": None}, True),  # A==B first
    ("${a >= 1}", {"a": None}, False),
    ('${"b" > "a"}', {}, True),
    ('${"10" < "9"}', {}, True),  # two Strings compare as text
    ("${true > false}", {}, True),
    ("${order > 1}", {"order": {}}, COERCE),
    # §1.9.1 equality
    ('${approved == "true"}', {"approved": True}, True),
    ('${approved == "TRUE"}', {"approved": True}, True),
    ('${approved == "true"}', {"approved": False}, False),
    ('${approved == "yes"}', {"approved": False}, True),  # "yes" is false
    ('${approved != "true"}', {"approved": False}, True),
    ("${approved == true}", {"approved": "true"}, True),
    ('${count == "5"}', {"count": 5}, True),
    ("${count == 5}", {"count": "5"}, True),
    ("${count != 5}", {"count": "5"}, False),
    ("${count == 5.0}", {"count": 5}, True),
    ('${count == "abc"}', {"count": 5}, COERCE),
    ("${count == true}", {"count": 1}, COERCE),
    ('${"" == 0}', {}, True),
    ("${x == null}", {"x": None}, True),
    ("${x != null}", {"x": None}, False),
    ("${x == 0}", {"x": None}, False),  # null equals only null
    ('${status == "open"}', {"status": "open"}, True),
    ("${status eq 'open'}", {"status": "closed"}, False),
    # §1.6 property access: a map's missing key, a null base: null
    ("${order.total}", {"order": {}}, None),
    ("${order.total > 100}", {"order": {}}, False),
    ("${order.total > 100}", {"order": {"total": 500}}, True),
    ("${order['total'] + 1}", {"order": {"total": 2}}, 3),
    ("${order.customer.name}", {"order": {}}, None),
    ("${order.total}", {"order": None}, None),
    ("${empty order.note}", {"order": {}}, True),
    ("${items[0]}", {"items": [7]}, 7),
    ("${items['0']}", {"items": [7]}, 7),
    ("${items[5]}", {"items": [7]}, None),  # out of range: null
    ("${items[-1]}", {"items": [7]}, None),
    ("${name.length}", {"name": "abc"}, Fails("Property 'length' not found")),
    # a variable that does not exist is not null: Camunda cannot resolve it
    ("${missing.total}", {}, Fails("missing")),
    ("${missing + 1}", {}, Fails("missing")),
    # §1.10 empty
    ("${empty x}", {"x": None}, True),
    ("${empty x}", {"x": ""}, True),
    ("${empty x}", {"x": []}, True),
    ("${empty x}", {"x": 0}, False),
    # §1.18.2 to Boolean (operands of ! && || and the test of ?:)
    ("${flag ? 1 : 2}", {"flag": "TRUE"}, 1),
    ("${flag ? 1 : 2}", {"flag": "tRuE"}, 1),
    ("${flag ? 1 : 2}", {"flag": None}, 2),
    ("${flag ? 1 : 2}", {"flag": ""}, 2),
    ("${flag ? 1 : 2}", {"flag": 5}, COERCE),
    ("${!flag}", {"flag": "false"}, True),
    ("${flag && true}", {"flag": "true"}, True),
    ("${flag || false}", {"flag": 0}, COERCE),
    ("${flag || x.y}", {"flag": True}, True),  # §1.8.2: short circuit, x missing
    ("${flag && x.y}", {"flag": "no"}, False),
    ("${not flag}", {"flag": None}, True),
    ("${empty null}", {}, True),
    ("${empty x}", {"x": {}}, True),
    ("${empty x}", {"x": " "}, False),
    ("${empty x}", {"x": False}, False),
    # §1.7.1: there is no String concatenation: + coerces both to a number
    ('${"a" + "b"}', {}, COERCE),
    ('${"1" + "2"}', {}, 3),
    ('${-"abc"}', {}, COERCE),
    # Java's methods (EL 2.2 method call, as Camunda's JUEL runs it): equals is
    # Object.equals, type-strict and with no coercion (unlike ==, §1.9.2)
    ("${a.equals(b)}", {"a": 5, "b": 5.0}, False),  # Long vs Double
    ("${a == b}", {"a": 5, "b": 5.0}, True),  # == coerces to Double
    ("${a.equals(b)}", {"a": 5, "b": 5}, True),
    ("${a.equals(b)}", {"a": 5, "b": "5"}, False),
    ("${a.equals('5')}", {"a": "5"}, True),
    ("${a.equals(true)}", {"a": "true"}, False),
    ("${a.equals(true)}", {"a": True}, True),
    ("${a.equals(1)}", {"a": True}, False),
    ("${a.equals(null)}", {"a": "x"}, False),
    ("${a.equals(b)}", {"a": 0.0, "b": -0.0}, False),  # Double.equals
    ("${(0/0).equals(0/0)}", {}, True),  # Double.equals: NaN equals NaN
    ("${a.equals(b)}", {"a": [1, "x"], "b": [1, "x"]}, True),
    ("${a.equals(b)}", {"a": [1], "b": [1.0]}, False),  # List.equals: equals
    ("${a.equals(b)}", {"a": {"k": [1]}, "b": {"k": [1]}}, True),
    ("${a.equals(b)}", {"a": {"k": 1}, "b": {"k": 1.0}}, False),
    ("${a.equals(b)}", {"a": {"k": 1}, "b": [1]}, False),
    ("${a.equals(b)}", {"a": None, "b": None}, Fails("its object is null")),
    # == on two Maps or Lists is o1.equals(o2) (§1.9.2, last rule): no coercion
    ("${a == b}", {"a": {"k": 1}, "b": {"k": 1.0}}, False),
    ("${a == b}", {"a": [1, 2], "b": [1, 2]}, True),
    ("${a != b}", {"a": [True], "b": [1]}, True),
    # List.contains(o): o.equals(element); String.contains(CharSequence)
    ("${a.contains(1)}", {"a": [1.0, "1"]}, False),
    ("${a.contains(1)}", {"a": [2, 1]}, True),
    ("${a.contains(true)}", {"a": [1]}, False),
    ("${a.contains(null)}", {"a": [None]}, True),
    ("${a.contains(b)}", {"a": [{"k": [1]}], "b": {"k": [1]}}, True),
    ("${a.contains(b)}", {"a": [{"k": [1]}], "b": {"k": [1.0]}}, False),
    ("${a.contains('ur')}", {"a": "urgent"}, True),
    ("${a.contains(5)}", {"a": "a5"}, Fails("Cannot coerce")),
    ("${a.contains('k')}", {"a": {"k": 1}}, Fails("Cannot find method 'contains'")),
    ("${a.size()}", {"a": "abc"}, Fails("Cannot find method 'size'")),  # length()
    ("${a.size()}", {"a": {"k": 1}}, 1),
    ("${a.isEmpty()}", {"a": ""}, True),
    ("${a.isEmpty()}", {"a": 0}, Fails("Cannot find method 'isEmpty'")),
    # Camunda Spin: numberValue() of a String node fails
    ("${a.prop('n').numberValue() > 1}", {"a": {"n": 2}}, True),
    ("${a.prop('n').numberValue() > 1}", {"a": {"n": "2"}}, Fails("numberValue")),
    ("${a.prop('n').stringValue()}", {"a": {"n": 2}}, Fails("stringValue")),
    ("${a.prop('m')}", {"a": {"n": 2}}, Fails("Unable to find property 'm'")),
    ("${a.hasProp('n')}", {"a": {"n": 2}}, True),
    # §1.8.1 with a Map or List: coercion to String is its Java toString,
    # which is not reproduced here: an incident, never a Python comparison
    ("${s < m}", {"s": "a", "m": {"k": 1}}, Fails("Cannot compare java.util.Map")),
    ("${s == m}", {"s": "a", "m": [1]}, Fails("Cannot compare java.util.List")),
    ("${s > m}", {"s": "a", "m": [1]}, Fails("Cannot compare java.util.List")),
    ("${m < n}", {"m": [1], "n": [2]}, Fails("not Comparable")),
    # §1.8.1: two Strings compare as String.compareTo, by UTF-16 code units
    ("${a < b}", {"a": "\uffff", "b": "\U0001f600"}, False),
    ("${a > b}", {"a": "\uffff", "b": "\U0001f600"}, True),
    ("${a < b}", {"a": "a", "b": "\U0001f600"}, True),
    # §1.18.3 String to Long / Double as Long.valueOf / Double.valueOf
    ("${s + 1}", {"s": "0" * 500 + "5"}, 6),  # leading zeros, any length
    ("${s + 1}", {"s": "9223372036854775808"}, COERCE),
    ("${s + 1}", {"s": "+5"}, 6),
    ("${s + 1.0}", {"s": "0" * 500 + "1.5"}, 2.5),  # no cap on the length
    ("${s + 1.0}", {"s": "1" * 500}, INF),  # Double.valueOf: Infinity
    ("${s + 1.0}", {"s": " 1.5\t"}, 2.5),  # Double.valueOf trims
    ("${s + 1.0}", {"s": "0x1.8p1"}, 4.0),  # a hex Double
    ("${s + 1.0}", {"s": "1.5d"}, 2.5),
    ("${s + 1.0}", {"s": "\u0665.5"}, COERCE),  # FloatingDecimal: ASCII digits
    ("${s + 1}", {"s": "\u0665"}, 6),  # Long.valueOf: Character.digit
    # an integer literal beyond a Long: JUEL's parser fails (test_spiff_juel.py)
    ("${9223372036854775807 * 2}", {}, -2),
    # §1.6: a List index is Integer-valued (Long.intValue keeps 32 bits)
    ("${items[4294967296]}", {"items": [7]}, 7),
    ("${items[1.9]}", {"items": [7, 8]}, 8),
    ("${items['4294967296']}", {"items": [7]}, Fails("as a list index")),
    ("${items[true]}", {"items": [7, 8]}, 8),
    # §1.6: a Java getter of a String (BeanELResolver): Camunda gives a value
    ("${name.bytes}", {"name": "a"}, Fails("(a Java getter) is not supported")),
    ("${name.class}", {"name": "a"}, Fails("(a Java getter) is not supported")),
    ("${name.length}", {"name": "a"}, Fails("Property 'length' not found")),
]


def _evaluate(juel, variables):
    return evaluate(juel_to_python(juel), dict(variables), expression_limits())


def _same(value, expected):
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(value, float) and math.isnan(value)
    return type(value) is type(expected) and value == expected


@pytest.mark.parametrize(
    ("juel", "variables", "expected"),
    TABLE,
    ids=[f"{juel} {variables}" for juel, variables, _ in TABLE],
)
def test_translated_juel_gives_what_el_2_1_gives(juel, variables, expected):
    if isinstance(expected, Fails):
        with pytest.raises(Exception, match=re.escape(expected.message)):
            _evaluate(juel, variables)
    else:
        value = _evaluate(juel, variables)
        assert _same(value, expected), f"{value!r} is not {expected!r}"


@pytest.mark.parametrize(
    ("juel", "value", "expected"),
    [
        ("${approved}", True, True),
        (
            "${approved}",
            "True",
            "condition expression returns non-Boolean: 'True' (java.lang.String)",
        ),
        ("${approved}", None, "condition expression returns null"),
        (
            "${approved}",
            1.5,
            "condition expression returns non-Boolean: 1.5 (java.lang.Double)",
        ),
        (
            "${approved}",
            {"a": 1},
            "condition expression returns non-Boolean: a java.util.Map",
        ),
        ("${approved.x}", {"a": 1}, "condition expression returns null"),
    ],
)
def test_a_whole_condition_is_not_coerced(juel, value, expected):
    # Camunda 7 UelExpressionCondition.evaluate (ensureNotNull, ensureInstanceOf
    # Boolean); MultiInstanceActivityBehavior likewise for a completion condition.
    source = juel_to_python(juel, condition="Completion condition of user task 'T'")
    environment = script_engine().environment
    if isinstance(expected, str):
        message = f"Completion condition of user task 'T': {expected}"
        with pytest.raises(Exception, match=re.escape(message)):
            environment.evaluate(source, {"approved": value})
    else:
        assert environment.evaluate(source, {"approved": value}) is expected


@pytest.mark.parametrize(
    "source",
    ["_el_arith_ = 1", "del _el_get_", "_el_other_(1)", "_binop_('+', 1, 2)"],
)
def test_scripts_may_call_the_el_operators_but_not_rebind_them(source):
    assert check_script(source) is not None
    assert check_script("total = _el_arith_('+', None, 1)") is None


@pytest.mark.parametrize(
    ("juel", "shown"), [("${1 / 0}", "Infinity"), ("${-1 / 0}", "-Infinity")]
)
def test_an_infinite_value_fails_before_it_reaches_case_data(juel, shown):
    # Camunda stores the Double; JSON (case data) has no Infinity or NaN.
    environment = script_engine().environment
    with pytest.raises(Exception, match=f"is {shown}, which case data"):
        environment.evaluate(juel_to_python(juel), {})
    assert environment.evaluate(juel_to_python("${1 / 0 > 1}"), {}) is True
