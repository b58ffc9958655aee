"""Scale-out: two Celery workers and two beats (as on two machines) on the same cases.

Each worker and beat is its own process (`celery -A config worker|beat`) on the test
database and Redis, as the README's scale-out section runs them. Both beats sweep the
outbox and the timers every second, so every call is sent twice or more and every
due timer is seen by both; the rows decide: each call is applied once, each timer
fires once, each timer start event's repetition starts one case.
"""

import os
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from audit.models import AuditEvent
from config.celery import app
from engine.models import Case, ServiceCall, TimerStartSchedule
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tests.api.test_resource_limits import database_url
from tests.conftest import BPMN_DIR, ROOT, deploy
from tests.timing import LOAD_SLACK_S

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CALLS = 8
TIMERS = 6


def _spawn(args: list[str], log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "scale-out-test",
        "ENGINE_SWEEP_SECONDS": "1",
        # Well above the calls' duration (1 s) and the queueing two beats' timer
        # wakes add on a loaded 2-core machine: a call waiting in the queue or
        # running is not mistaken for a lost one.
        "ENGINE_OUTBOX_STALE_SECONDS": "20",
        "ENGINE_SERVICE_TIMEOUT_SECONDS": "3",
        "ENGINE_SERVICE_HARD_TIMEOUT_SECONDS": "4",
        # Each call takes a second, so duplicate messages arrive while it runs.
        "ENGINE_SERVICE_OPERATIONS": '{"laneway.echo": "tests.operations.pause"}',
    }
    return subprocess.Popen(  # noqa: S603 - our own celery binary
        [str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _count(action: str, case_ids) -> dict[str, int]:
    counts = {str(c): 0 for c in case_ids}
    for case_id in AuditEvent.objects.filter(
        action=action, case_id__in=list(case_ids)
    ).values_list("case_id", flat=True):
        counts[str(case_id)] += 1
    return counts


def test_two_workers_and_two_beats_apply_calls_and_timers_exactly_once(users, tmp_path):
    deploy(BPMN_DIR / "service_echo.bpmn", users["analyst"])
    limits = (BPMN_DIR / "timer_limits.bpmn").read_text()
    version_upload(
        user=users["analyst"],
        bpmn=limits.replace("DURATION", "PT3S").encode(),
        filename="timer_limits.bpmn",
    )
    app.control.purge()
    calls = [
        case_start(user=users["requester"], key="service_echo", data={"amount": n})[0]
        for n in range(CALLS)
    ]
    # The broker lost the messages: the two beats' sweeps send each call at the
    # same moment, so two workers get it at once.
    app.control.purge()
    timers = [
        case_start(user=users["requester"], key="timer_limits", data={})[0]
        for _ in range(TIMERS)
    ]
    timer_start = (BPMN_DIR / "timer_start.bpmn").read_text()
    version_upload(
        user=users["analyst"],
        bpmn=timer_start.replace(
            "<bpmn:timeCycle>TIMER_VALUE</bpmn:timeCycle>",
            "<bpmn:timeDuration>PT2S</bpmn:timeDuration>",
        ).encode(),
        filename="timer_start.bpmn",
    )
    log = tmp_path / "celery.log"
    processes = [
        _spawn(["worker", "-n", "one@%h", "--pool=prefork", "-c", "4"], log),
        _spawn(["worker", "-n", "two@%h", "--pool=prefork", "-c", "4"], log),
        _spawn(["beat", "--schedule", str(tmp_path / "beat-one")], log),
        _spawn(["beat", "--schedule", str(tmp_path / "beat-two")], log),
    ]
    call_ids = [c.pk for c in calls]
    timer_ids = [c.pk for c in timers]
    try:
        done = _wait_for(
            lambda: (
                HumanTask.objects.filter(case__in=call_ids, bpmn_id="check").count()
                == len(calls)
                and Case.objects.filter(pk__in=timer_ids, status="completed").count()
                == TIMERS
                and TimerStartSchedule.objects.filter(next_at__isnull=True).exists()
            ),
            90 + 4 * LOAD_SLACK_S,
        )
        time.sleep(3)  # both beats sweep a few more times: nothing may run again
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    assert done, log.read_text()[-3000:]
    # Every call was run and applied once: one start, one success, one task each.
    assert set(_count("service.started", call_ids).values()) == {1}
    assert set(_count("service.succeeded", call_ids).values()) == {1}
    assert set(_count("task.created", call_ids).values()) == {1}
    assert {
        (c.status, c.attempts) for c in ServiceCall.objects.filter(case__in=call_ids)
    } == {("succeeded", 1)}
    # Every due timer fired once; its case took the timeout path once.
    assert set(_count("timer.fired", timer_ids).values()) == {1}
    assert set(_count("case.completed", timer_ids).values()) == {1}
    # The timer start event came due once, under both beats: one case.
    [started] = Case.objects.filter(version__definition__key="timer_start")
    assert _count("case.started", [started.pk]) == {str(started.pk): 1}
    assert TimerStartSchedule.objects.get().fired == 1
    assert HumanTask.objects.filter(case=started, status="open").count() == 1
