"""Timer start events start cases through beat's sweep, once per due moment."""

import threading
import time
from datetime import UTC, timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from engine.errors import StartOnlyByEvent
from engine.models import Case, TimerStartSchedule
from engine.services import case_start, timer_start_fire
from engine.tasks import timers_fire_due_task
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR

TEMPLATE = (BPMN_DIR / "timer_start.bpmn").read_text()
OTHER_START = """<bpmn:startEvent id="Start_Hand">
    <bpmn:outgoing>f3</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="Start_Hand" targetRef="check" />"""


def _diagram(value: str, kind: str = "timeCycle", *, by_hand: bool = False) -> bytes:
    text = TEMPLATE.replace(
        "<bpmn:timeCycle>TIMER_VALUE</bpmn:timeCycle>",
        f"<bpmn:{kind}>{value}</bpmn:{kind}>",
    )
    if by_hand:
        text = text.replace("<!--OTHER_START-->", OTHER_START).replace(
            "<bpmn:incoming>f1</bpmn:incoming>",
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming>",
        )
    return text.encode()


def _deploy(users, value: str, kind: str = "timeCycle", *, by_hand: bool = False):
    return version_upload(
        user=users["analyst"],
        bpmn=_diagram(value, kind, by_hand=by_hand),
        filename="timer_start.bpmn",
    )[0].version


def _started(version=None):
    cases = Case.objects.filter(version__definition__key="timer_start")
    return cases.filter(version=version) if version is not None else cases


@pytest.mark.django_db
def test_a_past_date_starts_one_case_by_the_system_and_never_again(users):
    version = _deploy(users, "2020-01-01T00:00:00Z", "timeDate")
    assert timers_fire_due_task() == 1
    assert timers_fire_due_task() == 0
    case = _started().get()
    assert (case.version, case.status) == (version, "running")
    assert case.started_by.username == "laneway-system"
    assert not case.started_by.is_active  # nobody can log in as the system
    # The timer start event fired: the case is at the task, not waiting on a timer.
    assert HumanTask.objects.get(case=case, status="open").bpmn_id == "check"
    assert case.next_timer_at is None
    started = AuditEvent.objects.get(case_id=case.pk, action="case.started")
    assert (started.actor_id, started.actor_repr) == (None, "system")
    assert started.payload["timer"] == "Start_Timer"


@pytest.mark.django_db
def test_a_future_date_waits(users):
    _deploy(users, (timezone.now() + timedelta(days=1)).isoformat(), "timeDate")
    assert timers_fire_due_task() == 0
    assert not _started().exists()


@pytest.mark.django_db
def test_a_duration_starts_one_case_that_long_after_deployment(users):
    _deploy(users, "PT1S", "timeDuration")
    assert timers_fire_due_task() == 0
    time.sleep(1.2)
    assert timers_fire_due_task() == 1
    time.sleep(1.2)
    assert timers_fire_due_task() == 0
    assert _started().count() == 1


def _time_passes():
    """Make every schedule due now (the sweep's clock moved on to it)."""
    TimerStartSchedule.objects.exclude(next_at=None).update(
        next_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db
def test_a_cycle_starts_one_case_per_repetition_and_stops_after_n(users):
    _deploy(users, "R2/PT1M")
    schedule = TimerStartSchedule.objects.get()
    assert (schedule.kind, schedule.remaining) == ("cycle", 2)
    assert timers_fire_due_task() == 0  # the first repetition is a minute away
    for expected in (1, 1, 0):
        _time_passes()
        assert timers_fire_due_task() == expected
    assert _started().count() == 2
    for case in _started():  # each at the task, no timer left behind
        assert case.next_timer_at is None
        assert HumanTask.objects.filter(case=case, status="open").count() == 1
    schedule.refresh_from_db()
    assert (schedule.next_at, schedule.fired) == (None, 2)


@pytest.mark.django_db
def test_a_cycle_that_started_in_the_past_waits_for_its_next_occurrence(users):
    """Camunda 7 (DurationHelper.getDateAfterRepeat): the hours since 2020 passed;
    the first start is the next hour after deployment, not one at once."""
    _deploy(users, "R/2020-01-01T00:00:00Z/PT1H")
    assert timers_fire_due_task() == 0
    schedule = TimerStartSchedule.objects.get()
    assert timezone.now() < schedule.next_at <= timezone.now() + timedelta(hours=1)
    assert (schedule.next_at.minute, schedule.next_at.second) == (0, 0)
    assert schedule.remaining is None
    _time_passes()
    assert timers_fire_due_task() == 1
    assert _started().count() == 1


@pytest.mark.django_db
def test_a_bounded_cycle_counts_the_occurrences_that_passed(users):
    """R3 from 90 minutes ago: the start and the steps at +1 h, +2 h, +3 h are its
    occurrences (Camunda counts the start); two are past, two are left."""
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=90)
    _deploy(users, f"R3/{start.isoformat()}/PT1H")
    schedule = TimerStartSchedule.objects.get()
    assert (schedule.next_at, schedule.remaining) == (start + timedelta(hours=2), 2)
    assert timers_fire_due_task() == 0
    for expected in (1, 1, 0):
        _time_passes()
        assert timers_fire_due_task() == expected
    assert _started().count() == 2


@pytest.mark.django_db
def test_a_cycle_whose_occurrences_all_passed_starts_one_case_at_once(users):
    """Camunda schedules it without a due date: its job runs at once, once."""
    _deploy(users, "R2/2020-01-01T00:00:00Z/PT1H")
    assert timers_fire_due_task() == 1
    _time_passes()
    assert timers_fire_due_task() == 0
    assert _started().count() == 1
    assert TimerStartSchedule.objects.get().next_at is None


@pytest.mark.django_db
def test_a_camunda_cron_starts_a_case_at_each_matching_moment(users):
    _deploy(users, "0 0/5 * * * ?")  # every five minutes, as Camunda writes it
    schedule = TimerStartSchedule.objects.get()
    assert schedule.kind == "cron"
    assert schedule.next_at.minute % 5 == 0 and schedule.next_at.second == 0
    assert timers_fire_due_task() == 0
    _time_passes()
    assert timers_fire_due_task() == 1
    schedule.refresh_from_db()
    assert schedule.next_at > timezone.now()
    assert schedule.next_at.minute % 5 == 0 and schedule.remaining is None


@pytest.mark.django_db
def test_a_new_version_replaces_the_old_versions_timer(users):
    old = _deploy(users, "2020-01-01T00:00:00Z", "timeDate")
    new = _deploy(users, "2021-01-01T00:00:00Z", "timeDate")
    assert TimerStartSchedule.objects.get(version=old).next_at is None
    assert timers_fire_due_task() == 1
    assert _started().get().version == new


@pytest.mark.django_db
def test_a_retired_version_starts_nothing(users):
    version = _deploy(users, "2020-01-01T00:00:00Z", "timeDate")
    type(version).objects.filter(pk=version.pk).update(status="retired")
    assert timers_fire_due_task() == 0


@pytest.mark.django_db
def test_a_process_with_only_a_timer_start_cannot_be_started_by_hand(users):
    _deploy(users, "R/PT1H")
    with pytest.raises(StartOnlyByEvent):
        case_start(user=users["padmin"], key="timer_start", data={})
    client = APIClient()
    client.force_authenticate(users["padmin"])
    response = client.post("/api/v1/cases/", {"process": "timer_start"}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "start_only_by_event"
    assert not _started().exists()


@pytest.mark.django_db
def test_by_hand_the_other_start_event_starts_at_once(users):
    _deploy(users, "0 0 9 * * ?", by_hand=True)
    case, _ = case_start(user=users["padmin"], key="timer_start", data={})
    case.refresh_from_db()
    assert HumanTask.objects.get(case=case, status="open").bpmn_id == "check"
    assert case.next_timer_at is None  # the timer start event is no delay
    assert case.started_by == users["padmin"]


@pytest.mark.django_db
def test_a_timer_started_case_of_a_process_with_another_start_runs_once(users):
    _deploy(users, "2020-01-01T00:00:00Z", "timeDate", by_hand=True)
    assert timers_fire_due_task() == 1
    case = _started().get()
    assert HumanTask.objects.filter(case=case, status="open").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("0 0 25 * * ?", "outside 0-23"),
        ("0 0 9 1 * MON", "must be '?'"),
        ("0 0 9 L * ?", "not supported"),
        ("R/PT0.5S", "more than once a second"),
        ("R/PT0S", "positive duration"),
    ],
)
def test_unschedulable_timer_starts_are_refused_at_upload(users, value, why):
    with pytest.raises(BpmnInvalid) as caught:
        _deploy(users, value)
    problems = caught.value.details["errors"]
    assert any(
        p["element_id"] == "Start_Timer" and why in p["message"] for p in problems
    )


@pytest.mark.django_db
def test_a_cron_on_a_boundary_timer_runs_from_its_next_match(users):
    # More on cycles of boundary and intermediate timers: test_cycle_timers.py
    text = (BPMN_DIR / "timer_escalation.bpmn").read_text()
    cycle = "<bpmn:timeCycle>0 0 9 * * ?</bpmn:timeCycle>"
    patched = text.replace("<bpmn:timeDuration>", "<!--").replace(
        "</bpmn:timeDuration>", "-->" + cycle
    )
    assert cycle in patched
    version_upload(user=users["analyst"], bpmn=patched.encode(), filename="x.bpmn")
    case, _ = case_start(user=users["requester"], key="timer_escalation", data={})
    case.refresh_from_db()
    nine = case.started_at.astimezone(UTC).replace(hour=9, minute=0, second=0)
    nine = nine.replace(microsecond=0)
    if nine <= case.started_at:
        nine += timedelta(days=1)
    assert case.next_timer_at == nine  # the cron's next match (UTC)


@pytest.mark.django_db(transaction=True)
def test_two_beats_sweeping_at_once_start_one_case_per_tick(users):
    _deploy(users, "R5/2020-01-01T00:00:00Z/PT1H")  # every occurrence passed: due now
    barrier = threading.Barrier(4)
    fired: list[int] = []

    def beat():
        try:
            barrier.wait(10)
            fired.append(timers_fire_due_task())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(fired) == [0, 0, 0, 1]
    assert _started().count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_schedule_locked_by_one_beat_is_skipped_by_another(users):
    _deploy(users, "2020-01-01T00:00:00Z", "timeDate")
    schedule = TimerStartSchedule.objects.get()
    locked, release = threading.Event(), threading.Event()

    def first_beat():
        try:
            with transaction.atomic():
                TimerStartSchedule.objects.select_for_update().get(pk=schedule.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_beat)
    thread.start()
    locked.wait(10)
    assert timer_start_fire(schedule_id=schedule.pk) is None  # skipped, not blocked
    release.set()
    thread.join(10)
    assert timer_start_fire(schedule_id=schedule.pk) is not None
    assert timer_start_fire(schedule_id=schedule.pk) is None  # moved on: once
    assert _started().count() == 1


MESSAGE_START = """<bpmn:startEvent id="Start_Message" name="Books in">
    <bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:messageEventDefinition id="MsgDef_books" messageRef="Msg_books" />
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="Start_Message" targetRef="check" />"""


@pytest.mark.django_db
def test_message_started_cases_do_not_hold_back_the_cron_timer_start(users):
    """Camunda 7: every start event of a process is independent. A case started by
    the message start event neither waits at the timer start event nor stops
    the cron schedule; the schedule goes on creating cases, messages too."""
    text = (
        _diagram("0 0 * * * ?", by_hand=True)
        .decode()
        .replace(
            """<bpmn:startEvent id="Start_Hand">
    <bpmn:outgoing>f3</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="Start_Hand" targetRef="check" />""",
            MESSAGE_START,
        )
        .replace(
            '<bpmn:process id="timer_start"',
            '<bpmn:message id="Msg_books" name="books_in" />\n'
            '  <bpmn:process id="timer_start"',
        )
    )
    version = version_upload(
        user=users["analyst"], bpmn=text.encode(), filename="timer_start.bpmn"
    )[0].version
    api = APIClient()
    api.force_authenticate(users["padmin"])
    schedule = TimerStartSchedule.objects.get(version=version)

    def tick() -> None:
        TimerStartSchedule.objects.filter(pk=schedule.pk).update(
            next_at=timezone.now() - timedelta(seconds=1)
        )
        assert timers_fire_due_task() == 1

    by_message = []
    for round_ in range(2):
        sent = api.post("/api/v1/messages/", {"name": "books_in"}, format="json")
        assert sent.status_code == 201, sent.content
        by_message.append(sent.json()["started"][0])
        tick()
        assert _started().count() == 2 * (round_ + 1)
    for case in _started():
        assert HumanTask.objects.filter(case=case, status="open").count() == 1
        assert case.next_timer_at is None  # no timer start waits inside a case
        assert not case.incidents.exists()
        assert "Start_Timer" not in case.active_elements  # no wait at the timer
        check = HumanTask.objects.get(case=case, status="open")
        task_complete(user=users["finance"], task_id=check.pk, data={})
        case.refresh_from_db()
        assert case.status == "completed"
    by_timer = _started().exclude(pk__in=by_message)
    assert {c.started_by.username for c in by_timer} == {"laneway-system"}
    schedule.refresh_from_db()
    assert schedule.fired == 2 and schedule.next_at > timezone.now()
