"""Timers: the due moment is stored on the case and the sweep fires it.

The diagrams are deadline escalations.
"""

import time
from datetime import timedelta

import pytest

from audit.models import AuditEvent
from engine.models import Case
from engine.services import case_start
from engine.tasks import timers_fire_due_task
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalation(users, tmp_path):
    from tests.conftest import BPMN_DIR, deploy

    def with_deadline(deadline: str):
        xml = (
            (BPMN_DIR / "timer_escalation.bpmn")
            .read_text()
            .replace("DEADLINE", deadline)
        )
        path = tmp_path / "timer_escalation.bpmn"
        path.write_text(xml)
        return deploy(path, users["analyst"])

    return with_deadline


def test_bare_iso_deadline_is_stored_as_the_cases_next_timer(users, escalation):
    escalation("PT72H")  # unquoted ISO literal, as Camunda Modeler writes it
    case, _ = case_start(user=users["requester"], key="timer_escalation", data={})
    expected = case.started_at + timedelta(hours=72)
    # Within a minute, however slow the machine (a wrong base is hours off).
    assert abs(case.next_timer_at - expected) < timedelta(minutes=1)
    assert timers_fire_due_task() == 0  # not due yet: nothing happens
    assert HumanTask.objects.get(case=case).bpmn_id == "review"


def test_due_deadline_escalates_once_and_closes_the_original_task(users, escalation):
    escalation("PT1S")
    case, _ = case_start(user=users["requester"], key="timer_escalation", data={})
    time.sleep(1.2)
    assert timers_fire_due_task() == 1
    assert timers_fire_due_task() == 0  # exactly once
    tasks = {t.bpmn_id: t.status for t in HumanTask.objects.filter(case=case)}
    assert tasks == {"review": "cancelled", "escalated_review": "open"}
    case.refresh_from_db()
    assert case.next_timer_at is None
    fired = AuditEvent.objects.get(case_id=case.pk, action="timer.fired")
    assert "too_late" in fired.payload["elements"]
    task_complete(
        user=users["finance"],
        task_id=HumanTask.objects.get(case=case, status="open").pk,
        data={},
    )
    assert Case.objects.get(pk=case.pk).status == "completed"


def test_completing_before_the_deadline_clears_the_timer(users, escalation):
    escalation("PT1H")
    case, _ = case_start(user=users["requester"], key="timer_escalation", data={})
    task_complete(
        user=users["manager1"], task_id=HumanTask.objects.get(case=case).pk, data={}
    )
    case.refresh_from_db()
    assert case.status == "completed" and case.next_timer_at is None
