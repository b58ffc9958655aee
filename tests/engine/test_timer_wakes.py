"""Timers fire at their moment, woken by a Celery task queued with it as eta.

Camunda 7 runs cycles of a few seconds, crons with a seconds field included
(`0/5 0/1 * 1/1 * ? *` in its order-handling and loan-granting examples): each
occurrence is one timer job, and the next is computed when it fires, from then
on (TimerEntity.preExecute -> calculateRepeat -> CycleBusinessCalendar
.resolveDuedate: CronExpression.getTimeAfter(now)). Here a real worker runs the
wakes and no beat runs at all, so every firing came from a wake (timer_wake.py),
not from the sweep.
"""

import base64
import json
import threading
import time
from datetime import datetime, timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction
from django.utils import timezone

import engine.tasks  # noqa: F401  (registers the engine's tasks)
from audit.models import AuditEvent
from cockpit.services import case_resume, case_suspend
from config.celery import app
from engine.models import Case, TimerStartSchedule
from engine.services import case_start, timer_wake
from engine.tasks import (
    TIMER_START_WAKE_TASK,
    TIMER_WAKE_TASK,
    timer_wake_task,
    timers_fire_due_task,
)
from processes.services import version_upload
from tasks_app.models import HumanTask
from tests.engine.test_cycle_timers import _BOUNDARY, _HEAD, _TAIL
from tests.engine.test_service_worker import _wait_for
from tests.timing import LOAD_SLACK_S

_TIMER_START = (
    '<bpmn:startEvent id="start"><bpmn:timerEventDefinition><bpmn:timeCycle>{}'
    "</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>"
)
_LATER = "R/PT1H"  # the reminder of the cases a timer starts


def _deploy(
    users, cycle: str, start_cycle: str | None = None, key: str = "cycles"
) -> None:
    head = _HEAD.replace('id="cycles"', f'id="{key}"')
    if start_cycle:
        head = head.replace(
            '<bpmn:startEvent id="start" />', _TIMER_START.format(start_cycle)
        )
    xml = head + _BOUNDARY.format(cancel="false", cycle=cycle) + _TAIL
    version_upload(user=users["analyst"], bpmn=xml.encode(), filename="cycles.bpmn")


def _lateness(events) -> list[timedelta]:
    """How long after its due moment each audited firing happened."""
    return [e.at - datetime.fromisoformat(e.payload["due"]) for e in events]


def _assert_on_time(events, step: timedelta) -> None:
    late = _lateness(events)
    # On time: well inside the slack a loaded two-core machine needs, where
    # the sweep alone would be up to ENGINE_SWEEP_SECONDS late (no beat here).
    assert all(timedelta(0) <= x < timedelta(seconds=LOAD_SLACK_S) for x in late), late
    dues = [datetime.fromisoformat(e.payload["due"]) for e in events]
    assert len(set(dues)) == len(dues)  # once per occurrence
    # Each next one computed from when the last fired: a step, or (a loaded
    # machine fired one more than a step late) a later occurrence, never a burst.
    gaps = [b - a for a, b in zip(dues, dues[1:], strict=False)]
    assert all(gap >= step and gap % step == timedelta(0) for gap in gaps), gaps


@pytest.fixture
def worker(settings):
    """A real worker and no beat: only wakes can fire a timer."""
    settings.ENGINE_TIMER_WAKE_SECONDS = 3600  # an hour ahead, as a sweep an hour apart
    app.control.purge()  # wakes an earlier test left behind
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    app.control.purge()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_two_second_reminder_cycle_fires_on_time_at_every_occurrence(users, worker):
    _deploy(users, "R/PT2S")
    case, _ = case_start(user=users["requester"], key="cycles", data={})
    fired = AuditEvent.objects.filter(case_id=case.pk, action="timer.fired")
    assert _wait_for(lambda: fired.count() >= 2, 12), list(fired.values("payload"))
    events = list(fired.order_by("at"))
    _assert_on_time(events, timedelta(seconds=2))
    reminders = HumanTask.objects.filter(case=case, bpmn_id="remind").count()
    assert reminders >= len(events) >= 2  # each occurrence opened one reminder
    assert HumanTask.objects.filter(case=case, bpmn_id="review", status="open")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_cron_with_seconds_starts_a_case_on_time_at_every_match(users, worker):
    # order-handling.bpmn's cron at a two-second step, in its seven-field form.
    _deploy(users, _LATER, start_cycle="0/2 0/1 * 1/1 * ? *")
    started = AuditEvent.objects.filter(action="case.started", payload__has_key="due")
    assert _wait_for(lambda: started.count() >= 2, 12), list(started.values("payload"))
    _assert_on_time(list(started.order_by("at")), timedelta(seconds=2))
    assert Case.objects.filter(version__definition__key="cycles").count() >= 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_timer_further_ahead_is_woken_by_the_sweep_before_it(users, worker, settings):
    settings.ENGINE_TIMER_WAKE_SECONDS = 2  # the advance queues no wake for 5 s on
    _deploy(users, "R/PT5S")
    case, _ = case_start(user=users["requester"], key="cycles", data={})
    case.refresh_from_db()
    due = case.next_timer_at
    time.sleep(max((due - timezone.now()).total_seconds() - 1.5, 0))
    for _ in range(3):  # as two beats sweeping every second
        assert timers_fire_due_task() == 0  # not due: it queues the wake instead
    fired = AuditEvent.objects.filter(case_id=case.pk, action="timer.fired")
    assert _wait_for(fired.exists, 10)
    [event] = fired[:1]
    assert event.payload["due"] == due.isoformat()
    assert timedelta(0) <= _lateness([event])[0] < timedelta(seconds=LOAD_SLACK_S)


def _queued(task: str) -> list[list[str]]:
    """The arguments of the `task` messages waiting in the broker's queue (no
    worker runs: an eta task stays there until one takes it)."""
    client = redis.Redis.from_url(app.conf.broker_url)
    queue = app.amqp.default_queue.name
    found = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == task:
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            found.append(args)
    return found


@pytest.mark.django_db(transaction=True)
def test_sweeping_again_and_again_queues_one_wake_per_timer_and_moment(users, settings):
    """Two beats sweeping every second (tests/engine/test_scale_out.py) each see
    every timer coming due; its wake is queued once, by whoever saw it first."""
    settings.ENGINE_TIMER_WAKE_SECONDS = 3600
    app.control.purge()
    _deploy(users, "R/PT10M")
    _deploy(users, _LATER, start_cycle="R/PT10M", key="cycles_timer")
    case, _ = case_start(user=users["requester"], key="cycles", data={})
    case.refresh_from_db()
    schedule = TimerStartSchedule.objects.get(version__definition__key="cycles_timer")

    for _ in range(5):
        assert timers_fire_due_task() == 0

    case_wakes = [a for a in _queued(TIMER_WAKE_TASK) if a[0] == str(case.pk)]
    assert case_wakes == [[str(case.pk), case.next_timer_at.isoformat()]]
    start_wakes = _queued(TIMER_START_WAKE_TASK)
    assert start_wakes == [[str(schedule.pk), schedule.next_at.isoformat()]]
    app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_a_spent_wake_is_queued_again_for_the_same_moment(users, settings):
    """A wake that came early is queued again for its moment, claimed or not."""
    settings.ENGINE_TIMER_WAKE_SECONDS = 3600
    app.control.purge()
    _deploy(users, "R/PT10M")
    case, _ = case_start(user=users["requester"], key="cycles", data={})
    case.refresh_from_db()
    due = case.next_timer_at.isoformat()
    assert timer_wake_task(str(case.pk), due) is False  # early: queued again
    timers_fire_due_task()
    mine = [a for a in _queued(TIMER_WAKE_TASK) if a[0] == str(case.pk)]
    assert mine == [[str(case.pk), due], [str(case.pk), due]]
    app.control.purge()


def test_with_redis_unreachable_a_wake_is_queued_every_time(settings, monkeypatch):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    monkeypatch.setattr(timer_wake, "_CLIENTS", {})
    due = timezone.now() + timedelta(minutes=5)
    assert timer_wake.timer_wake_claim(TIMER_WAKE_TASK, "x", due)
    assert timer_wake.timer_wake_claim(TIMER_WAKE_TASK, "x", due)


@pytest.mark.django_db
def test_a_wake_fires_once_and_an_early_or_repeated_one_does_nothing(users):
    _deploy(users, "R/PT2S")
    case, _ = case_start(user=users["requester"], key="cycles", data={})
    case.refresh_from_db()
    due = case.next_timer_at
    assert timer_wake_task(str(case.pk), due.isoformat()) is False  # early
    time.sleep(max((due - timezone.now()).total_seconds(), 0) + 0.05)
    assert timer_wake_task(str(case.pk), due.isoformat()) is True
    assert timer_wake_task(str(case.pk), due.isoformat()) is False  # a duplicate
    assert timers_fire_due_task() == 0
    fired = AuditEvent.objects.filter(case_id=case.pk, action="timer.fired")
    assert [e.payload["due"] for e in fired] == [due.isoformat()]
    case.refresh_from_db()
    assert case.next_timer_at == due + timedelta(seconds=2)


@pytest.mark.django_db
def test_occurrences_missed_while_down_fire_once_then_the_cycle_goes_on_from_now(
    users,
):
    """Camunda 7: an overdue timer job runs once, and its follow-up is due at the
    cycle's next occurrence after now (CycleBusinessCalendar), not once per miss."""
    _deploy(users, "R/PT2S")
    case, _ = case_start(user=users["requester"], key="cycles", data={})
    case.refresh_from_db()
    first = case.next_timer_at
    time.sleep(max((first - timezone.now()).total_seconds(), 0) + 4.5)  # 3 missed
    assert timers_fire_due_task() == 1
    assert timers_fire_due_task() == 0
    case.refresh_from_db()
    assert HumanTask.objects.filter(case=case, bpmn_id="remind").count() == 1
    ahead = case.next_timer_at - timezone.now()
    assert timedelta(0) < ahead <= timedelta(seconds=2)
    assert (case.next_timer_at - first) % timedelta(seconds=2) == timedelta(0)


def _hold_lock(case_id, seconds: float) -> threading.Thread:
    """Lock the case row from another connection for `seconds` (a long command)."""
    locked = threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=case_id)
                locked.set()
                time.sleep(seconds)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(5)
    return thread


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_wake_that_finds_its_case_busy_fires_shortly_after_it_is_free(
    users, worker, settings
):
    settings.ENGINE_LOCK_TIMEOUT_MS = 200
    _deploy(users, "R/PT3S")
    case, _ = case_start(user=users["requester"], key="cycles", data={})
    case.refresh_from_db()
    due = case.next_timer_at
    busy_for = (due - timezone.now()).total_seconds() + 1.5  # past the due moment
    _hold_lock(case.pk, busy_for).join()
    freed = timezone.now()
    fired = AuditEvent.objects.filter(case_id=case.pk, action="timer.fired")

    assert _wait_for(fired.exists, 10)  # no beat: the busy wake retried

    [event] = fired.order_by("at")[:1]
    assert event.payload["due"] == due.isoformat()
    # Retried 1, 2 s after the busy attempt at its moment: within 2 s of the
    # case being free, not left to the sweep (ENGINE_SWEEP_SECONDS).
    assert event.at - freed < timedelta(seconds=2 + LOAD_SLACK_S)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_resuming_a_case_wakes_the_timer_that_came_due_while_suspended(users, worker):
    _deploy(users, "R/PT2S")
    case, _ = case_start(user=users["requester"], key="cycles", data={})
    case_suspend(user=users["padmin"], case_id=case.pk, reason="hold")
    case.refresh_from_db()
    due = case.next_timer_at
    fired = AuditEvent.objects.filter(case_id=case.pk, action="timer.fired")
    time.sleep(max((due - timezone.now()).total_seconds(), 0) + 1)
    assert not fired.exists()  # its wake came and did nothing

    case_resume(user=users["padmin"], case_id=case.pk, reason="go on")
    resumed = timezone.now()

    assert _wait_for(fired.exists, 10)  # no beat: the resume queued the wake
    [event] = fired.order_by("at")[:1]
    assert event.payload["due"] == due.isoformat()
    assert event.at - resumed < timedelta(seconds=LOAD_SLACK_S)
