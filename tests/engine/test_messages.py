"""Messages: correlation to waiting cases, payloads, boundary events, message starts."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.selectors import audit_verify
from engine.errors import ActionNotAllowed, MessageNotCorrelated
from engine.models import Case, MessageSubscription, ServiceCall
from engine.services import (
    case_start,
    message_deliver,
    service_call_apply,
    service_call_begin,
    service_call_execute,
)
from engine.spiff import service_operations
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, deploy

CORPUS = Path(django_settings.BASE_DIR).parent / "shared" / "corpus"

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment(users):
    return deploy(BPMN_DIR / "payment_wait.bpmn", users["analyst"])


@pytest.fixture
def integration(users):
    user = get_user_model().objects.create_user("erp", "erp@example.com", "x")
    user.groups.add(Group.objects.get(name="integrations"))
    return user


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def send(user, body):
    return api(user).post("/api/v1/messages/", body, format="json")


def _waiting_for_payment(users, order_id):
    case, _ = case_start(
        user=users["requester"], key="payment_wait", data={"order_id": order_id}
    )
    prepare = HumanTask.objects.get(case=case, bpmn_id="prepare", status="open")
    task_complete(user=users["finance"], task_id=prepare.pk, data={"invoice": "INV"})
    case.refresh_from_db()
    return case


def _delivered(case):
    return AuditEvent.objects.filter(case_id=case.pk, action="message.delivered")


def test_message_reaches_only_the_case_whose_variables_match(users, payment):
    first = _waiting_for_payment(users, "A-1")
    second = _waiting_for_payment(users, "A-2")
    assert set(MessageSubscription.objects.values_list("case_id", "name")) == {
        (first.pk, "payment_received"),
        (second.pk, "payment_received"),
    }

    result = message_deliver(
        user=users["padmin"],
        name="payment_received",
        correlation={"order_id": "A-1"},
        data={"amount": 120, "paid_by": "wire"},
    )

    assert result.delivered == [first.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Case.Status.COMPLETED
    assert first.data == {
        "order_id": "A-1",
        "invoice": "INV",
        "amount": 120,
        "paid_by": "wire",
    }
    assert second.status == Case.Status.RUNNING
    assert "amount" not in second.data
    event = _delivered(first).get()
    assert event.actor_id == users["padmin"].pk
    assert event.payload["name"] == "payment_received"
    assert event.payload["correlation"] == {"order_id": "A-1"}
    assert event.payload["data"] == {"amount": 120, "paid_by": "wire"}
    assert not _delivered(second).exists()
    assert list(MessageSubscription.objects.values_list("case_id", flat=True)) == [
        second.pk
    ]
    assert audit_verify().ok is True


def test_api_delivers_and_answers_200_with_the_case_ids(users, payment, integration):
    case = _waiting_for_payment(users, "A-1")
    response = send(
        integration,
        {"name": "payment_received", "correlation": {"order_id": "A-1"}, "data": {}},
    )
    assert response.status_code == 200
    assert response.json() == {"delivered": [str(case.pk)], "started": []}


def test_wrong_correlation_is_404_and_changes_nothing(users, payment):
    case = _waiting_for_payment(users, "A-1")
    revision = case.revision
    response = send(
        users["padmin"],
        {"name": "payment_received", "correlation": {"order_id": "B-9"}, "data": {}},
    )
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "message_not_correlated"
    assert "payment_received" in body["message"] and "B-9" in body["message"]
    assert body["details"] == {
        "name": "payment_received",
        "correlation": {"order_id": "B-9"},
    }
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING and case.revision == revision
    assert MessageSubscription.objects.filter(case=case).count() == 1
    assert not _delivered(case).exists()


def test_unknown_message_name_is_404(users, payment):
    _waiting_for_payment(users, "A-1")
    response = send(users["padmin"], {"name": "no_such_message"})
    assert response.status_code == 404
    assert response.json()["code"] == "message_not_correlated"


def test_message_before_the_case_waits_for_it_is_404(users, payment):
    case, _ = case_start(
        user=users["requester"], key="payment_wait", data={"order_id": "A-1"}
    )
    with pytest.raises(MessageNotCorrelated):
        message_deliver(
            user=users["padmin"],
            name="payment_received",
            correlation={"order_id": "A-1"},
            data={},
        )
    assert HumanTask.objects.filter(case=case, status="open").count() == 1


def test_two_matching_cases_are_409_unless_all(users, payment):
    first = _waiting_for_payment(users, "A-1")
    second = _waiting_for_payment(users, "A-1")
    body = {"name": "payment_received", "correlation": {"order_id": "A-1"}}

    refused = send(users["padmin"], body)
    assert refused.status_code == 409
    assert refused.json()["code"] == "message_ambiguous"
    assert refused.json()["details"]["matches"] == 2
    assert Case.objects.filter(status=Case.Status.RUNNING).count() == 2
    assert not AuditEvent.objects.filter(action="message.delivered").exists()

    both = send(users["padmin"], {**body, "all": True, "data": {"batch": 7}})
    assert both.status_code == 200
    assert set(both.json()["delivered"]) == {str(first.pk), str(second.pk)}
    assert Case.objects.filter(status=Case.Status.COMPLETED).count() == 2
    assert all(c.data["batch"] == 7 for c in Case.objects.all())


def test_plain_employee_may_not_send_messages(users, payment):
    case = _waiting_for_payment(users, "A-1")
    response = send(
        users["requester"],
        {"name": "payment_received", "correlation": {"order_id": "A-1"}},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    with pytest.raises(ActionNotAllowed):
        message_deliver(
            user=users["finance"], name="payment_received", correlation={}, data={}
        )
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING


def test_anonymous_sender_gets_401(db):
    response = APIClient().post("/api/v1/messages/", {"name": "x"}, format="json")
    assert response.status_code == 401


def test_bad_input_is_400(users):
    for body in (
        {"name": "x", "correlation": ["order_id"]},
        {"name": "x", "correlation": {"order id": 1}},
        {"name": "x", "data": "text"},
        {"correlation": {}},
    ):
        response = send(users["padmin"], body)
        assert response.status_code == 400, body
        assert response.json()["code"] == "invalid"


def test_interrupting_boundary_message_cancels_the_task_and_closes_it(users):
    deploy(BPMN_DIR / "order_cancel_boundary.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="order_review", data={"order_id": "A-7"}
    )
    review = HumanTask.objects.get(case=case, bpmn_id="review")
    assert review.status == "open"

    result = message_deliver(
        user=users["padmin"],
        name="order_cancelled",
        correlation={"order_id": "A-7"},
        data={"reason": "customer withdrew"},
    )

    assert result.delivered == [case.pk]
    case.refresh_from_db()
    review.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert case.data["reason"] == "customer withdrew"
    assert review.status == HumanTask.Status.CANCELLED
    assert AuditEvent.objects.filter(
        case_id=case.pk, action="element.completed", task_ref="end_cancelled"
    ).exists()
    assert AuditEvent.objects.filter(
        case_id=case.pk, action="task.cancelled", task_ref__startswith="review:"
    ).exists()
    assert not MessageSubscription.objects.filter(case=case).exists()


def test_spiff_correlation_property_routes_and_payload_lands_in_message_variable(
    users,
):
    deploy(BPMN_DIR / "spiff_correlated_reply.bpmn", users["analyst"])
    cases = {
        ref: case_start(
            user=users["requester"], key="supplier_quote", data={"request_no": ref}
        )[0]
        for ref in ("R-1", "R-2")
    }
    subscription = MessageSubscription.objects.get(case=cases["R-1"])
    assert subscription.correlation == {"quote_ref": "R-1"}

    with pytest.raises(MessageNotCorrelated):
        message_deliver(
            user=users["padmin"],
            name="supplier_quote_received",
            correlation={"quote_ref": "R-3"},
            data={"price": 1},
        )
    result = message_deliver(
        user=users["padmin"],
        name="supplier_quote_received",
        correlation={"quote_ref": "R-2"},
        data={"price": 9},
    )

    assert result.delivered == [cases["R-2"].pk]
    done = Case.objects.get(pk=cases["R-2"].pk)
    assert done.status == Case.Status.COMPLETED
    assert done.data["quote"] == {"quote_ref": "R-2", "price": 9}
    assert "price" not in done.data
    assert Case.objects.get(pk=cases["R-1"].pk).status == Case.Status.RUNNING


def test_receive_task_then_event_based_gateway(users):
    deploy(BPMN_DIR / "message_shapes.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key="message_shapes", data={})
    assert list(
        MessageSubscription.objects.filter(case=case).values_list("name", "bpmn_id")
    ) == [("ack", "receive_ack")]

    message_deliver(user=users["padmin"], name="ack", correlation={}, data={"a": 1})
    assert sorted(
        MessageSubscription.objects.filter(case=case).values_list("name", flat=True)
    ) == ["answer_no", "answer_yes"]

    message_deliver(
        user=users["padmin"], name="answer_no", correlation={}, data={"b": 2}
    )
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert case.data == {"a": 1, "b": 2}
    assert AuditEvent.objects.filter(
        case_id=case.pk, action="element.completed", task_ref="end_no"
    ).exists()
    assert not AuditEvent.objects.filter(
        case_id=case.pk, action="element.completed", task_ref="end_yes"
    ).exists()


def test_message_start_event_starts_a_case_201(users, integration):
    deploy(BPMN_DIR / "message_start.bpmn", users["analyst"])
    response = send(
        integration,
        {"name": "order_placed", "data": {"order_id": "Z-1", "total": 40}},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["delivered"] == [] and len(body["started"]) == 1
    case = Case.objects.get(pk=body["started"][0])
    assert case.status == Case.Status.RUNNING
    assert case.started_by == integration
    assert case.data == {"order_id": "Z-1", "total": 40}
    assert HumanTask.objects.filter(
        case=case, bpmn_id="check_order", status="open"
    ).exists()
    actions = list(
        AuditEvent.objects.filter(case_id=case.pk)
        .order_by("chain_seq")
        .values_list("action", flat=True)
    )
    assert actions[:2] == ["case.started", "message.delivered"]


def test_role_groups_carry_the_send_message_permission(users, integration):
    assert users["padmin"].has_perm("engine.send_message") is True
    assert integration.has_perm("engine.send_message") is True
    assert users["analyst"].has_perm("engine.send_message") is False


def test_operaton_corpus_diagram_starts_by_message_then_waits_for_shipment(
    users, integration, settings
):
    path = CORPUS / "operaton" / "message-events--order-shipment.bpmn"
    if not path.exists():
        pytest.skip("the shared corpus is not checked out")
    settings.ENGINE_SERVICE_OPERATIONS = {
        name: "engine.operations.echo" for name in service_operations(path.read_bytes())
    }
    deploy(path, users["analyst"])

    started = message_deliver(
        user=integration, name="OrderPlaced", correlation={}, data={"orderId": "O-1"}
    ).started
    case = Case.objects.get(pk=started[0])
    call = ServiceCall.objects.get(case=case)
    begun = service_call_begin(call_id=call.pk)
    ok, value = service_call_execute(call=begun)
    service_call_apply(call_id=call.pk, ok=ok, value=value)
    assert list(
        MessageSubscription.objects.filter(case=case).values_list("name", flat=True)
    ) == ["ShipmentReady"]

    result = message_deliver(
        user=integration,
        name="ShipmentReady",
        correlation={"orderId": "O-1"},
        data={"carrier": "DHL"},
    )
    assert result.delivered == [case.pk]
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert case.data["orderId"] == "O-1" and case.data["carrier"] == "DHL"
