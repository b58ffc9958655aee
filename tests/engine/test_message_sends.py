"""A case's send task and message throw events reach other cases after it commits."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from audit.models import AuditEvent
from config.celery import app
from engine.models import Case
from engine.services import case_start
from engine.services.message_sends import message_send_from_case
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, deploy


def _until(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.2)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_send_task_and_throw_events_wake_and_start_other_cases(users):
    for name in ("message_shapes.bpmn", "message_start.bpmn", "message_sender.bpmn"):
        deploy(BPMN_DIR / name, users["analyst"])
    receiver, _ = case_start(user=users["requester"], key="message_shapes", data={})
    sender, _ = case_start(user=users["requester"], key="message_sender", data={})
    compose = HumanTask.objects.get(case=sender, status="open")

    def done():
        receiver.refresh_from_db()
        orders = Case.objects.filter(version__definition__key="order_intake")
        return receiver.status == "completed" and orders.exists()

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        task_complete(user=users["finance"], task_id=compose.pk, data={})
        _until(done)
    sender.refresh_from_db()
    assert sender.status == "completed"
    # The send task's "ack" woke the receive task, the throw event's "answer_yes"
    # took the event-based gateway's yes branch.
    assert receiver.status == "completed"
    assert "end_yes" in AuditEvent.objects.filter(
        case_id=receiver.pk, action="element.completed"
    ).values_list("payload__element", flat=True)
    delivered = AuditEvent.objects.filter(
        case_id=receiver.pk, action="message.delivered"
    )
    assert sorted(delivered.values_list("payload__name", flat=True)) == [
        "ack",
        "answer_yes",
    ]
    assert {e.actor_repr for e in delivered} == {"system"}
    # The message end event started the process with that message start event.
    order = Case.objects.get(version__definition__key="order_intake")
    assert HumanTask.objects.get(case=order, status="open").bpmn_id == "check_order"
    assert order.started_by.username == "laneway-system"


@pytest.mark.django_db
def test_a_message_two_cases_wait_for_reaches_neither(users):
    deploy(BPMN_DIR / "message_shapes.bpmn", users["analyst"])
    first, _ = case_start(user=users["requester"], key="message_shapes", data={})
    second, _ = case_start(user=users["requester"], key="message_shapes", data={})
    result = message_send_from_case(
        name="ack", payload={}, correlation={}, source=first.pk
    )
    # The sender itself is never a receiver; exactly one other case takes it.
    assert result.delivered == [second.pk]
    third, _ = case_start(user=users["requester"], key="message_shapes", data={})
    result = message_send_from_case(
        name="ack", payload={}, correlation={}, source=second.pk
    )
    assert (result.delivered, result.started) == ([], [])  # first and third: ambiguous
    assert not AuditEvent.objects.filter(
        case_id__in=[first.pk, third.pk], action="message.delivered"
    ).exists()
    # The sender's trail says so (the sending step has committed; it is not undone)
    # and, as Camunda fails the step, an incident waits on the sender.
    [undelivered] = AuditEvent.objects.filter(
        case_id=second.pk, action="message.undelivered"
    )
    assert undelivered.payload == {"name": "ack", "reason": "2 cases match “ack”"}
    assert second.incidents.get().kind == "message"


@pytest.mark.django_db
def test_a_message_nobody_waits_for_is_recorded_on_the_sender(users):
    deploy(BPMN_DIR / "message_shapes.bpmn", users["analyst"])
    sender, _ = case_start(user=users["requester"], key="message_shapes", data={})
    result = message_send_from_case(
        name="nobody_listens", payload={}, correlation={}, source=sender.pk
    )
    assert (result.delivered, result.started) == ([], [])
    [undelivered] = AuditEvent.objects.filter(
        case_id=sender.pk, action="message.undelivered"
    )
    assert undelivered.payload["name"] == "nobody_listens"
    assert "no case waits" in undelivered.payload["reason"]


@pytest.mark.django_db
def test_a_sent_message_waits_in_the_outbox_until_delivered_once(users):
    """The send is written with the sender's commit; a lost queue entry is re-sent by
    the sweep and the message is delivered once however often it is sent."""
    from datetime import timedelta

    from engine.models import MessageOutbox
    from engine.services.message_sends import (
        message_outbox_send,
        message_outbox_sweep,
    )

    deploy(BPMN_DIR / "message_notify.bpmn", users["analyst"])
    receiver, _ = case_start(user=users["requester"], key="notify_receiver", data={})
    sender, _ = case_start(user=users["requester"], key="notify_sender", data={})
    record = HumanTask.objects.get(case=sender, status="open")
    # No commit here, so no task is queued: as if the broker had lost it.
    task_complete(user=users["finance"], task_id=record.pk, data={})
    [row] = MessageOutbox.objects.all()
    assert (row.case_id, row.name, row.bpmn_id) == (
        sender.pk,
        "invoice_paid",
        "tell_accounts",
    )
    receiver.refresh_from_db()
    assert receiver.status == "running"
    assert message_outbox_sweep(older_than=timedelta(hours=1)) == []  # not stale yet
    assert message_outbox_sweep(older_than=timedelta(0)) == [row.pk]
    result = message_outbox_send(outbox_id=row.pk)
    assert result is not None and result.delivered == [receiver.pk]
    assert message_outbox_send(outbox_id=row.pk) is None  # sent again: nothing
    assert not MessageOutbox.objects.exists()
    receiver.refresh_from_db()
    assert receiver.status == "completed"
    assert AuditEvent.objects.filter(action="message.delivered").count() == 1
