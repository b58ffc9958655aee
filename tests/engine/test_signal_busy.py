"""A signal broadcast reaches a case that was busy, once, as soon as it is free.

Camunda 7 throws a signal synchronously and retries a throw that conflicts
with another command on a waiting instance (optimistic locking, retried as a
job), so a catcher waiting at the throw never misses it. Laneway takes each
waiting case's row lock for at most ENGINE_LOCK_TIMEOUT_MS; a case another
command holds longer gets the signal later, from its own outbox row, once.
A signal reaches only the subscriptions open when it is thrown (BPMN 2.0
§10.5.1 "Signal": a broadcast to the catchers ready for it; Camunda 7
SignalEventReceivedCmd triggers the event subscriptions it finds), so a case
that starts waiting afterwards does not get it; a suspended case does not get
it (Camunda 7 selects the signal subscriptions of active executions only:
EventSubscription.xml, selectSignalEventSubscriptionsByEventName,
`EXC.SUSPENSION_STATE_ = 1`).

The lock is held for real, by another PostgreSQL connection, as a command
holding the case would.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from audit.models import AuditEvent
from cockpit.services.repairs import case_resume, case_suspend
from config.celery import app
from engine.models import Case, SignalDelivery, SignalOutbox
from engine.services import case_start
from engine.services.signals import (
    signal_delivery_sweep,
    signal_outbox_send,
)
from engine.tasks import outbox_sweep_task, signal_delivery_send_task
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catchers(users):
    for name in ("signal_catchers.bpmn", "signal_start.bpmn", "signal_thrower.bpmn"):
        deploy(BPMN_DIR / name, users["analyst"])


def _start(users, key):
    return case_start(user=users["requester"], key=key, data={})[0]


@contextmanager
def _held(case: Case) -> Iterator[None]:
    """Hold `case`'s row lock in another connection (another command at work)."""
    db = connection.settings_dict
    holder = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"] or None,
    )
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.transaction():
            holder.execute(
                "SELECT 1 FROM engine_case WHERE id = %s FOR UPDATE", [case.pk]
            )
            locked.set()
            release.wait(60)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        with override_settings(ENGINE_LOCK_TIMEOUT_MS=200):
            yield
    finally:
        release.set()
        thread.join()
        holder.close()


def _sweep() -> int:
    """What the outbox sweep's worker does with the late deliveries it finds."""
    late = signal_delivery_sweep(older_than=timedelta(0))
    for pk in late:
        signal_delivery_send_task(str(pk))
    return len(late)


def _deliveries(case):
    return AuditEvent.objects.filter(case_id=case.pk, action="signal.delivered")


def _open(case):
    return list(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


def _broadcast(user, name, data):
    client = APIClient()
    client.force_authenticate(user)
    body = {"name": name, "data": data}
    answer = client.post("/api/v1/signals/", body, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_a_busy_case_gets_an_api_signal_once_when_free_and_a_later_waiter_never(
    users, catchers, integration
):
    free = _start(users, "signal_wait")
    busy = _start(users, "signal_wait")
    with _held(busy):
        answer = _broadcast(integration, "go", {"order": 7})
        # The case the broadcast could not lock is not skipped: it is pending.
        assert answer["delivered"] == [str(free.pk)]
        assert answer["pending"] == [str(busy.pk)]
        assert len(answer["started"]) == 1
        assert _open(free) == ["after_go"]
        # Still busy at the sweep: it keeps its delivery for the next sweep.
        assert _sweep() == 1
        assert SignalDelivery.objects.filter(case=busy).count() == 1
        assert not _deliveries(busy).exists()
    late = _start(users, "signal_wait")  # starts waiting after the broadcast
    assert _sweep() == 1  # the lock is free now: delivered
    assert _sweep() == 0  # and only once
    assert _open(busy) == ["after_go"]
    assert _deliveries(busy).count() == 1 and _deliveries(free).count() == 1
    audit = _deliveries(busy).get()
    assert audit.payload["name"] == "go" and audit.payload["data"] == {"order": 7}
    assert audit.actor_id == integration.pk  # the sender, as at once
    assert not _deliveries(late).exists()
    assert _open(late) == []  # still waiting for the next "go"
    assert not SignalDelivery.objects.exists()


def test_a_thrown_signal_reaches_a_busy_case_once_after_the_outbox_row_is_gone(
    users, catchers
):
    busy = _start(users, "signal_wait")
    boundary = _start(users, "signal_boundary")
    thrower = _start(users, "signal_thrower")
    decide = HumanTask.objects.get(case=thrower, status="open")
    task_complete(user=users["finance"], task_id=decide.pk, data={})
    go = SignalOutbox.objects.get(case=thrower, name="go")
    with _held(busy):
        result = signal_outbox_send(outbox_id=go.pk)
        assert result is not None
        assert result.delivered == [boundary.pk] and result.pending == [busy.pk]
    assert not SignalOutbox.objects.filter(pk=go.pk).exists()
    late = SignalDelivery.objects.get(case=busy)
    assert (late.broadcast, late.name, late.sent_by) == (go.pk, "go", None)
    assert signal_outbox_send(outbox_id=go.pk) is None  # the thrown row: gone
    assert _sweep() == 1 and _sweep() == 0
    assert _open(busy) == ["after_go"] and _open(boundary) == ["stopped"]
    assert _deliveries(busy).get().actor_repr == "system"
    assert _deliveries(boundary).count() == 1


def test_a_busy_case_that_stopped_waiting_meanwhile_does_not_get_it(
    users, catchers, integration
):
    working = _start(users, "signal_boundary")
    with _held(working):
        assert _broadcast(integration, "go", {})["pending"] == [str(working.pk)]
    work = HumanTask.objects.get(case=working, status="open")
    task_complete(user=users["finance"], task_id=work.pk, data={})  # boundary gone
    assert _sweep() == 1 and _sweep() == 0
    working.refresh_from_db()
    assert working.status == "completed"  # by its normal flow, not "stopped"
    assert not _deliveries(working).exists()


def test_a_suspended_case_does_not_get_a_signal_as_in_camunda(
    users, catchers, integration
):
    """Camunda 7 triggers the signal subscriptions of active executions only.

    camunda-bpm-platform EventSubscription.xml,
    selectSignalEventSubscriptionsByEventName:
    `and (EVT.EXECUTION_ID_ is null or EXC.SUSPENSION_STATE_ = 1)`: a
    suspended instance misses the broadcast and does not get it when activated.
    """
    held = _start(users, "signal_wait")
    busy_then_held = _start(users, "signal_wait")
    case_suspend(user=users["padmin"], case_id=held.pk, reason="hold")
    with _held(busy_then_held):
        answer = _broadcast(integration, "go", {})
    assert answer["delivered"] == [] and answer["pending"] == [str(busy_then_held.pk)]
    # Suspended before its late delivery: it misses it too, and the row goes.
    case_suspend(user=users["padmin"], case_id=busy_then_held.pk, reason="hold")
    assert _sweep() == 1 and _sweep() == 0
    for case in (held, busy_then_held):
        case_resume(user=users["padmin"], case_id=case.pk, reason="go on")
    assert _sweep() == 0
    for case in (held, busy_then_held):
        assert not _deliveries(case).exists()
        assert _open(case) == []  # still waiting for the next "go"


@pytest.mark.worker
def test_the_worker_and_the_beat_sweep_hand_a_busy_case_its_signal_once(
    users, catchers, integration
):
    """The path in production: the task queued at the broadcast, then the sweep."""
    busy = _start(users, "signal_wait")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with _held(busy):
            assert _broadcast(integration, "go", {})["pending"] == [str(busy.pk)]
        with override_settings(ENGINE_OUTBOX_STALE_SECONDS=0):
            outbox_sweep_task()  # the beat; the first task may have delivered it
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and SignalDelivery.objects.exists():
            time.sleep(0.2)
    assert not SignalDelivery.objects.exists()
    assert _open(busy) == ["after_go"]
    assert _deliveries(busy).count() == 1
