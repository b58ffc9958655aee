"""Constructs the engine cannot run are refused at upload, located; the coverage page.

Every `[refused]` conformance scenario (tests/conformance/scenarios/) is uploaded
through `processes.services.version_upload`: it must be refused, naming the
scenario's element with a line and the reason, storing nothing. The coverage page
docs/bpmn-coverage.md is generated from the same tables the checker uses, and
must list every element of the BPMN 2.0 schema.
"""

import importlib.util
import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from lxml import etree

from engine.spiff import coverage_markdown, support
from processes.errors import BpmnInvalid
from processes.models import ProcessVersion
from processes.services import version_upload
from tests.processes.uploads import api_upload_refused

CONFORMANCE = Path(__file__).resolve().parent.parent / "conformance"
SCENARIOS = sorted((CONFORMANCE / "scenarios").glob("*.toml"))
REFUSED = [path for path in SCENARIOS if "refused" in tomllib.loads(path.read_text())]
COVERAGE = Path(settings.BASE_DIR) / "docs" / "bpmn-coverage.md"
SPIFF = Path(importlib.util.find_spec("SpiffWorkflow").submodule_search_locations[0])
XSD = SPIFF / "bpmn" / "parser" / "schema" / "Semantic.xsd"  # BPMN 2.0 semantic model
XS = {"xs": "http://www.w3.org/2001/XMLSchema"}
GROUPS = ("flowElement", "eventDefinition", "loopCharacteristics", "artifact")


@pytest.mark.django_db
@pytest.mark.parametrize("path", REFUSED, ids=lambda p: p.stem)
def test_a_construct_the_engine_cannot_run_is_refused_with_element_line_and_reason(
    users, path
):
    scenario = tomllib.loads(path.read_text())
    want = scenario["refused"]
    bpmn = CONFORMANCE / "bpmn" / scenario["bpmn"]
    for name in scenario.get("also_deploy", ()):  # the callees, as the runner does
        extra = CONFORMANCE / "bpmn" / name
        version_upload(
            user=users["analyst"], bpmn=extra.read_bytes(), filename=extra.name
        )
    before = ProcessVersion.objects.count()
    with pytest.raises(BpmnInvalid) as err:
        version_upload(
            user=users["analyst"],
            bpmn=bpmn.read_bytes(),
            filename=bpmn.name,
            dmn_files=[
                (name, (CONFORMANCE / "bpmn" / name).read_bytes())
                for name in scenario.get("dmn", ())
            ],
        )
    errors = err.value.details["errors"]
    named = [
        e
        for e in errors
        if e["element_id"] == want["element"]
        and want["message"].lower() in e["message"].lower()
    ]
    assert named, errors
    assert all(e["line"] for e in named)
    assert ProcessVersion.objects.count() == before


@pytest.mark.django_db
def test_the_api_refuses_a_send_task_that_would_be_skipped_with_400(users, client):
    client.force_login(users["analyst"])
    bpmn = CONFORMANCE / "bpmn" / "refused_send_task_without_operation.bpmn"
    error = api_upload_refused(client, bpmn)
    assert error["element_id"] == "Send_Nothing"
    assert error["line"] and "skipped" in error["message"]


def test_the_coverage_page_is_generated_from_the_checker_tables():
    assert COVERAGE.read_text() == coverage_markdown(), (
        "docs/bpmn-coverage.md is out of date: run `python manage.py bpmn_coverage`"
    )
    call_command("bpmn_coverage", "--check")


def test_the_coverage_tables_name_every_element_of_the_bpmn_schema():
    schema = etree.parse(str(XSD))
    names = {
        element.get("name")
        for group in GROUPS
        for element in schema.xpath(
            f"//xs:element[@substitutionGroup='{group}']", namespaces=XS
        )
    }
    names |= {
        element.get("name")
        for element in schema.xpath(
            "//xs:element[@substitutionGroup='rootElement']", namespaces=XS
        )
    }
    known = set(support.ELEMENTS) | set(support.EVENT_DEFINITIONS)
    assert names - known == set()


@pytest.mark.django_db
def test_an_unknown_camunda_attribute_is_refused_not_ignored(users):
    bpmn = (
        CONFORMANCE / "bpmn" / "refused_unknown_camunda_attribute.bpmn"
    ).read_bytes()
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=bpmn, filename="x.bpmn")
    assert "would be ignored" in err.value.details["errors"][0]["message"]


def _diagram(*, attrs: str = "", ext: str = "", extra: str = "", roots: str = ""):
    """A user task between start and end; the construct under test goes in."""
    extension = f"<bpmn:extensionElements>{ext}</bpmn:extensionElements>" if ext else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_row"
    targetNamespace="http://laneway.example/test">
  <bpmn:process id="row" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="Task_Row" />
    <bpmn:userTask id="Task_Row" camunda:candidateGroups="Reviewers"{attrs}>
      {extension}
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Task_Row" targetRef="end" />
    <bpmn:endEvent id="end" />
    {extra}
  </bpmn:process>
  {roots}
</bpmn:definitions>
""".encode()


def _refused_rows(table):
    return sorted(
        (name, row)
        for name, row in table.items()
        if row.status == "refused" and not row.by
    )


def _row_cases():
    """(case id, diagram, element id the problem names, reason) per refused row."""
    cases = [
        (f"camunda:{name}", _diagram(attrs=f' camunda:{name}="x"'), "Task_Row", row)
        for name, row in _refused_rows(support.VENDOR_ATTRIBUTES)
    ]
    cases += [
        (
            f"<camunda:{name}>",
            _diagram(ext=f'<camunda:{name} name="x" />'),
            "Task_Row",
            row,
        )
        for name, row in _refused_rows(support.VENDOR_ELEMENTS)
    ]
    for name, row in _refused_rows(support.ELEMENTS):
        if name.endswith(("erformer", "Owner")):
            continue  # inside a task: scenario refused_potential_owner
        element = f'<bpmn:{name} id="Row_{name}" />'
        at_root = name == "eventDefinition" or name.startswith("global")
        data = _diagram(roots=element) if at_root else _diagram(extra=element)
        cases.append((f"<bpmn:{name}>", data, f"Row_{name}", row))
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "element_id", "row"),
    [pytest.param(*case[1:], id=case[0]) for case in _row_cases()],
)
def test_every_refused_row_of_the_tables_is_refused_with_its_reason(
    users, data, element_id, row
):
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=data, filename="row.bpmn")
    errors = err.value.details["errors"]
    assert any(
        e["element_id"] == element_id and e["line"] and row.note in e["message"]
        for e in errors
    ), errors


TWO_DEFINITIONS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:message id="Msg" name="go" />
  <bpmn:process id="multi" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:messageEventDefinition messageRef="Msg" />
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration>PT1H</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="work" />
    <bpmn:manualTask id="work" spiffworkflow:colour="red" />
    <bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.django_db
def test_a_multiple_event_and_an_unknown_spiff_attribute_are_refused_located(users):
    # A multiple event (BPMN 2.0.2 §10.5.1: several event definitions, any one
    # triggers) does not run here; a SpiffWorkflow attribute it does not read
    # would be ignored. Both are refused at their element, with its line.
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=TWO_DEFINITIONS, filename="m")
    errors = {e["element_id"]: e for e in err.value.details["errors"]}
    assert "several event definitions" in errors["wait"]["message"]
    assert errors["wait"]["line"] == 9
    assert "'colour' would be ignored" in errors["work"]["message"]
    assert errors["work"]["line"] == 16
    assert ProcessVersion.objects.count() == 0
