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
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from lxml import etree

from engine.spiff import coverage_markdown, support
from processes.errors import BpmnInvalid
from processes.models import ProcessVersion
from processes.services import version_upload

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
    with pytest.raises(BpmnInvalid) as err:
        version_upload(
            user=users["analyst"], bpmn=bpmn.read_bytes(), filename=bpmn.name
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
    assert ProcessVersion.objects.count() == 0


@pytest.mark.django_db
def test_the_api_refuses_a_send_task_that_would_be_skipped_with_400(users, client):
    client.force_login(users["analyst"])
    bpmn = CONFORMANCE / "bpmn" / "refused_send_task_without_operation.bpmn"
    response = client.post(
        "/api/v1/processes/",
        {"file": SimpleUploadedFile(bpmn.name, bpmn.read_bytes())},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    [error] = response.json()["details"]["errors"]
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
