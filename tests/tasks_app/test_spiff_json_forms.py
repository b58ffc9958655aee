"""SpiffArena JSON-schema forms, uploaded with the diagram (issue 9).

A SpiffArena user task names its form with the properties formJsonSchemaFilename
and formUiSchemaFilename. The analyst uploads those .json files beside the .bpmn,
as the Camunda Forms are uploaded (page, API, deploy_process); the version keeps
them (and counts them in its checksum). The task page shows the schema's fields
with the form-js viewer; the server validates every submission against the JSON
schema (the `jsonschema` library), per field, and the page keeps what was typed.
A schema file not uploaded is warned of, located (SpiffArena fails only when the
task is shown); a schema the page cannot show is refused, located.
"""

import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from engine.models import Case
from processes.models import ProcessVersion
from tasks_app.models import HumanTask
from tests.clients import api_for, page_for

pytestmark = pytest.mark.django_db

BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="expense" name="Expense" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="claim" name="Claim expenses" camunda:candidateGroups="Manager">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="claim-schema.json" />
        <spiffworkflow:property name="formUiSchemaFilename" value="claim-uischema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="big" default="f_small" />
    <bpmn:userTask id="audit" name="Audit" camunda:candidateGroups="Manager" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="claim" />
    <bpmn:sequenceFlow id="f2" sourceRef="claim" targetRef="big" />
    <bpmn:sequenceFlow id="f_big" sourceRef="big" targetRef="audit">
      <bpmn:conditionExpression>amount &gt; 1000</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="big" targetRef="done" />
    <bpmn:sequenceFlow id="f3" sourceRef="audit" targetRef="done" />
    <bpmn:endEvent id="done" />
  </bpmn:process>
</bpmn:definitions>
"""  # noqa: E501

SCHEMA = {
    "title": "Expense claim",
    "type": "object",
    "required": ["amount", "category", "email"],
    "properties": {
        "amount": {"type": "integer", "title": "Amount", "minimum": 1},
        "category": {"type": "string", "title": "Category", "enum": ["travel", "food"]},
        "email": {"type": "string", "title": "Your email", "format": "email"},
        "note": {"type": "string", "title": "Note", "maxLength": 20},
        "receipt": {
            "type": "object",
            "title": "Receipt",
            "properties": {"number": {"type": "string", "pattern": "^R-[0-9]+$"}},
        },
    },
}
UI = {"ui:order": ["category", "*"], "note": {"ui:widget": "textarea"}}
VALID = {"amount": 1500, "category": "travel", "email": "ann@example.com"}


def _file(name, content):
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    return SimpleUploadedFile(name, data)


def _companions(schema=SCHEMA, ui=UI):
    files = [_file("claim-schema.json", schema)]
    return files + ([_file("claim-uischema.json", ui)] if ui is not None else [])


def _upload(user, bpmn=BPMN, forms=()):
    return api_for(user).post(
        "/api/v1/processes/",
        {"file": SimpleUploadedFile("expense.bpmn", bpmn), "form": list(forms)},
        format="multipart",
    )


@pytest.fixture
def claim(users) -> HumanTask:
    uploaded = _upload(users["analyst"], forms=_companions())
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["processes"][0]["warnings"] == []
    started = api_for(users["requester"]).post(
        "/api/v1/cases/", {"process": "expense", "data": {}}, format="json"
    )
    assert started.status_code == 201, started.json()
    return HumanTask.objects.get(case_id=started.json()["id"], status="open")


def _complete(user, task, data):
    return api_for(user).post(
        f"/api/v1/tasks/{task.pk}/complete/", {"data": data}, format="json"
    )


def test_the_task_shows_the_schema_fields_in_the_ui_order(users, claim):
    shown = api_for(users["manager1"]).get(f"/api/v1/tasks/{claim.pk}/").json()
    components = shown["form_js"]["components"]
    assert [c.get("key") or c.get("path") for c in components[1:]] == [
        "category",
        "amount",
        "email",
        "note",
        "receipt",
    ]
    by_key = {c.get("key"): c for c in components}
    assert by_key["category"]["type"] == "select"
    assert by_key["category"]["validate"] == {"required": True}
    assert by_key["note"]["type"] == "textarea"
    assert by_key["amount"]["type"] == "number"


def test_valid_data_lands_in_the_case_and_drives_the_gateway(users, claim):
    response = _complete(
        users["manager1"], claim, {**VALID, "note": "", "receipt": {"number": "R-7"}}
    )
    assert response.status_code == 200, response.json()
    case = Case.objects.get(pk=claim.case_id)
    assert case.data == {**VALID, "receipt": {"number": "R-7"}}  # empty: left out
    assert HumanTask.objects.get(case=case, status="open").bpmn_id == "audit"


def test_invalid_data_is_refused_per_field_and_changes_nothing(users, claim):
    before = Case.objects.get(pk=claim.case_id).data
    response = _complete(
        users["manager1"],
        claim,
        {
            "amount": 0,
            "category": "fun",
            "note": "x" * 21,
            "receipt": {"number": "7"},
        },
    )
    assert response.status_code == 400
    fields = response.json()["details"]["fields"]
    assert fields["email"] == ["Field is required."]
    assert set(fields) == {"amount", "category", "email", "note", "receipt.number"}
    assert "minimum of 1" in fields["amount"][0]
    assert "'fun' is not one of ['travel', 'food']" in fields["category"][0]
    bad_email = _complete(users["manager1"], claim, {**VALID, "email": "ann"})
    assert bad_email.json()["details"]["fields"] == {
        "email": ["'ann' is not a 'email'"]
    }
    claim.refresh_from_db()
    assert claim.status == "open"
    assert Case.objects.get(pk=claim.case_id).data == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # ajv tests `pattern` with JavaScript's RegExp: `$` is the end of the text.
        ({"receipt": {"number": "R-12\n"}}, "receipt.number"),
        # ajv-formats' email wants a dotted domain; "@" somewhere is not enough.
        ({"email": "ann@"}, "email"),
        ({"email": "ann@example"}, "email"),
    ],
)
def test_patterns_and_formats_are_read_as_the_browser_reads_them(
    users, claim, change, field
):
    response = _complete(users["manager1"], claim, {**VALID, **change})
    assert response.status_code == 400, response.json()
    assert list(response.json()["details"]["fields"]) == [field]


def test_the_page_renders_the_form_and_keeps_what_was_typed(users, claim):
    page = page_for(users["manager1"])
    shown = page.get(f"/tasks/{claim.pk}/").content.decode()
    assert 'id="form-js-schema"' in shown and "Expense claim" in shown
    typed = {"amount": 5, "category": "food", "email": "not-an-email"}
    response = page.post(f"/tasks/{claim.pk}/", {"form_js_data": json.dumps(typed)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a &#x27;email&#x27;" in html
    kept = re.search(r'id="form-js-data"[^>]*>(.*?)</script>', html, re.S)
    assert kept is not None and json.loads(kept.group(1)) == typed
    done = page.post(
        f"/tasks/{claim.pk}/", {"form_js_data": json.dumps(VALID)}, follow=True
    )
    assert done.status_code == 200
    assert Case.objects.get(pk=claim.case_id).data == VALID


def test_upload_page_and_deploy_command_take_the_json_files(users, tmp_path):
    page = page_for(users["analyst"])
    deployed = page.post(
        "/processes/upload/",
        {
            "file": SimpleUploadedFile("expense.bpmn", BPMN),
            "form_files": _companions(),
        },
        follow=True,
    )
    assert "expense v1 deployed" in deployed.content.decode()
    first = ProcessVersion.objects.get(definition__key="expense", number=1)
    assert sorted(f["name"] for f in first.form_files) == [
        "claim-schema.json",
        "claim-uischema.json",
    ]
    (tmp_path / "expense.bpmn").write_bytes(BPMN)
    (tmp_path / "claim-uischema.json").write_text(json.dumps(UI))
    changed = {**SCHEMA, "title": "Expense claim (v2)"}  # only the schema changes
    (tmp_path / "claim-schema.json").write_text(json.dumps(changed))
    out = io.StringIO()
    call_command(
        "deploy_process",
        str(tmp_path / "expense.bpmn"),
        "--form",
        str(tmp_path / "claim-schema.json"),
        "--form",
        str(tmp_path / "claim-uischema.json"),
        "--as",
        "analyst",
        stdout=out,
    )
    assert "expense v2 deployed" in out.getvalue()  # another schema, another checksum
    second = ProcessVersion.objects.get(definition__key="expense", number=2)
    assert second.checksum != first.checksum and second.warnings == []
    stored = {f["name"]: json.loads(f["json"]) for f in second.form_files}
    assert stored["claim-schema.json"]["title"] == "Expense claim (v2)"


def test_a_ui_schema_not_uploaded_only_loses_the_layout(users):
    response = _upload(users["analyst"], forms=_companions(ui=None))
    assert response.status_code == 201, response.json()
    [warning] = response.json()["processes"][0]["warnings"]
    assert "'claim-uischema.json', was not uploaded" in warning["message"]
    assert warning["element_id"] == "claim" and warning["line"] == 8


def test_a_schema_not_uploaded_deploys_with_a_located_warning(users):
    response = _upload(users["analyst"])
    assert response.status_code == 201, response.json()
    [warning] = response.json()["processes"][0]["warnings"]
    assert warning["element_id"] == "claim" and warning["line"] == 8
    assert "'claim-schema.json', which was not uploaded" in warning["message"]


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        (
            {"type": "object", "properties": {"items": {"type": "array"}}},
            "the property 'items' is a list of anything",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "#/definitions/a"}}},
            "the property 'a' uses $ref",
        ),
        ({"type": "object", "properties": {"a": {"type": 3}}}, "not a valid JSON"),
        (  # ajv checks date-time; the server would not: refused, not unchecked
            {"type": "object", "properties": {"at": {"format": "date-time"}}},
            "the property 'at' has format 'date-time', which the server does not",
        ),
        (  # the browser's RegExp throws on inline flags
            {"type": "object", "properties": {"a": {"pattern": "(?i)^r"}}},
            "the property 'a' has a pattern the browser and server read apart",
        ),
        (b"{nope", "Form file claim-schema.json: not JSON"),
    ],
)
def test_a_schema_the_page_cannot_show_is_refused_located(users, schema, why):
    response = _upload(users["analyst"], forms=_companions(schema, ui=None))
    assert response.status_code == 400
    problems = response.json()["details"]["errors"]
    [problem] = [p for p in problems if why in p["message"]]
    if not why.startswith("Form file"):  # a file that is not JSON has no element
        assert problem["element_id"] == "claim" and problem["line"] == 8
    assert ProcessVersion.objects.filter(definition__key="expense").count() == 0


def test_a_schema_on_a_manual_task_is_not_a_form_as_in_spiffarena(users):
    """SpiffArena shows a manual task's instructions and a button, no form."""
    manual = BPMN.replace(
        b'<bpmn:userTask id="claim" name="Claim expenses"',
        b'<bpmn:manualTask id="claim" name="Claim expenses"',
    ).replace(
        b"</spiffworkflow:properties></bpmn:extensionElements>\n    </bpmn:userTask>",
        b"</spiffworkflow:properties></bpmn:extensionElements>\n    </bpmn:manualTask>",
    )
    response = _upload(users["analyst"], bpmn=manual, forms=_companions())
    assert response.status_code == 201, response.json()
    [warning] = response.json()["processes"][0]["warnings"]
    assert "which Laneway does not read" in warning["message"]
    started = api_for(users["requester"]).post(
        "/api/v1/cases/", {"process": "expense", "data": {}}, format="json"
    )
    task = HumanTask.objects.get(case_id=started.json()["id"], status="open")
    assert task.bpmn_id == "claim" and task.form_js is None


def test_a_camunda_form_key_naming_a_json_schema_is_refused_located(users):
    keyed = BPMN.replace(
        b'name="Claim expenses" ',
        b'name="Claim expenses" '
        b'camunda:formKey="camunda-forms:deployment:claim-schema.json" ',
    ).replace(b'value="claim-schema.json"', b'value="other.json"')
    response = _upload(users["analyst"], bpmn=keyed, forms=_companions())
    assert response.status_code == 400
    [problem] = response.json()["details"]["errors"]
    assert problem["element_id"] == "claim" and problem["line"] == 8
    assert "is the file claim-schema.json, not a Camunda Form" in problem["message"]
