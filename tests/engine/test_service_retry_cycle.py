"""camunda:failedJobRetryTimeCycle sets a task's attempts and the waits between them.

A real Celery worker runs the calls; the spacing is asserted on what the engine
recorded (the retry_scheduled audit events and the attempts' times), with
one-second cycles.
"""

import time
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from celery.contrib.testing.worker import start_worker

import engine.tasks  # noqa: F401  (registers engine.service_call_run)
from audit.models import AuditEvent
from config.celery import app
from engine.models import Incident, ServiceCall
from engine.services import case_start
from processes.errors import BpmnInvalid
from tasks_app.models import HumanTask
from tests.conftest import BPMN_DIR, deploy
from tests.engine.test_service_worker import _wait_for

DIAGRAM = BPMN_DIR / "service_retry_cycle.bpmn"


def _scheduled(case):
    return [
        (e["attempt"], e["delay"])
        for e in AuditEvent.objects.filter(
            case_id=case.pk, action="service.retry_scheduled"
        )
        .order_by("chain_seq")
        .values_list("payload", flat=True)
    ]


def _attempt_times(call):
    return [datetime.fromisoformat(e["at"]) for e in call.errors]


def _run(users, settings, *, erp, notify, until, linger=0.0):
    """Deploy, start a case on a real worker, wait until `until(case)` holds."""
    settings.ENGINE_SERVICE_OPERATIONS = {
        "test.erp": f"tests.operations.{erp}",
        "test.notify": f"tests.operations.{notify}",
    }
    deploy(DIAGRAM, users["analyst"])
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case, _ = case_start(
            user=users["requester"], key="service_retry_cycle", data={}
        )
        assert _wait_for(lambda: until(case), 30)
        time.sleep(linger)
    return case


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_r3_pt1s_runs_three_times_one_second_apart_then_an_incident(users, settings):
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 7  # the diagram's cycle wins
    settings.ENGINE_SERVICE_BACKOFF_SECONDS = 60
    case = _run(
        users,
        settings,
        erp="always_fails",
        notify="corpus_operation",
        until=lambda c: Incident.objects.filter(case=c).exists(),
        linger=1.5,  # no fourth attempt comes
    )
    call = ServiceCall.objects.get(case=case, bpmn_id="post_erp")
    assert call.status == ServiceCall.Status.FAILED and call.attempts == 3
    assert _scheduled(case) == [(1, 1.0), (2, 1.0)]
    times = _attempt_times(call)
    assert len(times) == 3
    # Each retry waited for its countdown (never earlier than the cycle says).
    assert all(b - a >= timedelta(seconds=0.9) for a, b in pairwise(times))
    incident = Incident.objects.get(case=case)
    assert incident.bpmn_id == "post_erp" and "ERP is down" in incident.message
    assert len(incident.attempts) == 3


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_list_of_durations_waits_each_in_turn(users, settings):
    case = _run(
        users,
        settings,
        erp="corpus_operation",
        notify="flaky_twice",
        until=lambda c: HumanTask.objects.filter(case=c, bpmn_id="check").exists(),
    )
    call = ServiceCall.objects.get(case=case, bpmn_id="notify")
    # PT1S,PT2S: three attempts (one more than the waits); this one got through
    # on the third, after waiting 1 s and then 2 s.
    assert call.status == ServiceCall.Status.SUCCEEDED and call.attempts == 3
    assert call.max_attempts == 3 and call.retry_intervals == [1.0, 2.0]
    assert _scheduled(case) == [(1, 1.0), (2, 2.0)]
    first, second = _attempt_times(call)
    assert second - first >= timedelta(seconds=0.9)
    assert not Incident.objects.filter(case=case).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cycle", "why"),
    [
        ("R/PT10M", "needs a count"),
        ("${retryCycle}", "expression"),
        ("every ten minutes", "R<retries>/<duration>"),
        ("R3/PT10X", "not an ISO 8601 duration"),
    ],
)
def test_a_retry_cycle_that_cannot_be_read_is_refused_at_upload(
    users, settings, tmp_path, cycle, why
):
    settings.ENGINE_SERVICE_OPERATIONS = {
        "test.erp": "tests.operations.corpus_operation",
        "test.notify": "tests.operations.corpus_operation",
    }
    path = tmp_path / "bad.bpmn"
    path.write_text(DIAGRAM.read_text().replace("R3/PT1S", cycle))
    with pytest.raises(BpmnInvalid) as caught:
        deploy(path, users["analyst"])
    problems = caught.value.details["errors"]
    assert any(
        p["element_id"] == "post_erp" and why in p["message"] and p["line"] == 9
        for p in problems
    ), problems
