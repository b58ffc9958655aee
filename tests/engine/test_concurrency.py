"""Two users complete the same task at the same moment: exactly one wins."""

import threading

import pytest
from django.db import connection, connections, transaction

from audit.models import AuditEvent
from engine.services import case_start
from tasks_app.errors import TaskAlreadyClaimed, TaskNotOpen
from tasks_app.models import HumanTask
from tasks_app.services import task_complete


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_second_completer_waits_for_the_lock_then_gets_conflict(users, purchase):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 10, "justification": "pens"},
    )
    task = HumanTask.objects.get(case=case, status="open")
    results: dict[str, object] = {}
    first_done = threading.Event()
    release_first = threading.Event()

    def first():
        try:
            with transaction.atomic():
                task_complete(
                    user=users["manager1"], task_id=task.pk, data={"approved": True}
                )
                first_done.set()
                release_first.wait(10)  # hold the case lock while the second one waits
            results["manager1"] = "ok"
        finally:
            connections.close_all()

    def second():
        first_done.wait(10)
        try:
            task_complete(
                user=users["manager2"], task_id=task.pk, data={"approved": False}
            )
            results["manager2"] = "ok"
        except (TaskAlreadyClaimed, TaskNotOpen) as exc:
            results["manager2"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_done.wait(10)
    for _ in range(100):  # the second transaction is blocked on the case row lock
        if _lock_waiters() >= 1:
            break
        threading.Event().wait(0.05)
    assert _lock_waiters() >= 1
    release_first.set()
    for t in threads:
        t.join(20)

    assert results["manager1"] == "ok"
    assert isinstance(results["manager2"], TaskAlreadyClaimed | TaskNotOpen)
    assert results["manager2"].status == 409
    assert (
        AuditEvent.objects.filter(case_id=case.pk, action="task.completed").count() == 1
    )
    assert HumanTask.objects.get(pk=task.pk).completed_by == users["manager1"]
    assert (
        HumanTask.objects.filter(
            case=case, bpmn_id="finance_review", status="open"
        ).count()
        == 1
    )
