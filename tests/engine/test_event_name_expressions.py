"""Message and signal names with ${...}, through the API a sender and an operator use.

Camunda 7 resolves a catching element's message or signal name against the
case's variables when its subscription is created, and correlates a message or
signal by that resolved name. Here through POST /api/v1/messages/ and
/api/v1/signals/ (each command loads the stored case: save and reload between
steps), the case data API (a later change of the variable does not move the
subscription), incidents and their retry, and the case page. The scenarios
(tests/conformance/scenarios/*name_expression*) cover every kind of catch and
throw.
"""

from pathlib import Path

import pytest

from engine.models import Case, Incident, MessageSubscription, SignalSubscription
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tests.clients import api_for, page_for

pytestmark = pytest.mark.django_db

BPMN = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"


def _deploy(users, name: str, xml: bytes | None = None) -> None:
    path = BPMN / name
    version_upload(
        user=users["analyst"], bpmn=xml or path.read_bytes(), filename=path.name
    )


def _start(users, key: str, **data) -> Case:
    case, _ = case_start(user=users["requester"], key=key, data=data)
    case.refresh_from_db()
    return case


def _open(case: Case) -> list[str]:
    return sorted(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


def _message(user, name: str, **data):
    return api_for(user).post(
        "/api/v1/messages/", {"name": name, "data": data}, format="json"
    )


def _subscriptions(case: Case) -> list[tuple[str, str]]:
    return list(
        MessageSubscription.objects.filter(case=case).values_list("name", "bpmn_id")
    )


def _set(users, case: Case, **values) -> None:
    response = api_for(users["padmin"]).patch(
        f"/api/v1/cases/{case.pk}/data/",
        {"set": values, "unset": [], "reason": "the order changed"},
        format="json",
    )
    assert response.status_code == 200, response.content


def test_a_message_reaches_only_the_case_waiting_for_its_resolved_name(
    users, integration
):
    _deploy(users, "msgexpr_catch.bpmn")
    first = _start(users, "msgexpr_catch", orderId=42)
    second = _start(users, "msgexpr_catch", orderId=43)
    assert _subscriptions(first) == [("order-42", "Catch_Order")]
    assert _subscriptions(second) == [("order-43", "Catch_Order")]

    response = _message(integration, "order-43", confirmed=True)

    assert response.status_code == 200, response.content
    assert response.json()["delivered"] == [str(second.pk)]
    assert _open(second) == ["Task_After", "Task_Change"]
    assert _open(first) == ["Task_Change"]
    assert _subscriptions(first) == [("order-42", "Catch_Order")]
    second.refresh_from_db()
    assert second.data["confirmed"] is True


def test_a_later_change_of_the_variable_does_not_move_the_subscription(
    users, integration
):
    _deploy(users, "msgexpr_catch.bpmn")
    case = _start(users, "msgexpr_catch", orderId=42)

    _set(users, case, orderId=99)

    assert _subscriptions(case) == [("order-42", "Catch_Order")]
    refused = _message(integration, "order-99")
    assert refused.status_code == 404, refused.content
    assert refused.json()["code"] == "message_not_correlated"
    assert _message(integration, "order-42").status_code == 200
    assert _open(case) == ["Task_After", "Task_Change"]


def test_a_name_that_cannot_be_resolved_is_an_incident_retried_once_it_can(
    users, integration
):
    _deploy(users, "msgexpr_catch.bpmn")
    case = _start(users, "msgexpr_catch")  # no orderId

    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert incident.bpmn_id == "Catch_Order"
    assert "order-${orderId}" in incident.message
    assert "cannot be resolved" in incident.message
    assert _subscriptions(case) == []

    _set(users, case, orderId=7)
    retried = api_for(users["padmin"]).post(f"/api/v1/incidents/{incident.pk}/retry/")

    assert retried.status_code == 200, retried.content
    assert _subscriptions(case) == [("order-7", "Catch_Order")]
    assert _message(integration, "order-7").status_code == 200
    assert _open(case) == ["Task_After", "Task_Change"]


def test_a_name_that_is_one_expression_must_hold_text(users, integration):
    xml = (BPMN / "msgexpr_catch.bpmn").read_bytes()
    whole = xml.replace(b"order-${orderId}", b"${orderId}")
    _deploy(users, "msgexpr_catch.bpmn", whole)

    number = _start(users, "msgexpr_catch", orderId=42)
    text = _start(users, "msgexpr_catch", orderId="A-42")

    incident = Incident.objects.get(case=number, status=Incident.Status.OPEN)
    assert "not text" in incident.message
    assert _subscriptions(text) == [("A-42", "Catch_Order")]
    assert _message(integration, "A-42").json()["delivered"] == [str(text.pk)]


def test_a_signal_reaches_only_the_cases_whose_resolved_names_match(users, integration):
    _deploy(users, "sigexpr.bpmn")
    north = _start(users, "sigexpr_catch", zone="north")
    south = _start(users, "sigexpr_catch", zone="south")
    assert sorted(
        SignalSubscription.objects.filter(case=north).values_list("name", "bpmn_id")
    ) == [("alarm-north", "SgAlarm"), ("stop-north", "SgStop")]

    response = api_for(integration).post(
        "/api/v1/signals/", {"name": "stop-south", "data": {}}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["delivered"] == [str(south.pk)]
    assert _open(south) == ["SgTask_Stopped"]
    assert _open(north) == ["SgTask_Work"]


def test_the_case_page_shows_the_resolved_names_the_case_waits_for(users):
    _deploy(users, "msgexpr_catch.bpmn")
    case = _start(users, "msgexpr_catch", orderId=42)

    page = page_for(users["requester"]).get(f"/cases/{case.pk}/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Waiting for" in text
    assert "order-42" in text
    assert "Message at Order confirmed" in text
    assert "order-${orderId}" not in text


def test_every_name_that_cannot_be_resolved_in_one_step_is_an_incident_at_once(
    users, integration
):
    """A parallel fork reaches both catches in one step: neither name resolves
    without orderId, so both are incidents now (the second was reported only
    by the case's next command)."""
    two = BPMN.parent.parent / "bpmn" / "msgexpr_two_catches.bpmn"
    version_upload(user=users["analyst"], bpmn=two.read_bytes(), filename=two.name)
    case = _start(users, "msgexpr_two")  # no orderId

    incidents = Incident.objects.filter(case=case, status=Incident.Status.OPEN)
    assert sorted(i.bpmn_id for i in incidents) == ["TwPaid", "TwRecall"]
    assert all("cannot be resolved" in i.message for i in incidents)
