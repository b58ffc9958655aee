"""A signal a case throws reaches the other cases once, and only after it commits.

The throw is written to the case outbox in the thrower's transaction; the
broadcast takes the row and deletes it in its own transaction, so two workers
(or a worker and the sweep) deliver it once, and a thrower rolled back never
throws at all.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction

from audit.models import AuditEvent
from engine.models import Case, SignalOutbox
from engine.services import case_start
from engine.services.signals import signal_outbox_send, signal_outbox_sweep
from engine.tasks import outbox_sweep_task
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, deploy


@pytest.fixture
def cases(users):
    for name in ("signal_catchers.bpmn", "signal_start.bpmn", "signal_thrower.bpmn"):
        deploy(BPMN_DIR / name, users["analyst"])

    def start(key):
        return case_start(user=users["requester"], key=key, data={})[0]

    return {key: start(key) for key in ("signal_wait", "signal_thrower")}


def _deliveries(case):
    return AuditEvent.objects.filter(case_id=case.pk, action="signal.delivered")


def _started():
    return Case.objects.filter(version__definition__key="signal_started")


@pytest.mark.django_db
def test_a_thrown_signal_waits_in_the_outbox_and_is_broadcast_once(users, cases):
    thrower, waiting = cases["signal_thrower"], cases["signal_wait"]
    decide = HumanTask.objects.get(case=thrower, status="open")
    # No commit here, so no task is queued: as if the broker had lost it.
    task_complete(user=users["finance"], task_id=decide.pk, data={})
    rows = SignalOutbox.objects.filter(case=thrower).order_by("created_at")
    assert sorted(rows.values_list("name", flat=True)) == ["done", "go"]
    assert not _deliveries(waiting).exists()  # nothing before the broadcast
    assert signal_outbox_sweep(older_than=timedelta(hours=1)) == []  # not stale yet
    stale = signal_outbox_sweep(older_than=timedelta(0))
    assert sorted(stale) == sorted(rows.values_list("pk", flat=True))
    go = rows.get(name="go").pk
    result = signal_outbox_send(outbox_id=go)
    assert result is not None and result.delivered == [waiting.pk]
    assert [
        c.version.definition.key for c in Case.objects.filter(pk__in=result.started)
    ] == ["signal_started"]
    assert signal_outbox_send(outbox_id=go) is None  # the sweep again: nothing
    assert _deliveries(waiting).count() == 1
    assert _started().count() == 1
    assert list(rows.values_list("name", flat=True)) == ["done"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_broadcast_a_thrown_signal_once(users, cases):
    thrower, waiting = cases["signal_thrower"], cases["signal_wait"]
    decide = HumanTask.objects.get(case=thrower, status="open")
    # The commit queues the broadcast too; no worker runs here (one started by a
    # later test finds the row gone): the two below are the worker and the sweep.
    task_complete(user=users["finance"], task_id=decide.pk, data={})
    go = SignalOutbox.objects.get(case=thrower, name="go").pk
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(signal_outbox_send(outbox_id=go))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r is None for r in results) == [False, True]
    assert _deliveries(waiting).count() == 1
    assert _started().count() == 1
    assert HumanTask.objects.get(case=waiting, status="open").bpmn_id == "after_go"
    assert not SignalOutbox.objects.filter(pk=go).exists()


@pytest.mark.django_db(transaction=True)
def test_a_thrower_rolled_back_throws_nothing(users, cases):
    thrower, waiting = cases["signal_thrower"], cases["signal_wait"]
    decide = HumanTask.objects.get(case=thrower, status="open")
    with pytest.raises(RuntimeError), transaction.atomic():
        task_complete(user=users["finance"], task_id=decide.pk, data={})
        assert SignalOutbox.objects.filter(case=thrower).count() == 2
        raise RuntimeError("the request failed after the throw")
    assert not SignalOutbox.objects.exists()
    assert outbox_sweep_task() == 0  # nothing left for the sweep to send
    assert not _deliveries(waiting).exists() and not _started().exists()
    thrower.refresh_from_db()
    assert thrower.status == "running"
    assert HumanTask.objects.get(case=thrower, status="open").bpmn_id == "decide"
