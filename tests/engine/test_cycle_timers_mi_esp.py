"""Timer cycles (R3/PT1H) on a multi-instance boundary and on an event sub-process.

BPMN 2.0.2 §10.2.8: a boundary event of a multi-instance activity belongs to
the whole activity; §10.5.4 / Camunda 7 (Timer Events, timeCycle): a
non-interrupting boundary timer cycle fires at each repetition while the
activity is active. §10.3.5: a non-interrupting event sub-process starts once
per trigger while its parent scope is active, its instances beside each
other; Camunda 7 starts it at each repetition of a timeCycle start.
Driven through the beat's sweep; "an hour later" is the stored due moments
moving back (`_clock_moves_on`, as in test_cycle_timers).
"""

from collections import Counter
from datetime import timedelta

import pytest

from engine.models import Case
from engine.services import case_start
from engine.tasks import timers_fire_due_task
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.engine.test_cycle_timers import _BOUNDARY, _clock_moves_on, _deploy, _open

pytestmark = pytest.mark.django_db

# test_cycle_timers' review task with an hourly non-interrupting reminder, R3.
_TASK = _BOUNDARY.format(cycle="R3/PT1H", cancel="false")
_MI = _TASK.replace(
    '<bpmn:userTask id="review" camunda:candidateGroups="Manager" />',
    '<bpmn:userTask id="review" camunda:assignee="${signer}">'
    '<bpmn:multiInstanceLoopCharacteristics camunda:collection="signers" '
    'camunda:elementVariable="signer" /></bpmn:userTask>',
)
_ESP = """
    <bpmn:userTask id="main" camunda:candidateGroups="Manager" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="main" />
    <bpmn:sequenceFlow id="f2" sourceRef="main" targetRef="end" />
    <bpmn:subProcess id="reminders" triggeredByEvent="true">
      <bpmn:startEvent id="every_hour" isInterrupting="false">
        <bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle>
        </bpmn:timerEventDefinition>
      </bpmn:startEvent>
      <bpmn:userTask id="remind" camunda:candidateGroups="Manager" />
      <bpmn:endEvent id="reminded" />
      <bpmn:sequenceFlow id="e1" sourceRef="every_hour" targetRef="remind" />
      <bpmn:sequenceFlow id="e2" sourceRef="remind" targetRef="reminded" />
    </bpmn:subProcess>
"""


def _run(users, body: str, data: dict) -> Case:
    _deploy(users, body)
    case, _ = case_start(user=users["requester"], key="cycles", data=data)
    return case


def _an_hour_passes(case: Case) -> None:
    case.refresh_from_db()
    _clock_moves_on(case, timedelta(hours=1))
    assert timers_fire_due_task() == 1


def _complete(users, case: Case, bpmn_id: str, user: str) -> None:
    task = HumanTask.objects.filter(case=case, bpmn_id=bpmn_id, status="open")
    task_complete(user=users[user], task_id=task.first().pk, data={})


def test_a_cycle_on_a_multi_instance_boundary_fires_at_each_repetition(users):
    signers = [users["manager1"].username, users["manager2"].username]
    case = _run(users, _MI, {"signers": signers})
    assert _open(case) == Counter({"review": 2})
    for reminders in (1, 2, 3):
        _an_hour_passes(case)
        assert _open(case) == Counter({"review": 2, "remind": reminders})
    case.refresh_from_db()
    assert case.next_timer_at is None  # R3: three repetitions, then no more
    _complete(users, case, "review", "manager1")
    _complete(users, case, "review", "manager2")
    assert _open(case) == Counter({"remind": 3})  # the reminder paths go on
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING


def test_a_multi_instance_activity_done_stops_its_cycle(users):
    signers = [users["manager1"].username, users["manager2"].username]
    case = _run(users, _MI, {"signers": signers})
    _an_hour_passes(case)
    _complete(users, case, "review", "manager1")
    case.refresh_from_db()
    assert case.next_timer_at is not None  # one instance still open
    _complete(users, case, "review", "manager2")
    case.refresh_from_db()
    assert case.next_timer_at is None  # the activity ended: no more reminders
    assert _open(case) == Counter({"remind": 1})


def test_a_cycle_on_a_task_boundary_leaves_its_paths_open_when_the_task_ends(users):
    """The paths the cycle started are not the task's: they outlive it."""
    case = _run(users, _TASK, {})
    _an_hour_passes(case)
    _an_hour_passes(case)
    assert _open(case) == Counter({"review": 1, "remind": 2})
    _complete(users, case, "review", "manager1")
    assert _open(case) == Counter({"remind": 2})
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING and case.next_timer_at is None
    _complete(users, case, "remind", "manager1")
    _complete(users, case, "remind", "manager1")
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED


def test_a_cycle_event_subprocess_starts_one_instance_per_repetition(users):
    case = _run(users, _ESP, {})
    assert _open(case) == Counter({"main": 1})
    _an_hour_passes(case)
    assert _open(case) == Counter({"main": 1, "remind": 1})
    _an_hour_passes(case)  # the first instance still runs: a second beside it
    assert _open(case) == Counter({"main": 1, "remind": 2})
    _complete(users, case, "remind", "manager1")
    _an_hour_passes(case)
    assert _open(case) == Counter({"main": 1, "remind": 2})
    case.refresh_from_db()
    assert case.next_timer_at is None  # R3 is over: no fourth occurrence is due
    assert timers_fire_due_task() == 0
    assert _open(case) == Counter({"main": 1, "remind": 2})
    _complete(users, case, "main", "manager1")
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING  # the reminders hold the case open
    _complete(users, case, "remind", "manager1")
    _complete(users, case, "remind", "manager1")
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
