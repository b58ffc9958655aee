"""Camunda Forms (form-js JSON drawn in Camunda Modeler) through the JSON API.

The analyst uploads the .bpmn with its .form file; the manager's task carries the
form; completing it is validated on the server with form-js's rules, whatever
the browser did, and the variables land in the case by each field's key.
"""

import copy
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from engine.models import Case
from engine.services import case_start
from processes.models import ProcessVersion
from tasks_app.models import HumanTask
from tests.clients import api_for, page_for
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.django_db

BPMN = (EXAMPLES / "travel_request.bpmn").read_bytes()
FORM = json.loads((EXAMPLES / "travel_review.form").read_text())
VALID = {
    "decision": "approve",
    "budget": {"amount": 1250.5, "code": "HR-0420"},
    "depart_on": "2026-12-01",
    "conditions": ["economy"],
    "comment": "  Take the train where you can.  ",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _form_file(schema=None, name="travel_review.form"):
    text = schema if isinstance(schema, bytes) else json.dumps(schema or FORM).encode()
    return SimpleUploadedFile(name, text)


def _upload(user, bpmn=BPMN, forms=()):
    return api_for(user).post(
        "/api/v1/processes/",
        {"file": SimpleUploadedFile("travel_request.bpmn", bpmn), "form": list(forms)},
        format="multipart",
    )


@pytest.fixture
def review(users) -> HumanTask:
    """The manager's review task of a travel request (deployed with its form)."""
    assert _upload(users["analyst"], forms=[_form_file()]).status_code == 201
    started = api_for(users["requester"]).post(
        "/api/v1/cases/",
        {"process": "travel_request", "data": {"destination": "Lyon", "days": 3}},
        format="json",
    )
    assert started.status_code == 201, started.json()
    return HumanTask.objects.get(case_id=started.json()["id"], status="open")


def _complete(user, task, data):
    return api_for(user).post(
        f"/api/v1/tasks/{task.pk}/complete/", {"data": data}, format="json"
    )


def test_the_task_carries_the_form_and_valid_data_lands_by_key(users, review):
    manager = api_for(users["manager1"])
    shown = manager.get(f"/api/v1/tasks/{review.pk}/").json()
    assert shown["form_js"]["id"] == "travel-review"
    # A disabled field only displays case data: what is sent for it is not written.
    response = _complete(users["manager1"], review, {**VALID, "destination": "Mars"})
    assert response.status_code == 200, response.json()
    case = Case.objects.get(pk=review.case_id)
    assert case.status == "completed"
    assert case.data == {
        "destination": "Lyon",
        "days": 3,
        "decision": "approve",
        "budget": {"amount": 1250.5, "code": "HR-0420"},  # "budget.amount": nested
        "depart_on": "2026-12-01",
        "conditions": ["economy"],
        "comment": "  Take the train where you can.  ",
        "quote": None,
    }
    assert "travel_approved" in json.dumps(
        manager.get(f"/api/v1/cases/{case.pk}/").json()
    )
    # The case's story names the form's fields by their labels.
    page = page_for(users["requester"]).get(f"/cases/{case.pk}/").content.decode()
    assert "manager1 completed “Review the trip”: " in page
    assert "Decision “approve”; Departure date “2026-12-01”" in page


def test_invalid_data_is_refused_per_field_and_changes_nothing(users, review):
    before = Case.objects.get(pk=review.case_id).data
    response = _complete(
        users["manager1"],
        review,
        {
            "decision": "maybe",
            "budget": {"amount": 10000.123, "code": "hr-1"},
            "depart_on": "2026-13-01",
            "conditions": ["first class"],
            "comment": "x" * 501,
            "bonus": 1,
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["details"]["fields"] == {
        "decision": ["Select one of the offered choices."],
        "budget.amount": [
            "Value is expected to have at most 2 decimal digits.",
            "Field must have maximum value of 10000.",
        ],
        "budget.code": ["Use two capitals, a dash and four digits (HR-0420)."],
        "depart_on": ["Enter a date as YYYY-MM-DD."],
        "conditions": ["Select one of the offered choices."],
        "comment": ["Field must have maximum length of 500."],
        "bonus": ["Unknown field: this form does not have it."],
    }
    review.refresh_from_db()
    assert review.status == "open"
    assert Case.objects.get(pk=review.case_id).data == before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({**VALID, "decision": None}, "decision", "Field is required."),
        ({**VALID, "budget": {"code": "HR-0420"}}, "budget.amount", "required"),
        (
            {**VALID, "budget": {**VALID["budget"], "amount": "lots"}},
            "budget.amount",
            "Value is not a number.",
        ),
        (
            {**VALID, "budget": {**VALID["budget"], "amount": -1}},
            "budget.amount",
            "Field must have minimum value of 0.",
        ),
        ({**VALID, "conditions": "economy"}, "conditions", "Expected a list"),
        ({**VALID, "comment": 7}, "comment", "Enter text."),
        ({**VALID, "budget": "HR-0420"}, "budget.amount", "required"),
    ],
)
def test_each_rule_holds_on_the_server(users, review, data, field, message):
    response = _complete(users["manager1"], review, data)
    assert response.status_code == 400, response.json()
    assert message in " ".join(response.json()["details"]["fields"][field])


def test_hidden_fields_are_neither_checked_nor_written(users, review):
    """The form hides the budget when rejecting and asks why instead (FEEL
    `conditional.hide`, evaluated on the server as form-js does in the page)."""
    rejecting = {"decision": "reject", "budget": {"amount": -5}}
    response = _complete(users["manager1"], review, rejecting)
    assert response.status_code == 400
    assert response.json()["details"]["fields"] == {
        "rejection_reason": ["Field is required."]
    }
    done = _complete(
        users["manager1"],
        review,
        {**rejecting, "rejection_reason": "Lyon is a video call away."},
    )
    assert done.status_code == 200, done.json()
    case = Case.objects.get(pk=review.case_id)
    assert case.status == "completed"
    assert "budget" not in case.data
    assert case.data["rejection_reason"] == "Lyon is a video call away."
    assert case.data["conditions"] == []  # an empty checklist, as form-js sends it


def test_a_file_field_takes_attachments_of_the_case(users, review):
    manager = api_for(users["manager1"])
    attached = manager.post(
        f"/api/v1/cases/{review.case_id}/attachments/",
        {"file": SimpleUploadedFile("quote.pdf", b"%PDF-1.4 quote")},
        format="multipart",
    )
    assert attached.status_code == 201, attached.json()
    other = _complete(users["manager1"], review, {**VALID, "quote": [str(review.pk)]})
    assert other.status_code == 400
    assert other.json()["details"]["fields"]["quote"] == [
        "Name attachments of this case by their id."
    ]
    two = _complete(users["manager1"], review, {**VALID, "quote": ["a", "b"]})
    assert two.json()["details"]["fields"]["quote"] == ["Choose one file."]
    done = _complete(
        users["manager1"], review, {**VALID, "quote": [attached.json()["id"]]}
    )
    assert done.status_code == 200, done.json()
    quote = Case.objects.get(pk=review.case_id).data["quote"]
    assert [(q["id"], q["name"], q["size"]) for q in quote] == [
        (attached.json()["id"], "quote.pdf", 14)
    ]
    assert len(quote[0]["sha256"]) == 64


def test_an_upload_without_its_form_is_refused_naming_task_line_and_form(users):
    response = _upload(users["analyst"])
    assert response.status_code == 400
    (error,) = response.json()["details"]["errors"]
    assert error["element_id"] == "travel_review"
    assert error["line"] == BPMN[: BPMN.index(b'id="travel_review"')].count(b"\n") + 1
    assert "form id 'travel-review'" in error["message"]
    assert "not uploaded" in error["message"]


def _refusal(users, schema=None, bpmn=BPMN, name="travel_review.form"):
    response = _upload(users["analyst"], bpmn=bpmn, forms=[_form_file(schema, name)])
    assert response.status_code == 400, response.json()
    return " | ".join(e["message"] for e in response.json()["details"]["errors"])


def _with(change):
    schema = copy.deepcopy(FORM)
    change(schema["components"])
    return schema


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            lambda c: c[3].update(
                conditional={"hide": "=some(c in conditions satisfies c = 1)"}
            ),
            "the radio component 'decision' hides on a condition outside the FEEL "
            "the server evaluates (the function some() is not supported)",
        ),
        (
            lambda c: c.append(
                {
                    "type": "expression",
                    "key": "total",
                    "id": "E",
                    "expression": "=days * 100",
                }
            ),
            "the expression component 'total' is not supported",
        ),
        (
            lambda c: c[3].update(values=None, valuesKey="choices"),
            "takes its options from a variable",
        ),
        (
            lambda c: c[4]["validate"].update(max="=limit"),
            "validates max with a FEEL expression",
        ),
        (
            lambda c: c.append(
                {"type": "dynamiclist", "id": "L", "path": "items", "components": []}
            ),
            "the dynamiclist component 'L' is not supported",
        ),
        (
            lambda c: c.append({"type": "textfield", "key": "budget", "id": "B"}),
            "write the same variable",
        ),
        (
            lambda c: c[5]["validate"].update(pattern="(?<x>a)"),
            "a pattern the server cannot read",
        ),
        (  # the browser's RegExp throws on inline flags; Python would run it
            lambda c: c[5]["validate"].update(pattern="(?i)^hr-"),
            "a pattern the server cannot read",
        ),
        (  # JavaScript reads \\A as the letter A, Python as the start
            lambda c: c[5]["validate"].update(pattern="\\AHR"),
            "a pattern the server cannot read",
        ),
    ],
)
def test_what_the_server_cannot_check_is_refused_at_upload(users, change, said):
    message = _refusal(users, _with(change))
    assert "Form file travel_review.form:" in message
    assert said in message


def test_javascript_pattern_idioms_are_taken(users):
    # [\s\S] (any character, newlines too) and [\D] read alike in both dialects.
    schema = _with(lambda c: c[5]["validate"].update(pattern="^[\\s\\S]*[\\D]$"))
    response = _upload(users["analyst"], forms=[_form_file(schema)])
    assert response.status_code == 201, response.json()


def test_form_references_that_cannot_run_are_refused_located(users):
    pinned = BPMN.replace(
        b'camunda:formRefBinding="deployment"',
        b'camunda:formRefBinding="version" camunda:formRefVersion="2"',
    )
    assert "formRefBinding='version'" in _refusal(users, bpmn=pinned)
    by_key = BPMN.replace(
        b'camunda:formRef="travel-review" camunda:formRefBinding="deployment"',
        b'camunda:formKey="camunda-forms:deployment:missing.form"',
    )
    message = _refusal(users, bpmn=by_key)
    assert "travel_review" in message and "form 'missing.form'" in message
    assert "not JSON" in _refusal(users, b"{")


def test_a_form_key_names_the_file_uploaded_with_the_diagram(users):
    by_key = BPMN.replace(
        b'camunda:formRef="travel-review" camunda:formRefBinding="deployment"',
        b'camunda:formKey="camunda-forms:app:forms/travel_review.form"',
    )
    uploaded = _upload(users["analyst"], bpmn=by_key, forms=[_form_file()])
    assert uploaded.status_code == 201, uploaded.json()
    started = api_for(users["requester"]).post(
        "/api/v1/cases/",
        {"process": "travel_request", "data": {"destination": "Oslo", "days": 1}},
        format="json",
    )
    task = HumanTask.objects.get(case_id=started.json()["id"], status="open")
    assert task.form_js == FORM


def test_the_upload_page_takes_forms_beside_the_diagram(users):
    page = page_for(users["analyst"])
    refused = page.post(
        "/processes/upload/",
        {"file": SimpleUploadedFile("travel_request.bpmn", BPMN)},
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "travel_request.bpmn was not deployed" in html
    assert "form id &#x27;travel-review&#x27;" in html
    assert "Form files" in page.get("/processes/upload/").content.decode()
    deployed = page.post(
        "/processes/upload/",
        {
            "file": SimpleUploadedFile("travel_request.bpmn", BPMN),
            "form_files": [_form_file()],
        },
        follow=True,
    )
    assert "travel_request v1 deployed" in deployed.content.decode()
    version_page = page.get("/processes/travel_request/v1/").content.decode()
    assert "Form files</dt><dd>travel_review.form</dd>" in version_page
    started = case_start(
        user=users["requester"],
        key="travel_request",
        data={"destination": "Rome", "days": 2},
    )[0]
    task = HumanTask.objects.get(case=started, status="open")
    shown = page_for(users["manager1"]).get(f"/tasks/{task.pk}/").content.decode()
    assert 'id="form-js-schema"' in shown
    assert "vendor/form-js/form-viewer.umd.js" in shown


def test_a_page_post_that_is_not_json_is_refused_and_keeps_the_page(users, review):
    response = page_for(users["manager1"]).post(
        f"/tasks/{review.pk}/", {"form_js_data": "{not json"}
    )
    assert response.status_code == 400
    assert "did not arrive as JSON" in response.content.decode()
    review.refresh_from_db()
    assert review.status == "open"


def test_deploy_process_takes_forms_with_form(users):
    out = io.StringIO()
    call_command(
        "deploy_process",
        str(EXAMPLES / "travel_request.bpmn"),
        "--form",
        str(EXAMPLES / "travel_review.form"),
        "--as",
        "analyst",
        stdout=out,
    )
    assert "travel_request v1 deployed" in out.getvalue()
    version = ProcessVersion.objects.get(definition__key="travel_request")
    assert [f["name"] for f in version.form_files] == ["travel_review.form"]


RULES_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="rules" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="fill" name="Fill" camunda:candidateGroups="Manager"
        camunda:formKey="camunda-forms:deployment:rules.form">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fill" />
    <bpmn:sequenceFlow id="f2" sourceRef="fill" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
RULES = {
    "id": "rules",
    "type": "default",
    "components": [
        {
            "type": "checkbox",
            "key": "agree",
            "id": "c1",
            "label": "Agree",
            "validate": {"required": True},
        },
        {
            "type": "textfield",
            "key": "mail",
            "id": "c2",
            "validate": {"validationType": "email"},
        },
        {
            "type": "textfield",
            "key": "phone",
            "id": "c3",
            "validate": {"validationType": "phone"},
        },
        {
            "type": "taglist",
            "key": "tags",
            "id": "c4",
            "values": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}],
        },
        {
            "type": "select",
            "key": "size",
            "id": "c5",
            "values": [{"label": "S", "value": "s"}, {"label": "L", "value": "l"}],
        },
        {
            "type": "datetime",
            "key": "at",
            "id": "c6",
            "subtype": "time",
            "timeSerializingFormat": "no_timezone",
        },
        {
            "type": "datetime",
            "key": "when",
            "id": "c7",
            "subtype": "datetime",
            "timeSerializingFormat": "utc_normalized",
        },
        {
            "type": "number",
            "key": "step",
            "id": "c8",
            "increment": "0.5",
            "serializeToString": True,
        },
        {
            "type": "group",
            "id": "g",
            "path": "address",
            "components": [
                {
                    "type": "textfield",
                    "key": "street",
                    "id": "c9",
                    "validate": {"minLength": 3},
                }
            ],
        },
        {
            "type": "textfield",
            "key": "ref",
            "id": "c10",
            "validate": {"pattern": "^[A-Z]{2}-\\d{4}$", "maxLength": 7},
        },
    ],
}
RULES_VALID = {
    "agree": True,
    "mail": "ana@example.com",
    "phone": "+4930664040900",
    "tags": ["a", "b"],
    "size": "l",
    "at": "09:30",
    "when": "2026-12-01T09:30Z",
    "step": "2.5",
    "address": {"street": "Rue Neuve"},
    "ref": "HR-0420",
}


@pytest.fixture
def rules_task(users) -> HumanTask:
    uploaded = _upload(
        users["analyst"],
        bpmn=RULES_BPMN,
        forms=[_form_file(RULES, name="forms/rules.form")],
    )
    assert uploaded.status_code == 201, uploaded.json()
    case, _ = case_start(user=users["requester"], key="rules", data={})
    return HumanTask.objects.get(case=case, status="open")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"agree": False}, "agree", "Field is required."),
        ({"agree": "yes"}, "agree", "Choose yes or no."),
        ({"mail": "ana@"}, "mail", "Field must be a valid email."),
        ({"phone": "12345"}, "phone", "valid  international phone number"),
        ({"tags": ["a", "z"]}, "tags", "Select one of the offered choices."),
        ({"size": "xl"}, "size", "Select one of the offered choices."),
        ({"at": "25:00"}, "at", "Enter a time as HH:mm."),
        ({"at": "09:30Z"}, "at", "Enter a time as HH:mm."),
        ({"when": "2026-12-01T09:30+01:00"}, "when", "YYYY-MM-DDTHH:mm"),
        ({"step": "2.2"}, "step", "the two nearest valid values are 2 and 2.5"),
        ({"address": {"street": " ab "}}, "address.street", "minimum length of 3"),
        # The browser's RegExp: `$` is the end of the text, \d is 0-9 only.
        ({"ref": "HR-0420\n"}, "ref", "Field must match pattern"),
        ({"ref": "HR-\u0660\u0664\u0662\u0660"}, "ref", "Field must match pattern"),
        ({"mail": "ana@example.com\n"}, "mail", "Field must be a valid email."),
    ],
)
def test_every_form_js_rule_holds_on_the_server(
    users, rules_task, change, field, message
):
    response = _complete(users["manager1"], rules_task, {**RULES_VALID, **change})
    assert response.status_code == 400, response.json()
    fields = response.json()["details"]["fields"]
    assert list(fields) == [field]
    assert message in " ".join(fields[field])


def test_valid_values_of_every_kind_land_as_the_viewer_sends_them(users, rules_task):
    response = _complete(users["manager1"], rules_task, RULES_VALID)
    assert response.status_code == 200, response.json()
    assert Case.objects.get(pk=rules_task.case_id).data == RULES_VALID


def test_lengths_count_as_javascript_counts_them(users, rules_task):
    # Two emoji are four UTF-16 units: form-js takes them for minLength 3.
    data = {**RULES_VALID, "address": {"street": "\U0001f3e0\U0001f3e0"}}
    response = _complete(users["manager1"], rules_task, data)
    assert response.status_code == 200, response.json()


def _stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


def _page_submit(user, task, comment):
    """Post the task page as the form-js viewer does: data as JSON, the file beside."""
    data = {**VALID, "comment": comment, "quote": "files::quote"}
    return page_for(user).post(
        f"/tasks/{task.pk}/",
        {
            "form_js_data": json.dumps(data),
            "files::quote": SimpleUploadedFile("quote.pdf", b"%PDF-1.4 quote"),
        },
    )


def test_a_file_sent_with_the_page_becomes_an_attachment(users, review, media):
    response = _page_submit(users["manager1"], review, "Fine.")
    assert response.status_code == 302, response.content.decode()[:2000]
    quote = Case.objects.get(pk=review.case_id).data["quote"]
    assert [(q["name"], q["size"]) for q in quote] == [("quote.pdf", 14)]
    assert len(_stored_files(media)) == 1


def test_a_completion_lost_to_someone_else_leaves_no_file_and_keeps_the_page(
    users, review, media
):
    # The manager fills the page in; meanwhile a colleague completes the task.
    done = _complete(users["manager2"], review, VALID)
    assert done.status_code == 200, done.json()
    response = _page_submit(users["manager1"], review, "Typed with care.")
    assert response.status_code == 409
    page = response.content.decode()
    assert "Not saved" in page and "Typed with care." in page
    assert _stored_files(media) == []  # stored before the lock, deleted after
    assert Case.objects.get(pk=review.case_id).data["quote"] is None  # theirs


def test_a_completion_refused_by_a_suspended_case_leaves_no_file(users, review, media):
    url = f"/api/v1/cases/{review.case_id}/suspend/"
    assert api_for(users["padmin"]).post(url, {"reason": "audit"}).status_code == 200
    response = _page_submit(users["manager1"], review, "Typed with care.")
    assert response.status_code == 409
    page = response.content.decode()
    assert "suspended" in page and "Typed with care." in page
    assert _stored_files(media) == []
    review.refresh_from_db()
    assert review.status == "open"
