"""DMN as Camunda Modeler writes it: S-FEEL cells, hit policies, result shapes, DRGs.

Cells are checked one by one through the sandboxed evaluator; decisions run
through the services (upload, case start) on PostgreSQL; the declarative DMN
scenarios of tests/conformance run here too (start, then the `[end]` checks),
until the conformance runner picks them up.
"""

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from engine.models import Case, Incident
from engine.services import case_start
from engine.spiff.dmn import (
    DecisionError,
    decision_evaluate,
    dmn_problems,
    dmn_typed,
    read_decisions,
)
from engine.spiff.dmn_feel import INPUT, FeelError, feel_expression, feel_unary_tests
from engine.spiff.scripting import script_engine
from processes.services import version_upload
from tests.conftest import BPMN_DIR, ROOT

CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.mark.parametrize(
    ("value", "type_ref", "expected"),
    [
        # IntegerDataTypeTransformer: a whole Number, or Integer.parseInt's text.
        (1.0, "integer", 1),
        ("150", "Integer", 150),
        (-7, "integer", -7),
        # LongDataTypeTransformer: Number.longValue truncates.
        (7.9, "long", 7),
        ("9000000000", "long", 9_000_000_000),
        # DoubleDataTypeTransformer: Number.doubleValue, Double.valueOf.
        (2, "double", 2.0),
        (" 1e3 ", "double", 1000.0),
        # BooleanDataTypeTransformer: a Boolean, "true" / "false" in any case.
        ("TRUE", "boolean", True),
        (False, "boolean", False),
        # StringDataTypeTransformer: String.valueOf.
        (True, "string", "true"),
        (1.0, "string", "1.0"),
        (1e7, "string", "1.0E7"),
        (5, "string", "5"),
        # DateDataTypeTransformer: "yyyy-MM-dd'T'HH:mm:ss" (kept as ISO text).
        ("2026-03-15T12:00:00", "date", "2026-03-15T12:00:00"),
        # IdentityDataTypeTransformer for any other name; null stays null.
        ("x", "number", "x"),
        (None, "integer", None),
    ],
)
def test_values_are_transformed_by_their_type_ref(value, type_ref, expected):
    got = dmn_typed(value, type_ref)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("value", "type_ref"),
    [
        (1.5, "integer"),
        ("1.0", "integer"),
        (True, "integer"),
        (2**31, "integer"),
        ("12abc", "long"),
        ("x", "double"),
        ("yes", "boolean"),
        (1, "boolean"),
        ("2026-03-15", "date"),
        (5, "date"),
    ],
)
def test_values_a_type_cannot_take_are_refused(value, type_ref):
    with pytest.raises(ValueError):
        dmn_typed(value, type_ref)


def _test(cell: str, value: Any, **variables: Any) -> bool:
    python = feel_unary_tests(cell)
    if python is None:
        return True
    scope = {**variables, INPUT: value}
    return script_engine().environment.evaluate(python, scope) is True


@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        ("< 1000", 999, True),
        ("< 1000", 1000, False),
        ("<= 1000", 1000, True),
        ("> 1000", 1000, False),
        (">= 5000", 5000, True),
        (">= 5000", 4999.99, False),
        ("[1000..5000]", 1000, True),
        ("[1000..5000]", 5000, True),
        ("[1000..5000]", 5000.01, False),
        ("]1000..5000[", 1000, False),
        ("]1000..5000[", 4999, True),
        ("]1000..5000[", 5000, False),
        ("(1000..5000)", 1000, False),
        ("[1000..5000)", 4999, True),
        ("[1000..5000)", 5000, False),
        ("-5", -5, True),
        ("< -5", -6, True),
        ("1000", 1000.0, True),
        ('"finance"', "finance", True),
        ('"finance"', "Finance", False),
        ('"finance","it"', "it", True),
        ('"finance", "it"', "hr", False),
        ('not("finance","it")', "hr", True),
        ('not("finance","it")', "it", False),
        ("not(< 10)", 5, False),
        ("not([1..2])", 3, True),
        ("true", True, True),
        ("true", 1, False),
        ("false", False, True),
        ("false", None, False),
        ("null", None, True),
        ("True", True, True),  # SpiffWorkflow-era tables: Python literals
        ("None", None, True),
        ("null", 0, False),
        ('date("2026-01-01")', "2026-01-01", True),
        ('< date("2026-01-01")', "2025-12-31", True),
        ('[date("2026-01-01")..date("2026-12-31")]', "2026-06-30", True),
        ('[date("2026-01-01")..date("2026-12-31")]', "2027-01-01", False),
        ('> date and time("2026-01-01T10:00:00")', "2026-01-01T10:00:01", True),
        ("-", "anything", True),
        ("", None, True),
        ("< 1000", None, False),  # FEEL: a comparison with null is not a match
        ("[1..2]", None, False),
    ],
)
def test_input_entry_cell(cell, value, expected):
    assert _test(cell, value) is expected


def test_input_entry_compares_with_variables_and_paths():
    assert _test("< limit", 5, limit=10) is True
    assert _test("[order.low..order.high]", 5, order={"low": 1, "high": 4}) is False
    assert _test("limit * 2", 20, limit=10) is True


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ('"clerk"', {}, "clerk"),
        ("42", {}, 42),
        ("2.5", {}, 2.5),
        ("-1", {}, -1),
        ("true", {}, True),
        ("false", {}, False),
        ("null", {}, None),
        ("amount * 0.01", {"amount": 6000}, 60.0),
        (
            "(annual_salary/12)/invoiceAmount",
            {"annual_salary": 1200, "invoiceAmount": 100},
            1.0,
        ),
        ('"budget " + department', {"department": "hr"}, "budget hr"),
        ("amount < 1000 and not(urgent)", {"amount": 5, "urgent": False}, True),
        ("a = 1 or b != 2", {"a": 2, "b": 2}, False),
        ("order.total ** 2", {"order": {"total": 3}}, 9),
        ('date("2026-02-01")', {}, "2026-02-01"),
    ],
)
def test_output_expression(text, variables, expected):
    python = feel_expression(text)
    assert script_engine().environment.evaluate(python, dict(variables)) == expected


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ('starts with(name, "A")', "unexpected 'with'"),
        ('contains(name, "A")', "function contains\\(\\) is not supported"),
        ("count(items) > 1", "not supported"),
        ("? > 5", "unexpected character"),
        ("[1..2", "ends too early"),
        ("[1..2}", "unexpected character"),
        ('date("yesterday")', "not ISO 8601"),
        ("__class__", "cannot be a variable name"),
        ("import", "cannot be a variable name"),
        ("'single'", "unexpected character"),
    ],
)
def test_cells_outside_s_feel_are_refused_with_the_reason(cell, why):
    with pytest.raises(FeelError, match=why):
        feel_unary_tests(cell)


def _dmn(*rules: str, hit: str = "UNIQUE", extra: str = "") -> etree._Element:
    rows = "".join(
        f'<rule id="Rule_{i}"><inputEntry id="In_{i}">'
        f"<text>{escape(cell)}</text></inputEntry>"
        f'<outputEntry id="Out_{i}"><text>1</text></outputEntry></rule>'
        for i, cell in enumerate(rules, start=1)
    )
    return etree.fromstring(
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" '
        f'name="d" namespace="x"><decision id="route" name="Route">{extra}'
        f'<decisionTable id="t" hitPolicy="{hit}"><input id="i" label="Amount">'
        '<inputExpression id="e"><text>amount</text></inputExpression></input>'
        f'<output id="o" name="level" />{rows}</decisionTable></decision></definitions>'
    )


def test_upload_problem_names_file_decision_rule_and_column():
    problems = dmn_problems([("route.dmn", _dmn("< 10", "contains(x)"))])
    assert len(problems) == 1
    assert problems[0].element_id == "Rule_2"
    assert problems[0].message.startswith(
        "route.dmn: decision 'route', rule 2 ('Rule_2'), input 'Amount': "
        "input entry 'contains(x)' is not S-FEEL"
    )


@pytest.mark.parametrize(
    ("hit", "extra", "why"),
    [
        ("OUTPUT ORDER", "", "hit policy OUTPUT ORDER is not supported"),
        ("PRIORITY", "", "PRIORITY needs output values"),
        (
            "UNIQUE",
            '<informationRequirement id="r"><requiredDecision href="#nope"/>'
            "</informationRequirement>",
            "requires the decision 'nope'",
        ),
        (
            "UNIQUE",
            '<knowledgeRequirement id="k"><requiredKnowledge href="#b"/>'
            "</knowledgeRequirement>",
            "business knowledge models are not supported",
        ),
    ],
)
def test_unsupported_decision_constructs_are_refused(hit, extra, why):
    messages = [
        p.message for p in dmn_problems([("r.dmn", _dmn("1", hit=hit, extra=extra))])
    ]
    assert any(why in m for m in messages), messages


def test_a_refused_cell_of_a_stored_decision_fails_instead_of_matching():
    """A version stored before a check existed: its refused cell is no "any"."""
    decisions, problems = read_decisions("r.dmn", _dmn("< 10", "contains(x)"))
    assert [p.element_id for p in problems] == ["Rule_2"]

    def evaluate(expression, context):
        return script_engine().environment.evaluate(expression, context)

    table = {d.id: d for d in decisions}
    with pytest.raises(DecisionError, match=r"rule 2 \('Rule_2'\).*contains"):
        decision_evaluate(table, "route", {"amount": 50}, evaluate)


# Through the services -------------------------------------------------------


def _upload(users, bpmn: Path, dmn: list[Path]):
    return version_upload(
        user=users["analyst"],
        bpmn=bpmn.read_bytes(),
        filename=bpmn.name,
        dmn_files=[(p.name, p.read_bytes()) for p in dmn],
    )


def _decide(tmp_path: Path, decision: str, result: str = "") -> Path:
    """Write tests/bpmn/decide_template.bpmn calling `decision` (start, rule, end)."""
    text = (BPMN_DIR / "decide_template.bpmn").read_text()
    path = tmp_path / "decide.bpmn"
    path.write_text(
        text.replace("DECISION", decision).replace("RESULT_ATTRIBUTES", result)
    )
    return path


@pytest.mark.django_db
def test_camunda_invoice_decisions_deploy_and_decide(users, tmp_path):
    """Camunda's invoice DMN (two decisions, a requirement, COLLECT) as shipped."""
    dmn = CORPUS / "camunda" / "invoiceBusinessDecisions.dmn"
    path = _decide(
        tmp_path,
        "invoice-assign-approver",
        ' camunda:resultVariable="result" camunda:mapDecisionResult="collectEntries"',
    )
    deployed = _upload(users, path, [dmn])[0].version
    expectations = [
        ({"amount": 30, "invoiceCategory": "Misc"}, ["accounting", "sales"]),
        ({"amount": 500, "invoiceCategory": "Misc"}, ["management"]),
        ({"amount": 1500, "invoiceCategory": "Misc"}, ["management"]),
        (
            {"amount": 900, "invoiceCategory": "Travel Expenses"},
            ["accounting", "sales"],
        ),
        ({"amount": 900, "invoiceCategory": "Software License Costs"}, ["management"]),
    ]
    for data, groups in expectations:
        case, _ = case_start(
            user=users["padmin"], key=deployed.definition.key, data=data
        )
        case.refresh_from_db()
        assert (case.status, case.data["result"]) == ("completed", groups), data


@pytest.mark.django_db
def test_spiff_dialect_dmn_decides_as_dmn_says(users, tmp_path):
    """tests/bpmn/check_amounts.dmn: SpiffWorkflow's dialect (Python `True`).

    Its second rule (an empty cell: any value) overlaps the first under hit
    policy UNIQUE: where both match, DMN says there is no unique result, so the
    case stops with an incident naming both rules instead of taking the first.
    """
    path = _decide(
        tmp_path,
        "Check_Amount",
        ' camunda:resultVariable="isMatch" camunda:mapDecisionResult="singleEntry"',
    )
    deployed = _upload(users, path, [BPMN_DIR / "check_amounts.dmn"])[0].version

    def start(salary, invoice):
        data = {"annual_salary": salary, "invoiceAmount": invoice}
        case, _ = case_start(
            user=users["padmin"], key=deployed.definition.key, data=data
        )
        return Case.objects.get(pk=case.pk)

    other = start(1200, 50)
    assert (other.status, other.data["isMatch"]) == ("completed", False)
    overlap = start(1200, 100)
    incident = Incident.objects.get(case=overlap, status="open")
    assert "UNIQUE, but rules 1, 2 all match" in incident.message
    assert "isMatch" not in overlap.data
