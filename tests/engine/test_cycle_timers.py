"""Timer cycles on intermediate catch and boundary events, as Camunda 7 runs them.

Camunda Modeler writes a cycle as ISO 8601 (`R3/PT1H`) or a Quartz cron
(`0 0 9 * * ?`). Driven through the beat's timer sweep (timers_fire_due_task).
The crons here match once a minute, so the first moment is made near (the second
a few seconds ahead) and "a minute later" is the sweep's clock moving on: the
case's stored due moments move a minute back (`_clock_moves_on`). Cycles of a
few seconds, woken on time by a real worker: test_timer_wakes.py.
"""

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from engine.models import Case, CaseState
from engine.services import case_start
from engine.tasks import timers_fire_due_task
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="d" targetNamespace="http://laneway.example/bpmn">
  <bpmn:process id="cycles" isExecutable="true">
    <bpmn:startEvent id="start" />
"""
_CATCH = """
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:timeCycle>{cycle}</bpmn:timeCycle>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="after" camunda:candidateGroups="Manager" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
"""
_BOUNDARY = """
    <bpmn:userTask id="review" camunda:candidateGroups="Manager" />
    <bpmn:boundaryEvent id="remind_me" attachedToRef="review" cancelActivity="{cancel}">
      <bpmn:timerEventDefinition><bpmn:timeCycle>{cycle}</bpmn:timeCycle>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="remind" camunda:candidateGroups="Manager" />
    <bpmn:endEvent id="end" />
    <bpmn:endEvent id="reminded" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
    <bpmn:sequenceFlow id="f3" sourceRef="remind_me" targetRef="remind" />
    <bpmn:sequenceFlow id="f4" sourceRef="remind" targetRef="reminded" />
"""
_TAIL = "  </bpmn:process>\n</bpmn:definitions>\n"


def _deploy(users, body: str) -> None:
    xml = (_HEAD + body + _TAIL).encode()
    version_upload(user=users["analyst"], bpmn=xml, filename="cycles.bpmn")


def _soon() -> tuple[str, datetime]:
    """A cron matching once a minute, first a few seconds from now."""
    moment = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    return f"{moment.second} * * * * ?", moment


def _start(users) -> Case:
    case, _ = case_start(user=users["requester"], key="cycles", data={})
    return case


def _sweep_when_due(case: Case) -> None:
    case.refresh_from_db()
    wait = (case.next_timer_at - timezone.now()).total_seconds() + 0.3
    time.sleep(max(wait, 0))
    assert timers_fire_due_task() == 1


def _open(case) -> Counter:
    return Counter(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


def _clock_moves_on(case: Case, by: timedelta) -> None:
    """The sweep's clock moves on by `by`: each stored due moment comes nearer."""

    def shift(node):
        if isinstance(node, dict):
            value = node.get("event_value")
            if isinstance(value, dict) and value.get("next"):
                moment = datetime.fromisoformat(value["next"]) - by
                value["next"] = moment.isoformat()
            for child in node.values():
                shift(child)
        elif isinstance(node, list):
            for child in node:
                shift(child)

    row = CaseState.objects.get(case=case)
    state = json.loads(row.state_json)
    shift(state)
    row.state_json = json.dumps(state)
    row.save(update_fields=["state_json"])
    Case.objects.filter(pk=case.pk).update(next_timer_at=case.next_timer_at - by)


def test_a_cron_on_an_intermediate_timer_fires_once_at_its_first_moment(users):
    cron, moment = _soon()
    _deploy(users, _CATCH.format(cycle=cron))
    case = _start(users)
    case.refresh_from_db()
    assert case.next_timer_at == moment  # the cron's first match, not "now + x"
    assert timers_fire_due_task() == 0  # not due yet
    _sweep_when_due(case)
    assert _open(case) == Counter({"after": 1})
    case.refresh_from_db()
    assert case.next_timer_at is None  # the token went on; the cycle is over


def test_a_cron_on_a_non_interrupting_boundary_fires_at_every_match(users):
    cron, moment = _soon()
    _deploy(users, _BOUNDARY.format(cycle=cron, cancel="false"))
    case = _start(users)
    _sweep_when_due(case)
    assert _open(case) == Counter({"review": 1, "remind": 1})
    case.refresh_from_db()
    assert case.next_timer_at == moment + timedelta(minutes=1)  # the next match
    assert timers_fire_due_task() == 0
    _clock_moves_on(case, timedelta(minutes=1))
    assert timers_fire_due_task() == 1
    assert _open(case) == Counter({"review": 1, "remind": 2})
    case.refresh_from_db()
    # The match after the one that just fired (stored a minute back, as above).
    assert case.next_timer_at == moment + timedelta(minutes=1)
    review = HumanTask.objects.get(case=case, bpmn_id="review")
    task_complete(user=users["manager1"], task_id=review.pk, data={})
    case.refresh_from_db()
    assert case.next_timer_at is None  # the activity ended: no more reminders


def test_a_cron_on_an_interrupting_boundary_fires_once_and_interrupts(users):
    cron, _ = _soon()
    _deploy(users, _BOUNDARY.format(cycle=cron, cancel="true"))
    case = _start(users)
    _sweep_when_due(case)
    assert _open(case) == Counter({"remind": 1})
    assert HumanTask.objects.get(case=case, bpmn_id="review").status == "cancelled"
    case.refresh_from_db()
    assert case.next_timer_at is None


def test_an_iso_cycle_on_an_intermediate_timer_lets_the_token_pass_once(users):
    _deploy(users, _CATCH.format(cycle="R3/PT1M"))
    case = _start(users)
    case.refresh_from_db()
    _clock_moves_on(case, timedelta(minutes=1))
    assert timers_fire_due_task() == 1
    assert _open(case) == Counter({"after": 1})  # not once per repetition
    case.refresh_from_db()
    assert case.next_timer_at is None


def test_an_iso_cycle_on_a_non_interrupting_boundary_stops_after_n(users):
    _deploy(users, _BOUNDARY.format(cycle="R2/PT1M", cancel="false"))
    case = _start(users)
    for reminders in (1, 2):
        case.refresh_from_db()
        _clock_moves_on(case, timedelta(minutes=1))
        assert timers_fire_due_task() == 1
        assert _open(case) == Counter({"review": 1, "remind": reminders})
    case.refresh_from_db()
    assert case.next_timer_at is None


def _hour_ahead(case: Case) -> datetime:
    case.refresh_from_db()
    due = case.next_timer_at
    assert timezone.now() < due <= timezone.now() + timedelta(hours=1)
    assert (due.minute, due.second) == (0, 0)  # on the hours counted from 2020
    return due


PAST_HOURLY = "R/2020-01-01T00:00:00Z/PT1H"


@pytest.mark.parametrize(
    ("body", "waiting"),
    [
        (_CATCH.format(cycle=PAST_HOURLY), {}),
        (_BOUNDARY.format(cycle=PAST_HOURLY, cancel="true"), {"review": 1}),
        (_BOUNDARY.format(cycle=PAST_HOURLY, cancel="false"), {"review": 1}),
    ],
    ids=["intermediate", "interrupting", "non-interrupting"],
)
def test_a_cycle_that_started_in_the_past_waits_for_its_next_occurrence(
    users, body, waiting
):
    """Camunda 7 (DurationHelper.getDateAfterRepeat): the occurrences that passed
    are skipped; the timer is due at the next one, not at once."""
    _deploy(users, body)
    case = _start(users)
    assert _hour_ahead(case)
    assert timers_fire_due_task() == 0
    assert _open(case) == Counter(waiting)


def test_a_past_cycle_on_a_non_interrupting_boundary_then_fires_hourly(users):
    _deploy(users, _BOUNDARY.format(cycle=PAST_HOURLY, cancel="false"))
    case = _start(users)
    due = _hour_ahead(case)
    _clock_moves_on(case, timedelta(hours=1))
    assert timers_fire_due_task() == 1
    assert _open(case) == Counter({"review": 1, "remind": 1})
    case.refresh_from_db()  # the next hour (stored an hour back, as above)
    assert case.next_timer_at == due


def test_a_cycle_whose_occurrences_all_passed_fires_at_once_once(users):
    """Camunda gives its timer job no due date: it runs at once, and only once."""
    _deploy(
        users, _BOUNDARY.format(cycle="R2/2020-01-01T00:00:00Z/PT1H", cancel="false")
    )
    case = _start(users)
    timers_fire_due_task()  # due at once: fired when the review opened, or now
    assert _open(case) == Counter({"review": 1, "remind": 1})
    case.refresh_from_db()
    assert case.next_timer_at is None
    assert timers_fire_due_task() == 0


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (_CATCH.format(cycle="0 0 9 31 2 ?"), "never matches"),
        (_CATCH.format(cycle="0 0 25 * * ?"), "cannot be read as a cron"),
        (_CATCH.format(cycle="R/PT0.5S"), "more than once a second"),
    ],
)
def test_a_cycle_that_cannot_run_is_refused_at_upload(users, body, why):
    with pytest.raises(BpmnInvalid) as caught:
        _deploy(users, body)
    assert any(
        p["element_id"] == "wait" and why in p["message"] and p["line"]
        for p in caught.value.details["errors"]
    ), caught.value.details["errors"]
