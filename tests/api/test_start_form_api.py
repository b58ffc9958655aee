"""GET /api/v1/processes/{key}/start-form/: what a person fills to start a case.

Camunda 7's GET /process-definition/key/{key}/deployed-start-form answers the
form its initial start event references, for the latest version (and by id for
any version); here the answer carries the start event's formData fields
(`form`, as a task's) and its Camunda Form (`form_js`, as a task's), for the
current version or version {number}. Only those who may start the process see
it, by the rule starting uses (engine.permissions.can_start): the process list
is open to everyone signed in, so anyone else gets 403 naming the process.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.clients import api_for
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db

LEAVE = (BPMN_DIR / "leave_request.bpmn").read_bytes()
FORM_BYTES = (BPMN_DIR / "leave_request.form").read_bytes()
LEAVE_PROCESS = b'<bpmn:process id="leave_request" name="Leave request"'


def _upload(user, bpmn: bytes = LEAVE):
    response = api_for(user).post(
        "/api/v1/processes/",
        {
            "file": SimpleUploadedFile("leave_request.bpmn", bpmn),
            "form": [SimpleUploadedFile("leave_request.form", FORM_BYTES)],
        },
        format="multipart",
    )
    assert response.status_code in (200, 201), response.json()


def _start_form(user, key: str, number: int | None = None):
    version = "" if number is None else f"versions/{number}/"
    return api_for(user).get(f"/api/v1/processes/{key}/{version}start-form/")


def test_a_camunda_form_start_event_answers_its_form_js(users):
    _upload(users["analyst"])
    response = _start_form(users["requester"], "leave_request")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["form_js"] == json.loads(FORM_BYTES)
    assert (body["key"], body["name"], body["version"], body["form"]) == (
        "leave_request",
        "Leave request",
        1,
        [],
    )


def test_a_form_data_start_event_answers_its_fields(users, purchase):
    response = _start_form(users["requester"], "purchase_request")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["form_js"] is None
    assert body["documentation"] == "Describe what you want to buy and why."
    amount, justification = body["form"]
    assert (amount["id"], amount["type"], amount["required"]) == (
        "amount",
        "double",
        True,
    )
    assert amount["exclusive_minimum"] == 0
    assert (justification["widget"], justification["max_length"]) == (
        "textarea",
        2000,
    )


def test_who_may_not_start_the_process_gets_403_naming_it(users, purchase):
    """The start event lies in the Requester lane: only Requesters start it."""
    for role in ("manager1", "finance", "auditor", "padmin", "outsider"):
        for number in (None, 1):
            response = _start_form(users[role], "purchase_request", number)
            assert response.status_code == 403, (role, number)
            body = response.json()
            assert body["code"] == "permission_denied"
            assert "Purchase request" in body["message"]
            assert "form" not in body and "form_js" not in body


def test_candidate_starter_groups_decide_who_sees_a_camunda_start_form(users):
    restricted = LEAVE.replace(
        LEAVE_PROCESS, LEAVE_PROCESS + b' camunda:candidateStarterGroups="Finance"'
    )
    _upload(users["analyst"], restricted)
    assert _start_form(users["finance"], "leave_request").status_code == 200
    refused = _start_form(users["requester"], "leave_request")
    assert refused.status_code == 403
    assert "form_js" not in refused.json()


def test_the_current_version_and_each_version_answer_their_own_form(users):
    _upload(users["analyst"])
    renamed = LEAVE.replace(b'name="Leave wanted"', b'name="Time off wanted"')
    renamed = renamed.replace(
        LEAVE_PROCESS, LEAVE_PROCESS + b' camunda:candidateStarterUsers="requester"'
    )
    _upload(users["analyst"], renamed)
    current = _start_form(users["requester"], "leave_request")
    assert current.json()["version"] == 2
    assert _start_form(users["requester"], "leave_request", 2).json() == current.json()
    first = _start_form(users["requester2"], "leave_request", 1)
    assert first.status_code == 200 and first.json()["version"] == 1
    # Version 2 names its starters; version 1 does not: each version's own rule.
    assert _start_form(users["requester2"], "leave_request").status_code == 403
    assert _start_form(users["requester2"], "leave_request", 2).status_code == 403


def test_an_unknown_process_or_version_is_404(users, purchase):
    unknown = _start_form(users["requester"], "no_such_process")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "process_not_found"
    missing = _start_form(users["requester"], "purchase_request", 7)
    assert missing.status_code == 404
    assert missing.json()["code"] == "version_not_found"


def test_a_process_only_its_message_starts_has_no_start_form_409(users):
    deploy(BPMN_DIR / "payment_start.bpmn", users["analyst"])
    response = _start_form(users["requester"], "unmatched_payment")
    assert response.status_code == 409
    assert response.json()["code"] == "message_start_only"


def test_anonymous_callers_get_401(purchase):
    response = APIClient().get("/api/v1/processes/purchase_request/start-form/")
    assert response.status_code == 401
