"""Service calls: retries with backoff, the time limit, business errors as BPMN errors.

Where the worker matters (countdown re-sends, the soft time limit) a real Celery
worker runs on Redis; elsewhere the test drives service_call_begin / execute /
apply itself, which is exactly what the task does.
"""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

import engine.tasks  # noqa: F401  (registers engine.service_call_run)
from audit.models import AuditEvent
from config.celery import app
from engine.models import Case, Incident, ServiceCall
from engine.services import (
    case_start,
    incident_retry,
    service_call_apply,
    service_call_backoff,
    service_call_begin,
    service_call_execute,
    service_call_sweep,
)
from tasks_app.models import HumanTask
from tests.conftest import BPMN_DIR, deploy
from tests.timing import LOAD_SLACK_S

worker = pytest.mark.worker
transactional = pytest.mark.django_db(transaction=True)


def _wait_for(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _events(case, action):
    return list(
        AuditEvent.objects.filter(case_id=case.pk, action=action)
        .order_by("chain_seq")
        .values_list("payload", flat=True)
    )


def _run_once(call_id):
    """What engine.service_call_run does, synchronously."""
    call = service_call_begin(call_id=call_id)
    assert call is not None
    ok, value = service_call_execute(call=call)
    service_call_apply(call_id=call_id, ok=ok, value=value)
    return ok, value


def _goes_stale(call):
    """The row is left untouched for longer than the stale threshold."""
    ServiceCall.objects.filter(pk=call.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )


def _start(users, filename, key, data=None):
    deploy(BPMN_DIR / filename, users["analyst"])
    case, _ = case_start(user=users["requester"], key=key, data=data or {"amount": 1})
    return case


@pytest.fixture
def ops(settings):
    """Register the test operations under the names the diagrams use."""

    def register(**names):
        settings.ENGINE_SERVICE_OPERATIONS = {
            name: f"tests.operations.{func}" for name, func in names.items()
        }

    return register


# --- retries on a real worker --------------------------------------------------------


@worker
@transactional
def test_a_flaky_call_is_retried_with_growing_backoff_and_succeeds(
    users, settings, ops
):
    ops(**{"test.flaky": "flaky_twice"})
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 3
    settings.ENGINE_SERVICE_BACKOFF_SECONDS = 0.2
    deploy(BPMN_DIR / "service_flaky.bpmn", users["analyst"])
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        began = time.monotonic()
        case, _ = case_start(
            user=users["requester"], key="service_flaky", data={"amount": 1}
        )
        assert _wait_for(
            lambda: HumanTask.objects.filter(case=case, bpmn_id="check").exists()
        )
        elapsed = time.monotonic() - began
    call = ServiceCall.objects.get(case=case)
    assert call.status == ServiceCall.Status.SUCCEEDED and call.attempts == 3
    assert call.epoch == 0  # automatic retries keep the idempotency key
    scheduled = _events(case, "service.retry_scheduled")
    assert [(e["attempt"], e["delay"]) for e in scheduled] == [(1, 0.2), (2, 0.4)]
    # One service.started per attempt, numbered, on the real worker.
    started = _events(case, "service.started")
    assert [(e["attempt"], e["call"]) for e in started] == [
        (n, call.pk) for n in (1, 2, 3)
    ]
    assert all("ERP unreachable" in e["error"] for e in scheduled)
    assert elapsed >= 0.6  # the countdowns were honoured
    assert not Incident.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).has_incident is False


@worker
@transactional
def test_an_always_failing_call_fails_after_its_attempts_with_one_incident(
    users, settings, ops
):
    ops(**{"test.flaky": "always_fails"})
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 3
    settings.ENGINE_SERVICE_BACKOFF_SECONDS = 0.05
    deploy(BPMN_DIR / "service_flaky.bpmn", users["analyst"])
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case, _ = case_start(
            user=users["requester"], key="service_flaky", data={"amount": 1}
        )
        assert _wait_for(lambda: Incident.objects.filter(case=case).exists())
        time.sleep(0.5)  # nothing else arrives: no further attempt, no second incident
    call = ServiceCall.objects.get(case=case)
    assert call.status == ServiceCall.Status.FAILED and call.attempts == 3
    assert "ERP is down" in call.last_error
    incident = Incident.objects.get(case=case)
    assert incident.kind == "service" and "ERP is down" in incident.message
    assert len(_events(case, "service.retry_scheduled")) == 2
    assert [e["attempts"] for e in _events(case, "service.failed")] == [3]
    assert Case.objects.get(pk=case.pk).has_incident is True


def _until_incident_on_prefork(users, settings, ops, operation, **limits):
    """Run a service_flaky case on a prefork worker (the pool that enforces time
    limits; solo ignores them) until an incident opens; return (case, seconds)."""
    ops(**{"test.flaky": operation})
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 2
    settings.ENGINE_SERVICE_BACKOFF_SECONDS = 0.05
    for name, value in limits.items():
        setattr(settings, name, value)
    deploy(BPMN_DIR / "service_flaky.bpmn", users["analyst"])
    app.control.purge()
    with start_worker(
        app,
        pool="prefork",
        concurrency=1,
        perform_ping_check=False,
        shutdown_timeout=10,
    ):
        began = time.monotonic()
        case, _ = case_start(
            user=users["requester"], key="service_flaky", data={"amount": 1}
        )
        assert _wait_for(
            lambda: Incident.objects.filter(case=case).exists(),
            seconds=30 + 2 * LOAD_SLACK_S,
        )
        # Wall clock: the calls run in a worker process.
        return case, time.monotonic() - began


@worker
@transactional
def test_a_call_over_the_soft_time_limit_is_retried_then_opens_an_incident(
    users, settings, ops
):
    case, elapsed = _until_incident_on_prefork(
        users, settings, ops, "slow", ENGINE_SERVICE_TIMEOUT_SECONDS=0.5
    )
    # Each attempt was cut at 0.5 s: two uncut attempts sleep 10 s (and the
    # first would then succeed).
    assert elapsed < 4 + 2 * LOAD_SLACK_S
    call = ServiceCall.objects.get(case=case)
    assert call.status == ServiceCall.Status.FAILED and call.attempts == 2
    assert "SoftTimeLimitExceeded" in call.last_error
    [scheduled] = _events(case, "service.retry_scheduled")
    assert "SoftTimeLimitExceeded" in scheduled["error"]
    assert "SoftTimeLimitExceeded" in Incident.objects.get(case=case).message


@worker
@transactional
def test_a_call_past_the_hard_time_limit_is_stopped_retried_then_an_incident(
    users, settings, ops
):
    """An operation that swallows SoftTimeLimitExceeded does not hang the worker."""
    case, elapsed = _until_incident_on_prefork(
        users,
        settings,
        ops,
        "stubborn",
        ENGINE_SERVICE_TIMEOUT_SECONDS=0.3,
        ENGINE_SERVICE_HARD_TIMEOUT_SECONDS=1.5,
    )
    # Uncut, each attempt would run 500 s; the hard limit stopped both at 1.5 s.
    assert elapsed < 20 + 2 * LOAD_SLACK_S
    call = ServiceCall.objects.get(case=case)
    assert call.status == ServiceCall.Status.FAILED and call.attempts == 2
    assert "TimeLimitExceeded" in call.last_error
    [scheduled] = _events(case, "service.retry_scheduled")
    assert scheduled["attempt"] == 1 and "TimeLimitExceeded" in scheduled["error"]
    started = _events(case, "service.started")
    assert [(e["attempt"], e["epoch"]) for e in started] == [(1, 0), (2, 0)]
    assert "TimeLimitExceeded" in Incident.objects.get(case=case).message


# --- retries, synchronously ----------------------------------------------------------


@pytest.mark.django_db
def test_spiffworkflow_retry_overrides_the_settings(
    users, settings, ops, django_capture_on_commit_callbacks
):
    ops(**{"test.flaky": "always_fails"})
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 5
    settings.ENGINE_SERVICE_BACKOFF_SECONDS = 100
    case = _start(users, "service_retry_override.bpmn", "service_retry_override")
    call = ServiceCall.objects.get(case=case)
    # <spiffworkflow:retry retries="1" backoff_base="7"/>: two attempts, 7 s base.
    assert (call.max_attempts, call.backoff_seconds) == (2, 7)

    with django_capture_on_commit_callbacks() as resend:
        _run_once(call.pk)
    call.refresh_from_db()
    assert call.status == ServiceCall.Status.PENDING and len(resend) == 1
    assert _events(case, "service.retry_scheduled")[0]["delay"] == 7
    assert (
        timedelta(seconds=6)
        < call.next_attempt_at - timezone.now()
        < timedelta(seconds=8)
    )

    ServiceCall.objects.filter(pk=call.pk).update(next_attempt_at=timezone.now())
    _run_once(call.pk)
    call.refresh_from_db()
    assert call.status == ServiceCall.Status.FAILED and call.attempts == 2
    assert Incident.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_a_waiting_retry_is_neither_swept_nor_run_before_its_time(users, settings, ops):
    ops(**{"test.flaky": "always_fails"})
    settings.ENGINE_SERVICE_BACKOFF_SECONDS = 60
    case = _start(users, "service_flaky.bpmn", "service_flaky")
    call = ServiceCall.objects.get(case=case)
    _run_once(call.pk)
    call.refresh_from_db()
    assert call.status == ServiceCall.Status.PENDING
    assert call.next_attempt_at > timezone.now() + timedelta(seconds=50)
    ServiceCall.objects.filter(pk=call.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    assert call.pk not in service_call_sweep(older_than=timedelta(seconds=0))
    assert service_call_begin(call_id=call.pk) is None  # an early duplicate message

    # Its time has come and gone, and the countdown message was lost: swept.
    ServiceCall.objects.filter(pk=call.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    assert call.pk in service_call_sweep(older_than=timedelta(minutes=1))
    assert service_call_begin(call_id=call.pk).attempts == 2


def test_backoff_doubles_per_attempt_and_is_capped(settings):
    settings.ENGINE_SERVICE_BACKOFF_SECONDS = 2
    settings.ENGINE_SERVICE_BACKOFF_MAX_SECONDS = 3600
    delays = [service_call_backoff(ServiceCall(attempts=n)) for n in (1, 2, 3, 4, 20)]
    assert delays == [2, 4, 8, 16, 3600]
    assert service_call_backoff(ServiceCall(attempts=3, backoff_seconds=0.5)) == 2


@pytest.mark.django_db
def test_a_result_that_is_not_json_is_a_technical_failure(users, settings, ops):
    ops(**{"test.flaky": "not_json"})
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 1
    case = _start(users, "service_flaky.bpmn", "service_flaky")
    ok, error = _run_once(ServiceCall.objects.get(case=case).pk)
    assert not ok and "not JSON-serializable" in error
    incident = Incident.objects.get(case=case)
    assert "not JSON-serializable" in incident.message


# --- business errors -----------------------------------------------------------------


@worker
@transactional
def test_a_business_error_is_caught_by_the_error_boundary_event(users, ops):
    ops(**{"test.credit": "credit_check"})
    deploy(BPMN_DIR / "service_business_error.bpmn", users["analyst"])
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case, _ = case_start(
            user=users["requester"],
            key="service_business_error",
            data={"error_code": "CREDIT_REJECTED"},
        )
        assert _wait_for(
            lambda: HumanTask.objects.filter(
                case=case, bpmn_id="handle_rejection"
            ).exists()
        )
    task = HumanTask.objects.get(case=case, bpmn_id="handle_rejection")
    assert task.name == "Handle rejection" and task.lane == "Finance"
    assert task.status == HumanTask.Status.OPEN
    assert not HumanTask.objects.filter(case=case, bpmn_id="check").exists()
    call = ServiceCall.objects.get(case=case)
    assert call.status == ServiceCall.Status.BUSINESS_ERROR and call.attempts == 1
    assert call.result == {
        "code": "CREDIT_REJECTED",
        "message": "score below limit",
        "data": {"score": 420},
    }
    case = Case.objects.get(pk=case.pk)
    assert case.is_running and not case.has_incident
    assert not Incident.objects.filter(case=case).exists()
    assert [e["code"] for e in _events(case, "service.business_error")] == [
        "CREDIT_REJECTED"
    ]
    assert case.active_elements == ["handle_rejection"]


@pytest.mark.django_db
def test_an_uncaught_business_error_opens_an_incident_without_a_retry(users, ops):
    ops(**{"test.credit": "credit_check"})
    case = _start(
        users,
        "service_business_error.bpmn",
        "service_business_error",
        data={"error_code": "FRAUD_SUSPECTED"},
    )
    call = ServiceCall.objects.get(case=case)
    _run_once(call.pk)
    call.refresh_from_db()
    assert call.status == ServiceCall.Status.FAILED and call.attempts == 1
    incident = Incident.objects.get(case=case)
    assert (
        incident.kind == "service" and incident.error_type == "BusinessErrorNotCaught"
    )
    assert "FRAUD_SUSPECTED" in incident.message
    assert _events(case, "service.retry_scheduled") == []
    case.refresh_from_db()
    assert case.is_running and case.has_incident
    assert case.active_elements == ["credit_check", "credit_rejected"]  # unchanged
    assert not HumanTask.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_a_successful_call_takes_the_normal_path(users, ops):
    ops(**{"test.credit": "credit_check"})
    case = _start(
        users,
        "service_business_error.bpmn",
        "service_business_error",
        data={"error_code": ""},
    )
    _run_once(ServiceCall.objects.get(case=case).pk)
    assert list(HumanTask.objects.filter(case=case).values_list("bpmn_id", flat=True))
    assert HumanTask.objects.get(case=case).bpmn_id == "check"
    assert Case.objects.get(pk=case.pk).data["credit"] == {"approved": True}


# --- idempotency ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["", "CREDIT_REJECTED"])
def test_an_outcome_applied_twice_makes_one_transition(users, ops, code):
    ops(**{"test.credit": "credit_check"})
    case = _start(
        users,
        "service_business_error.bpmn",
        "service_business_error",
        data={"error_code": code},
    )
    call = service_call_begin(call_id=ServiceCall.objects.get(case=case).pk)
    ok, value = service_call_execute(call=call)
    service_call_apply(call_id=call.pk, ok=ok, value=value)
    revision = Case.objects.get(pk=case.pk).revision
    service_call_apply(call_id=call.pk, ok=ok, value=value)  # a redelivery
    assert service_call_begin(call_id=call.pk) is None
    assert Case.objects.get(pk=case.pk).revision == revision
    assert HumanTask.objects.filter(case=case).count() == 1
    action = "service.business_error" if code else "service.succeeded"
    assert len(_events(case, action)) == 1


@pytest.mark.django_db
def test_a_late_result_for_an_older_epoch_is_ignored(users, settings, ops):
    ops(**{"test.flaky": "always_fails"})
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 1
    case = _start(users, "service_flaky.bpmn", "service_flaky")
    old = ServiceCall.objects.get(case=case)
    _run_once(old.pk)
    incident_retry(user=users["padmin"], incident_id=Incident.objects.get(case=case).pk)
    new = ServiceCall.objects.get(case=case, epoch=1)
    revision = Case.objects.get(pk=case.pk).revision

    service_call_apply(call_id=old.pk, ok=True, value={"late": True})

    assert Case.objects.get(pk=case.pk).revision == revision
    assert not HumanTask.objects.filter(case=case).exists()
    assert ServiceCall.objects.get(pk=old.pk).status == ServiceCall.Status.FAILED
    assert ServiceCall.objects.get(pk=new.pk).status == ServiceCall.Status.PENDING


@pytest.mark.django_db
def test_a_call_of_a_cancelled_case_is_discarded_not_run(users, ops):
    from engine.services import case_cancel

    ops(**{"test.flaky": "always_fails"})
    case = _start(users, "service_flaky.bpmn", "service_flaky")
    call = ServiceCall.objects.get(case=case)
    case_cancel(user=users["requester"], case_id=case.pk)
    assert service_call_begin(call_id=call.pk) is None
    call.refresh_from_db()
    assert call.status == ServiceCall.Status.DISCARDED
    assert call.attempts == 0
    assert call.pk not in service_call_sweep(older_than=timedelta(seconds=0))


# --- the adapter: where a business error is caught -----------------------------------

_NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="d" targetNamespace="x">
  <bpmn:error id="any" name="Any error"><bpmn:extensionElements>
    <spiffworkflow:variableName>failure</spiffworkflow:variableName>
  </bpmn:extensionElements></bpmn:error>
  <bpmn:process id="nested" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:subProcess id="sub"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:startEvent id="ss"><bpmn:outgoing>g1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:serviceTask id="call"><bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="op" resultVariable="r" />
      </bpmn:extensionElements><bpmn:incoming>g1</bpmn:incoming>
        <bpmn:outgoing>g2</bpmn:outgoing></bpmn:serviceTask>
      <bpmn:endEvent id="se"><bpmn:incoming>g2</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="g1" sourceRef="ss" targetRef="call" />
      <bpmn:sequenceFlow id="g2" sourceRef="call" targetRef="se" />
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="any_error" attachedToRef="sub">
      <bpmn:outgoing>fe</bpmn:outgoing>
      <bpmn:errorEventDefinition errorRef="any" />
    </bpmn:boundaryEvent>
    <bpmn:manualTask id="fix" name="Fix"><bpmn:incoming>fe</bpmn:incoming>
      <bpmn:outgoing>fe2</bpmn:outgoing></bpmn:manualTask>
    <bpmn:endEvent id="ee"><bpmn:incoming>fe2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sub" />
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="e" />
    <bpmn:sequenceFlow id="fe" sourceRef="any_error" targetRef="fix" />
    <bpmn:sequenceFlow id="fe2" sourceRef="fix" targetRef="ee" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_catch_all_boundary_on_the_enclosing_subprocess_catches_the_error():
    from engine.spiff import compile_process, workflow_start
    from engine.spiff.runtime import workflow_throw_service_error

    process = compile_process(_NESTED, key="nested")
    started = workflow_start(process, data={})
    [pending] = started.pending_service_calls
    outcome = workflow_throw_service_error(
        process,
        started.state,
        task_id=pending.task_id,
        code="ANYTHING",
        message="no",
        data={"n": 1},
    )
    assert outcome.failure is None and outcome.pending_service_calls == ()
    [ready] = outcome.ready_user_tasks
    assert ready.bpmn_id == "fix"
    assert outcome.data["failure"] == {
        "code": "ANYTHING",
        "message": "no",
        "data": {"n": 1},
    }


def test_an_error_no_boundary_catches_changes_nothing():
    from pathlib import Path

    from engine.spiff import ServiceErrorNotCaught, compile_process, workflow_start
    from engine.spiff.runtime import workflow_throw_service_error

    bpmn = Path(BPMN_DIR / "service_business_error.bpmn").read_bytes()
    process = compile_process(bpmn, key="service_business_error")
    started = workflow_start(process, data={"error_code": "X"})
    [pending] = started.pending_service_calls
    with pytest.raises(ServiceErrorNotCaught, match="OTHER"):
        workflow_throw_service_error(
            process, started.state, task_id=pending.task_id, code="OTHER"
        )


def test_a_call_whose_worker_died_on_every_attempt_fails_with_one_incident(
    users, settings
):
    from engine.models import Incident
    from engine.services import service_call_begin

    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 2
    deploy(BPMN_DIR / "service_echo.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="service_echo", data={"amount": 1}
    )
    call = ServiceCall.objects.get(case=case)
    for _ in range(2):  # the worker picks it up and dies (no result is ever applied)
        assert service_call_begin(call_id=call.pk) is not None
        # A second delivery while the row is fresh is a duplicate, not a re-run.
        assert service_call_begin(call_id=call.pk) is None
        _goes_stale(call)
    assert service_call_begin(call_id=call.pk) is None  # the third delivery
    call.refresh_from_db()
    assert (
        call.status == ServiceCall.Status.FAILED and "worker stopped" in call.last_error
    )
    assert Incident.objects.filter(case=case, kind="service").count() == 1
    assert service_call_begin(call_id=call.pk) is None
