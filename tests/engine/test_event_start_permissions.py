"""A message or a signal starts a case only for a sender who may start the process.

Camunda 7 checks CREATE_INSTANCE on every process definition a message
correlation (CorrelateMessageCmd, CorrelateAllMessageCmd) or a signal
(SignalEventReceivedCmd) would start, before it triggers anything, and refuses
the whole command with an AuthorizationException otherwise. In Laneway the
process's declared starters (camunda:candidateStarterGroups and
candidateStarterUsers, as for starting by hand) are that right
(engine.permissions.can_start_by_event): a sender holding send_message /
send_signal but not named there gets 403 naming the process, and nothing is
delivered, started or recorded. The integration account they name keeps
starting cases. A message start event's lane says who handles the message, not
who sends it, so it does not restrict the sender (unlike a none start event's
lane for starting by hand). A signal a case throws (the system) is not a
person's command and starts them as before.
"""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from audit.models import AuditEvent
from engine.models import Case, MessageSubscription, SignalBroadcast
from engine.services import case_start, signal_broadcast
from engine.spec_cache import spec_for
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db


def _deploy_restricted(tmp_path, name: str, process: str, starters: str) -> None:
    """Deploy tests/bpmn/<name> with the process's starters set."""
    tag = f'<bpmn:process id="{process}"'
    xml = (BPMN_DIR / name).read_text()
    assert tag in xml
    path = tmp_path / name
    path.write_text(xml.replace(tag, f"{tag} {starters}"))
    deploy(path, get_user_model().objects.get(username="analyst"))


def _post(user, url: str, body: dict, **headers):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(url, body, format="json", **headers)


def _waiting_for_payment(users) -> Case:
    case, _ = case_start(
        user=users["requester"], key="payment_wait", data={"order_id": "A-1"}
    )
    prepare = HumanTask.objects.get(case=case, bpmn_id="prepare", status="open")
    task_complete(user=users["finance"], task_id=prepare.pk, data={"invoice": "INV"})
    return case


@pytest.fixture
def orders(users, tmp_path):
    """Order intake starts by the message order_placed; integrations start it."""
    _deploy_restricted(
        tmp_path,
        "message_start.bpmn",
        "order_intake",
        'camunda:candidateStarterGroups="integrations"',
    )


def test_a_message_starting_a_process_the_sender_may_not_start_is_403(users, orders):
    padmin = users["padmin"]  # may send messages, may not start Order intake
    response = _post(
        padmin, "/api/v1/messages/", {"name": "order_placed", "data": {"n": 1}}
    )
    assert response.status_code == 403, response.json()
    body = response.json()
    assert body["code"] == "permission_denied"
    assert "Order intake" in body["message"]
    assert "order_placed" in body["message"]
    assert body["details"] == {"process": "order_intake"}
    assert not Case.objects.exists()
    assert not AuditEvent.objects.filter(
        action__in=["case.started", "message.delivered"]
    ).exists()


def test_the_integration_account_holding_the_right_starts_the_case(
    users, orders, integration
):
    response = _post(
        integration, "/api/v1/messages/", {"name": "order_placed", "data": {"n": 1}}
    )
    assert response.status_code == 201, response.json()
    (case,) = Case.objects.all()
    assert str(case.pk) == response.json()["started"][0]
    assert case.started_by == integration


def test_a_named_starter_user_may_start_by_message(users, tmp_path, integration):
    _deploy_restricted(
        tmp_path,
        "message_start.bpmn",
        "order_intake",
        'camunda:candidateStarterUsers="erp"',
    )
    body = {"name": "order_placed"}
    assert _post(users["padmin"], "/api/v1/messages/", body).status_code == 403
    assert _post(integration, "/api/v1/messages/", body).status_code == 201


@pytest.fixture
def payments(users, tmp_path):
    """A case waits for payment_received; the same message starts Unmatched
    payment, which only integrations may start."""
    deploy(BPMN_DIR / "payment_wait.bpmn", users["analyst"])
    _deploy_restricted(
        tmp_path,
        "payment_start.bpmn",
        "unmatched_payment",
        'camunda:candidateStarterGroups="integrations"',
    )
    return _waiting_for_payment(users)


def test_correlate_all_refused_for_its_start_delivers_to_no_waiting_case(
    users, payments
):
    body = {"name": "payment_received", "all": True, "data": {"paid": 1}}
    response = _post(users["padmin"], "/api/v1/messages/", body)
    assert response.status_code == 403
    assert "Unmatched payment" in response.json()["message"]
    assert Case.objects.count() == 1  # the waiting case only
    assert MessageSubscription.objects.filter(case=payments).exists()  # still waits
    assert not AuditEvent.objects.filter(action="message.delivered").exists()
    payments.refresh_from_db()
    assert "paid" not in payments.data


def test_correlate_all_by_the_integration_reaches_the_case_and_starts(
    users, payments, integration
):
    body = {"name": "payment_received", "all": True, "data": {"paid": 1}}
    response = _post(integration, "/api/v1/messages/", body)
    assert response.status_code == 201, response.json()
    assert response.json()["delivered"] == [str(payments.pk)]
    assert len(response.json()["started"]) == 1


def test_a_message_a_case_waits_for_starts_nothing_so_needs_no_start_right(
    users, payments
):
    """correlate(): a waiting case takes the message; no start event is tried."""
    body = {"name": "payment_received", "data": {"paid": 1}}
    response = _post(users["padmin"], "/api/v1/messages/", body)
    assert response.status_code == 200, response.json()
    assert response.json() == {"delivered": [str(payments.pk)], "started": []}


@pytest.fixture
def signals(users, tmp_path):
    """Cases wait for the signal go; go starts Started by go (integrations)."""
    deploy(BPMN_DIR / "signal_catchers.bpmn", users["analyst"])
    _deploy_restricted(
        tmp_path,
        "signal_start.bpmn",
        "signal_started",
        'camunda:candidateStarterGroups="integrations"',
    )
    case, _ = case_start(user=users["requester"], key="signal_wait", data={"n": 1})
    return case


def test_a_signal_starting_a_process_the_sender_may_not_start_is_403(users, signals):
    response = _post(
        users["padmin"],
        "/api/v1/signals/",
        {"name": "go", "data": {"why": "x"}},
        HTTP_IDEMPOTENCY_KEY="go-1",
    )
    assert response.status_code == 403, response.json()
    body = response.json()
    assert body["code"] == "permission_denied"
    assert "Started by go" in body["message"] and "'go'" in body["message"]
    # Refused whole, as Camunda 7: the waiting case did not get it either.
    assert list(Case.objects.all()) == [signals]
    assert not AuditEvent.objects.filter(action="signal.delivered").exists()
    assert not SignalBroadcast.objects.exists()  # nothing for a retry to replay


def test_the_integration_account_signals_and_starts(users, signals, integration):
    response = _post(integration, "/api/v1/signals/", {"name": "go"})
    assert response.status_code == 200, response.json()
    assert response.json()["delivered"] == [str(signals.pk)]
    (started,) = Case.objects.exclude(pk=signals.pk)
    assert response.json()["started"] == [str(started.pk)]
    assert started.started_by == integration


def test_a_signal_a_case_throws_still_starts_the_process(users, signals):
    """The system broadcasts what a case threw (actor None): no person's right."""
    result = signal_broadcast(actor=None, name="go", data={})
    assert result.delivered == [signals.pk] and len(result.started) == 1


def test_a_message_start_event_s_lane_does_not_restrict_the_sender(
    users, tmp_path, integration
):
    """The Sales lane handles the order; the ERP sends it without joining Sales
    (it would be offered Sales's tasks). Starting by hand follows the lane."""
    lanes = (
        '<bpmn:laneSet id="lanes"><bpmn:lane id="sales" name="Sales">'
        "<bpmn:flowNodeRef>start</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>check_order</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>end</bpmn:flowNodeRef>"
        "</bpmn:lane></bpmn:laneSet>"
    )
    tag = '<bpmn:process id="order_intake" name="Order intake" isExecutable="true">'
    xml = (BPMN_DIR / "message_start.bpmn").read_text()
    path = tmp_path / "message_start.bpmn"
    path.write_text(xml.replace(tag, tag + lanes))
    version = deploy(path, users["analyst"])
    assert spec_for(version).meta.start.lane == "Sales"
    assert not integration.groups.filter(name="Sales").exists()
    response = _post(integration, "/api/v1/messages/", {"name": "order_placed"})
    assert response.status_code == 201, response.json()
