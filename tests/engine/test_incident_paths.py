"""Skip an incident by choosing an outgoing path, through the API and the page.

`POST /api/v1/incidents/{id}/skip/ {"flow": "<sequenceFlow id>", "data": {...},
"reason"}`: the failed step does not complete; a token takes the chosen flow with
`data` set as case variables. Audited (incident.skipped) with who, why, the flow
and the active elements before and after.
"""

import pytest

from audit.models import AuditEvent
from engine.models import Case, Incident, ServiceCall
from engine.services import (
    case_start,
    service_call_apply,
    service_call_begin,
    service_call_execute,
)
from tasks_app.models import HumanTask
from tests.clients import api_for, page_for
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway_incident(users) -> Incident:
    deploy(BPMN_DIR / "gateway_paths.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key="gateway_paths", data={})
    incident = Incident.objects.get(case=case, status="open")
    assert incident.bpmn_id == "gw"
    return incident


def _open(case_id):
    return list(
        HumanTask.objects.filter(case_id=case_id, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


def _skip(users, incident, body, user="padmin"):
    return api_for(users[user]).post(
        f"/api/v1/incidents/{incident.pk}/skip/", body, format="json"
    )


def test_a_failed_gateway_is_passed_on_the_path_an_admin_chooses(
    users, gateway_incident
):
    incident = gateway_incident
    response = _skip(
        users,
        incident,
        {"flow": "f_low", "data": {"score": 3}, "reason": "score agreed by phone"},
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["resolution"]) == (
        "resolved",
        "path",
    )
    case = Case.objects.get(pk=incident.case_id)
    assert _open(case.pk) == ["low_review"]
    assert case.data["score"] == 3 and case.has_incident is False
    event = AuditEvent.objects.get(case_id=case.pk, action="incident.skipped")
    assert event.actor_repr == "padmin"
    assert event.payload["reason"] == "score agreed by phone"
    assert (event.payload["flow"], event.payload["target"]) == ("f_low", "low_review")
    assert event.payload["data"] == {"score": 3}
    assert event.payload["before"] == {"active": ["gw"]}
    assert event.payload["after"] == {"active": ["low_review"], "status": "running"}


def test_a_flow_that_does_not_leave_the_step_is_refused_naming_the_choices(
    users, gateway_incident
):
    incident = gateway_incident
    for flow in ("f_h_end", "nope"):
        response = _skip(users, incident, {"flow": flow, "data": {}})
        assert response.status_code == 400, response.content
        body = response.json()
        assert "flow" in body["details"]["fields"]
        assert body["details"]["choices"] == ["f_high", "f_low"]
    assert (
        _skip(users, incident, {"flow": "f_low"}, user="requester").status_code == 403
    )
    # Completing a gateway "with data" still cannot choose for it.
    refused = _skip(users, incident, {"data": {"score": 9}})
    assert refused.status_code == 409
    assert "outgoing paths" in refused.json()["message"]
    incident.refresh_from_db()
    assert incident.status == "open"
    assert Case.objects.get(pk=incident.case_id).active_elements == ["gw"]


def test_a_failed_service_task_can_be_left_on_its_path(users, settings):
    settings.ENGINE_SERVICE_OPERATIONS = {"test.flaky": "tests.operations.always_fails"}
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 1
    deploy(BPMN_DIR / "service_flaky.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="service_flaky", data={"amount": 1}
    )
    call = ServiceCall.objects.get(case=case)
    service_call_begin(call_id=call.pk)
    ok, value = service_call_execute(call=call)
    service_call_apply(call_id=call.pk, ok=ok, value=value)
    incident = Incident.objects.get(case=case, status="open")
    response = _skip(users, incident, {"flow": "f2", "data": {"echo_result": None}})
    assert response.status_code == 200, response.content
    assert _open(case.pk) == ["check"]
    assert ServiceCall.objects.get(case=case).status == "failed"  # never run again


def test_the_incident_page_offers_the_paths_by_name_and_takes_one(
    users, gateway_incident
):
    incident = gateway_incident
    page = page_for(users["padmin"])
    html = page.get(f"/incidents/{incident.pk}/").content.decode()
    assert '<option value="f_high">High → High score review</option>' in html
    assert '<option value="f_low">Low → Low score review</option>' in html
    done = page.post(
        f"/incidents/{incident.pk}/skip/",
        {"flow": "f_high", "data": '{"score": 8}', "reason": "checked"},
        follow=True,
    )
    assert "took the chosen path" in done.content.decode()
    assert "Resolved by taking a chosen path" in done.content.decode()
    assert _open(incident.case_id) == ["high_review"]
