"""JUEL → Python translation and timer-literal normalization (adapter only, no DB)."""

import re

import pytest
from lxml import etree

from engine.spiff import JuelError, juel_to_python
from engine.spiff.normalize import normalize
from engine.spiff.scripting import script_engine

B = "_el_bool_"  # EL's coercion to Boolean (sandbox/el.py, EL 2.1 §1.18.2)


# The text of the translation; what it evaluates to: test_spiff_juel_el.py.
@pytest.mark.parametrize(
    ("juel", "python"),
    [
        ("${approved}", "approved"),
        ("#{!approved}", f"(not {B}(approved))"),
        ("${amount > 1000}", "_el_cmp_('>', amount, 1000)"),
        ("${a && b || !c}", f"(({B}(a) and {B}(b)) or (not {B}(c)))"),
        (
            "${a and not b or n > 1}",
            f"(({B}(a) and (not {B}(b))) or _el_cmp_('>', n, 1))",
        ),
        (
            "${x eq 'y' && n ge 2}",
            "(_el_cmp_('==', x, 'y') and _el_cmp_('>=', n, 2))",
        ),
        ('${decision != "REJECT"}', "_el_cmp_('!=', decision, 'REJECT')"),
        ("${empty comment}", "(comment in (None, '', [], {}))"),
        (
            "${order.total > 10}",
            "_el_cmp_('>', _el_get_(order, 'total'), 10)",
        ),
        ("${order['total']}", "_el_get_(order, 'total')"),
        ("${x == null}", "_el_cmp_('==', x, None)"),
        # Java methods run as the value's Java type has them (sandbox/el.py
        # `call`): Camunda Spin on a JSON variable (JSON data here), equals
        (
            '${customer.prop("age").numberValue() >= 21}',
            "_el_cmp_('>=', _el_call_('numberValue', "
            "_el_call_('prop', customer, 'age')), 21)",
        ),
        ("${customer.hasProp('vip')}", "_el_call_('hasProp', customer, 'vip')"),
        ("${a.equals(b)}", "_el_call_('equals', a, b)"),
        ("${!items.isEmpty()}", "(not _el_call_('isEmpty', items))"),
        ("${items.size() > 2}", "_el_cmp_('>', _el_call_('size', items), 2)"),
        ("${a ? 1 : 2}", f"(1 if {B}(a) else 2)"),
        # a name before ':' is a namespace prefix only when `f(` follows (JUEL)
        ("${a ? b : c}", f"(b if {B}(a) else c)"),
        ("${a?yes:no}", f"(yes if {B}(a) else no)"),
        ("${ amount * 2 mod 3 }", "_el_arith_('%', _el_arith_('*', amount, 2), 3)"),
        ("${-x div 007}", "_el_arith_('/', _el_neg_(x), 7)"),
        ("${a == 'it\\'s'}", "_el_cmp_('==', a, \"it's\")"),
        ('${a == "say \\"hi\\""}', "_el_cmp_('==', a, 'say \"hi\"')"),
        ("${a == 'C:\\\\dir'}", "_el_cmp_('==', a, 'C:\\\\dir')"),
        ("${x > 1.5e3}", "_el_cmp_('>', x, 1.5e3)"),
        ("${\tx >\n1 }", "_el_cmp_('>', x, 1)"),
    ],
)
def test_supported_juel_translates_to_python(juel, python):
    assert juel_to_python(juel) == python


@pytest.mark.parametrize(
    ("juel", "why"),
    [
        ("${bean.score(a, b) > 21}", "the method score() is not supported: it is Java"),
        ("${fn:length(x)}", "function calls"),
        ("${a ? fn:f(x) : c}", "function calls"),
        ("Dear ${name}", "single ${...} expression"),
        ("${a} ${b}", "single ${...} expression"),
        ("${}", "empty"),
        ("${a ==}", "unexpected"),
        ("${a @ b}", "unexpected character"),
        ("${__class__}", "cannot be used"),
        ("${lambda}", "cannot be used"),
        # JUEL's parser: an integer literal is Long.valueOf, which fails beyond
        ("${x > 9223372036854775808}", "beyond a 64-bit Long"),
        ("${x > 1" + "0" * 5000 + "}", "beyond a 64-bit Long"),
        ("${name.empty}", "expected a property name"),  # §1.17: a reserved word
        # JUEL's scanner: a string knows only the escapes \\ and \<its quote>
        ("${a == 'line\\n'}", "invalid escape sequence \\n"),
        ('${a == "it\\\'s"}', "invalid escape sequence \\'"),
        ("${x > \u0665}", "unexpected character"),  # Scanner: ASCII digits
        # Scanner: Character.isWhitespace, which a no-break space is not
        ("${x\u00a0> 1}", "unexpected character"),
    ],
)
def test_juel_outside_the_subset_is_refused_with_a_reason(juel, why):
    with pytest.raises(JuelError, match=re.escape(why)):
        juel_to_python(juel)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"approved": True}, True),
        ({"approved": False}, False),
    ],
)
def test_translated_condition_evaluates_like_juel(data, expected):
    source = juel_to_python("${approved && amount <= 500 || !approved && empty note}")
    env = script_engine()
    value = env.environment.evaluate(source, {**data, "amount": 100, "note": "x"})
    assert value is expected


@pytest.mark.parametrize(
    ("juel", "value", "expected"),
    [
        ("${approved}", True, True),
        ("${approved}", False, False),
        ("${approved}", "false", "non-Boolean: 'false' (java.lang.String)"),
        ("${approved}", "true", "non-Boolean: 'true' (java.lang.String)"),
        ("${approved}", "", "non-Boolean: '' (java.lang.String)"),
        ("${approved}", 1, "non-Boolean: 1 (java.lang.Long)"),
        ("${approved}", None, "condition expression returns null"),
        ("${!approved}", "false", True),  # an operand of ! is coerced (§1.18.2)
        ("${!approved}", None, True),
        ("${approved && true}", "false", False),
        ("${approved == true}", "true", True),
        ("${approved == false}", "false", True),
        ("${approved ? true : false}", "false", False),
        ("${approved ? 'a' : false}", "true", "non-Boolean: 'a' (java.lang.String)"),
        ("${approved == 5}", "5", True),  # EL coerces the string to a number
        ("${approved == 5}", 5, True),
        ("${approved != 5}", "5", False),
        ("${approved == '7'}", 7, True),
        ("${approved == 'abc'}", "abc", True),
        ("${approved == 5}", "6", False),
    ],
)
def test_a_condition_must_be_a_boolean_as_in_camunda(juel, value, expected):
    # Camunda 7 UelExpressionCondition.evaluate: "condition expression returns
    # null" / "returns non-Boolean"; operands are coerced as EL 2.1 says.
    source = juel_to_python(juel, condition="Condition of sequence flow 'F'")
    env = script_engine()
    if isinstance(expected, str):
        with pytest.raises(Exception, match=re.escape(expected)):
            env.environment.evaluate(source, {"approved": value})
    else:
        assert env.environment.evaluate(source, {"approved": value}) is expected


def test_a_condition_that_is_a_boolean_by_its_form_is_not_checked():
    where = "Condition of sequence flow 'F'"
    assert juel_to_python("${a > 1}", condition=where) == "_el_cmp_('>', a, 1)"
    assert juel_to_python("${a}", condition=where) == f"_el_condition_(a, {where!r})"
    # A conditional event's is always wrapped: the mark of translated JUEL.
    checked = juel_to_python("${a > 1}", condition=where, checked=True)
    assert checked == f"_el_condition_(_el_cmp_('>', a, 1), {where!r})"


def _timer(text):
    root = etree.fromstring(
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="d"><bpmn:process id="p"><bpmn:intermediateCatchEvent id="t">'
        "<bpmn:timerEventDefinition>"
        f"<bpmn:timeDuration>{text}</bpmn:timeDuration>"
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent></bpmn:process>"
        "</bpmn:definitions>"
    )
    problems = normalize(root)
    return root.find(".//{*}timeDuration").text, problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT72H", "'PT72H'"),
        ("P1DT2H30M", "'P1DT2H30M'"),
        ("R3/PT1H", "'R3/PT1H'"),
        ("2030-01-01T09:00:00Z", "'2030-01-01T09:00:00Z'"),
        ("2030-01-01", "'2030-01-01'"),
        ("'PT1H'", "'PT1H'"),
        ("wait_for", "wait_for"),
        ("${dueIn}", "dueIn"),
    ],
)
def test_iso_timer_literals_are_quoted_and_expressions_kept(text, expected):
    assert _timer(text) == (expected, [])


def test_normalizing_twice_changes_nothing():
    once, _ = _timer("PT72H")
    assert _timer(once) == ("'PT72H'", [])
