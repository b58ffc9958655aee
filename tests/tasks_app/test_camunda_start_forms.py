"""A Camunda Form (form-js) as a process's start form: upload, service, API, page.

Camunda 7 reads the start form of a process's initial start event
(BpmnParse.parseStartEvents: selectInitial, then parseStartFormHandlers for that
event only) and Tasklist shows it when a person starts the process; submitting
it (FormService.submitStartForm) starts the instance with its variables. The
same .form file drawn in Camunda Modeler is uploaded with the diagram here; the
data is checked with form-js's rules, as a user task's (form_js_clean), and
nothing starts when a field is wrong. A start event nobody fills (message,
signal, timer, conditional; a sub-process's or event sub-process's) never shows
its form in Camunda 7, so such a form is refused at upload, located.
"""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from engine.errors import FormInvalid
from engine.models import Case
from engine.services import case_start
from tasks_app.models import HumanTask
from tests.clients import api_for, page_for
from tests.conftest import BPMN_DIR

pytestmark = pytest.mark.django_db

BPMN = (BPMN_DIR / "leave_request.bpmn").read_bytes()
FORM_BYTES = (BPMN_DIR / "leave_request.form").read_bytes()
FORM = json.loads(FORM_BYTES)
VALID = {
    "kind": "annual",
    "days": 5,
    "first_day": "2026-12-21",
    "reason": "Family visit over the holidays.",
    "handover": True,
    "contact": {"phone": "+4930664040900"},
}
START = b'<bpmn:startEvent id="leave_start"'


def _upload(user, bpmn=BPMN, forms=((FORM_BYTES, "leave_request.form"),)):
    return api_for(user).post(
        "/api/v1/processes/",
        {
            "file": SimpleUploadedFile("leave_request.bpmn", bpmn),
            "form": [SimpleUploadedFile(name, data) for data, name in forms],
        },
        format="multipart",
    )


def _start(user, data, **extra):
    return api_for(user).post(
        "/api/v1/cases/",
        {"process": "leave_request", "data": data, **extra},
        format="json",
    )


@pytest.fixture
def leave(users):
    """The leave request, its start event drawn with a Camunda Form, deployed."""
    response = _upload(users["analyst"])
    assert response.status_code == 201, response.json()


def test_valid_data_starts_the_case_with_the_variables_by_key(users, leave):
    response = _start(users["requester"], VALID, business_key="LEAVE-1")
    assert response.status_code == 201, response.json()
    case = Case.objects.get(pk=response.json()["id"])
    assert case.status == "running"
    # form-js writes a group's fields under its path ({"contact": {"phone"}}).
    assert case.data == VALID
    assert response.json()["data"] == VALID
    assert HumanTask.objects.get(case=case).bpmn_id == "leave_review"
    started = AuditEvent.objects.get(case_id=case.pk, action="case.started")
    assert started.payload["data"] == VALID


def test_a_hidden_field_is_neither_checked_nor_written(users, leave):
    """form-js leaves a field hidden by its `conditional.hide` out of the
    submission; the server evaluates the same FEEL on the submitted data."""
    sick = {**VALID, "kind": "sick", "handover": "not a boolean"}
    response = _start(users["requester"], sick)
    assert response.status_code == 201, response.json()
    data = Case.objects.get(pk=response.json()["id"]).data
    assert data["kind"] == "sick" and "handover" not in data


def test_an_empty_optional_field_is_written_as_the_viewer_sends_it(users, leave):
    """form-js submits '' for an empty text field and false for a checkbox."""
    required_only = {k: VALID[k] for k in ("kind", "days", "first_day", "reason")}
    response = _start(users["requester"], required_only)
    assert response.status_code == 201, response.json()
    data = Case.objects.get(pk=response.json()["id"]).data
    assert data == {**required_only, "handover": False, "contact": {"phone": ""}}


def test_invalid_data_is_refused_per_field_and_nothing_starts(users, leave):
    response = _start(
        users["requester"],
        {
            "kind": "sabbatical",
            "days": 31.5,
            "first_day": "2026-02-30",
            "reason": "short",
            "contact": {"phone": "12"},
            "salary": 1,
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["details"]["fields"] == {
        "kind": ["Select one of the offered choices."],
        "days": [
            "Value is expected to be an integer.",
            "Field must have maximum value of 30.",
        ],
        "first_day": ["Enter a date as YYYY-MM-DD."],
        "reason": ["Field must have minimum length of 10."],
        "contact.phone": [
            "Field must be a valid  international phone number. (e.g. +4930664040900)"
        ],
        "salary": ["Unknown field: this form does not have it."],
    }
    missing = _start(users["requester"], {})
    assert missing.status_code == 400
    assert set(missing.json()["details"]["fields"]) == {
        "kind",
        "days",
        "first_day",
        "reason",
    }
    assert not Case.objects.exists()
    assert not AuditEvent.objects.filter(action="case.started").exists()


def test_data_that_is_not_an_object_is_refused(users, leave):
    response = _start(users["requester"], ["annual"])
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_the_service_checks_the_start_form_for_every_caller(users, leave):
    """case_start (the page, the API, `start_case`) validates the same way."""
    with pytest.raises(FormInvalid) as refused:
        case_start(user=users["requester"], key="leave_request", data={"days": 0})
    assert refused.value.details["fields"]["days"] == [
        "Field must have minimum value of 1."
    ]
    case, created = case_start(user=users["requester"], key="leave_request", data=VALID)
    assert created and case.data == VALID


def test_a_form_key_names_the_form_file(users):
    for key in ("deployment", "app"):
        bpmn = BPMN.replace(
            b'camunda:formRef="leave-request" camunda:formRefBinding="deployment"',
            f'camunda:formKey="camunda-forms:{key}:forms/leave_request.form"'.encode(),
        )
        assert _upload(users["analyst"], bpmn).status_code in (200, 201)
        response = _start(users["requester"], {**VALID, "days": 0})
        assert response.status_code == 400
        assert "days" in response.json()["details"]["fields"]


def _line(bpmn: bytes, marker: bytes) -> int:
    return bpmn[: bpmn.index(marker)].count(b"\n") + 1


def _refused(users, bpmn, forms=((FORM_BYTES, "leave_request.form"),)) -> list:
    response = _upload(users["analyst"], bpmn, forms)
    assert response.status_code == 400, response.json()
    assert not Case.objects.exists()
    return response.json()["details"]["errors"]


_MESSAGE = b'<bpmn:message id="Msg_leave" name="leave" />\n  <bpmn:process'
_SIGNAL = b'<bpmn:signal id="Sig_leave" name="leave" />\n  <bpmn:process'


def _start_with(definition: bytes, before: bytes = b"<bpmn:process") -> bytes:
    """The leave request whose start event carries an event definition."""
    return BPMN.replace(b"<bpmn:process", before, 1).replace(
        b"</bpmn:startEvent>", definition + b"\n    </bpmn:startEvent>", 1
    )


_SUB = b"""
    <bpmn:subProcess id="leave_sub" triggeredByEvent="TRIGGERED">
      <bpmn:startEvent id="leave_sub_start" camunda:formRef="leave-request">
        DEFINITION
        <bpmn:outgoing>leave_sub_f</bpmn:outgoing>
      </bpmn:startEvent>
      <bpmn:endEvent id="leave_sub_end">
        <bpmn:incoming>leave_sub_f</bpmn:incoming>
      </bpmn:endEvent>
      <bpmn:sequenceFlow id="leave_sub_f"
                         sourceRef="leave_sub_start" targetRef="leave_sub_end" />
    </bpmn:subProcess>
  </bpmn:process>"""


def _with_sub(triggered: bool) -> bytes:
    sub = _SUB.replace(b"TRIGGERED", b"true" if triggered else b"false").replace(
        b"DEFINITION",
        b'<bpmn:messageEventDefinition messageRef="Msg_leave" />' if triggered else b"",
    )
    return BPMN.replace(b"<bpmn:process", _MESSAGE, 1).replace(
        b"\n  </bpmn:process>", sub, 1
    )


@pytest.mark.parametrize(
    ("bpmn", "element", "said"),
    [
        (
            _start_with(
                b'<bpmn:messageEventDefinition messageRef="Msg_leave" />', _MESSAGE
            ),
            "leave_start",
            "a message start event starts its case without a person",
        ),
        (
            _start_with(
                b"<bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1H</bpmn:timeCycle>"
                b"</bpmn:timerEventDefinition>"
            ),
            "leave_start",
            "a timer start event starts its case without a person",
        ),
        (
            _start_with(
                b'<bpmn:signalEventDefinition signalRef="Sig_leave" />', _SIGNAL
            ),
            "leave_start",
            "a signal start event starts its case without a person",
        ),
        (
            _with_sub(triggered=True),
            "leave_sub_start",
            "the start event of an event sub-process starts when its message arrives",
        ),
        (
            _with_sub(triggered=False),
            "leave_sub_start",
            "the start event of a subProcess is reached by the case",
        ),
        (
            BPMN.replace(
                b"<bpmn:outgoing>leave_f_start</bpmn:outgoing>",
                b"<bpmn:extensionElements><camunda:formData>"
                b'<camunda:formField id="days" type="long" />'
                b"</camunda:formData></bpmn:extensionElements>"
                b"<bpmn:outgoing>leave_f_start</bpmn:outgoing>",
            ),
            "leave_start",
            "it has both a Camunda Form and formData; keep one",
        ),
        (
            BPMN.replace(
                b'camunda:formRefBinding="deployment"',
                b'camunda:formRefBinding="version" camunda:formRefVersion="3"',
            ),
            "leave_start",
            "formRefBinding='version'",
        ),
        (
            BPMN.replace(b'camunda:formRef="leave-request"', b'camunda:formRef="nope"'),
            "leave_start",
            "its Camunda Form (form id 'nope') was not uploaded",
        ),
    ],
    ids=[
        "message",
        "timer",
        "signal",
        "event-subprocess",
        "subprocess",
        "form-data-too",
        "version-binding",
        "not-uploaded",
    ],
)
def test_a_start_form_nobody_fills_or_that_cannot_run_is_refused_located(
    users, bpmn, element, said
):
    errors = _refused(users, bpmn)
    located = [e for e in errors if e["element_id"] == element and said in e["message"]]
    assert located, errors
    marker = f'id="{element}"'.encode()
    assert located[0]["line"] == _line(bpmn, marker)


def test_a_file_picker_on_a_start_form_is_refused_naming_it(users):
    """A filepicker's files become attachments of a case (as on a user task);
    before the start there is no case, so the form is refused, not its files
    silently dropped."""
    schema = json.loads(FORM_BYTES)
    schema["components"].append(
        {"label": "Doctor's note", "type": "filepicker", "id": "F", "key": "note"}
    )
    errors = _refused(
        users, BPMN, forms=((json.dumps(schema).encode(), "leave_request.form"),)
    )
    (error,) = errors
    assert error["element_id"] == "leave_start"
    assert error["line"] == _line(BPMN, START)
    assert "has a file picker ('note') on the start form" in error["message"]


def _page_start(user, data, business_key=""):
    return page_for(user).post(
        "/processes/leave_request/start/",
        {"form_js_data": json.dumps(data), "business_key": business_key},
    )


def test_the_start_page_renders_the_form_with_the_viewer(users, leave):
    page = page_for(users["requester"]).get("/processes/leave_request/start/")
    html = page.content.decode()
    schema = re.search(
        r'<script id="form-js-schema" type="application/json">(.*?)</script>', html
    )
    assert schema and json.loads(schema.group(1)) == FORM
    assert "vendor/form-js/form-viewer.umd.js" in html
    assert "vendor/form-js/assets/form-js.css" in html
    assert "js/form_js.js" in html
    assert "data-form-js" in html and 'enctype="multipart/form-data"' in html
    assert "https://" not in html.split("<body", 1)[1].split("</footer>")[0]
    assert 'name="business_key"' in html


def test_a_start_page_post_starts_the_case(users, leave):
    response = _page_start(users["requester"], VALID, business_key="LEAVE-7")
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.data == VALID and case.business_key == "LEAVE-7"


def test_a_refused_page_post_shows_the_errors_and_keeps_what_was_typed(users, leave):
    typed = {**VALID, "days": 40, "reason": "short"}
    response = _page_start(users["requester"], typed, business_key="LEAVE-8")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="form-js-errors"' in html
    assert "Days: Field must have maximum value of 30." in html
    assert "Field must have minimum length of 10." in html
    shown = re.search(
        r'<script id="form-js-data" type="application/json">(.*?)</script>', html
    )
    assert shown and json.loads(shown.group(1)) == typed
    errors = re.search(
        r'<script id="form-js-field-errors" type="application/json">(.*?)</script>',
        html,
    )
    assert errors and set(json.loads(errors.group(1))) == {"days", "reason"}
    assert 'value="LEAVE-8"' in html
    assert not Case.objects.exists()


def test_a_start_page_post_that_is_not_json_is_refused(users, leave):
    response = page_for(users["requester"]).post(
        "/processes/leave_request/start/", {"form_js_data": "{not json"}
    )
    assert response.status_code == 400
    assert "did not arrive as JSON" in response.content.decode()
    assert not Case.objects.exists()


def test_a_later_task_asking_for_a_start_form_field_shows_its_value(users):
    """Camunda 7 shows a formData field with the variable of its id when the
    case has it (FormFieldHandler reads the variable); the start form's keys
    count as asked for, as formData start fields do."""
    asks_days = BPMN.replace(
        b'<camunda:formField id="approved" label="Approved" type="boolean" />',
        b'<camunda:formField id="approved" label="Approved" type="boolean" />'
        b'<camunda:formField id="days" label="Days granted" type="long" />',
    )
    assert _upload(users["analyst"], asks_days).status_code == 201
    response = _start(users["requester"], VALID)
    task = HumanTask.objects.get(case_id=response.json()["id"])
    page = page_for(users["manager1"]).get(f"/tasks/{task.pk}/").content.decode()
    days = re.search(r'<input[^>]*name="f-days"[^>]*>', page)
    assert days and 'value="5"' in days.group(0)
