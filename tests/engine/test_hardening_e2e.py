"""Hostile diagrams through the real services and API, on PostgreSQL."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from engine.models import Case
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload

pytestmark = pytest.mark.django_db

BPMN = Path(__file__).resolve().parents[1] / "bpmn"


def _diagram(script="x = 1", condition="amount > 1000"):
    xml = (BPMN / "hostile_gateway.bpmn").read_text()
    escape = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    for old, new in escape.items():
        script, condition = script.replace(old, new), condition.replace(old, new)
    return xml.replace("SCRIPT", script).replace("CONDITION", condition).encode()


def _upload(name, content):
    return SimpleUploadedFile(name, content, content_type="application/xml")


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_escape_in_a_condition_is_rejected_at_upload_with_a_located_error(users):
    with pytest.raises(BpmnInvalid) as exc:
        version_upload(
            user=users["analyst"],
            bpmn=_diagram(condition="__import__('os').system('id') == 0"),
            filename="evil.bpmn",
        )
    errors = exc.value.details["errors"]
    assert errors[0]["element_id"] == "f_big" and errors[0]["line"]

    response = _api(users["analyst"]).post(
        "/api/v1/processes/",
        {"file": _upload("evil.bpmn", _diagram(script="import os"))},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bpmn_invalid"
    assert response.json()["details"]["errors"][0]["element_id"] == "prepare"


@pytest.mark.parametrize(
    ("script", "condition", "element"),
    [
        ("x = 1", "10**10**8 > 0", "gw"),
        ("while True:\n    pass", "amount > 1000", "prepare"),
    ],
)
def test_hostile_content_that_deploys_fails_at_run_time_as_an_incident_on_the_case(
    users, script, condition, element
):
    version_upload(
        user=users["analyst"], bpmn=_diagram(script, condition), filename="h.bpmn"
    )
    case, _ = case_start(
        user=users["requester"], key="hostile_gateway", data={"amount": 5}
    )
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING
    assert case.has_incident is True

    response = _api(users["requester"]).get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["tasks"] == []
    [incident] = body["incidents"]
    assert incident["element"] == element
    assert incident["error_type"] == "SandboxViolation"
    assert incident["message"]
