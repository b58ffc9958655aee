"""A service task runs on a real Celery worker over Redis, then the case goes on."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

import engine.tasks  # noqa: F401  (registers engine.service_call_run)
from audit.models import AuditEvent
from config.celery import app
from engine.models import Case, ServiceCall
from engine.services import case_start
from tasks_app.models import HumanTask
from tests.conftest import BPMN_DIR, deploy

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_service_call_runs_on_worker_and_result_reaches_the_case(users):
    deploy(BPMN_DIR / "service_echo.bpmn", users["analyst"])
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case, _ = case_start(
            user=users["requester"], key="service_echo", data={"amount": 21}
        )
        assert _wait_for(
            lambda: HumanTask.objects.filter(case=case, bpmn_id="check").exists()
        )
    call = ServiceCall.objects.get(case=case)
    assert call.status == ServiceCall.Status.SUCCEEDED and call.attempts == 1
    case = Case.objects.get(pk=case.pk)
    assert case.data["echo_result"]["echo"] == {"doubled": 42}
    assert (
        case.data["echo_result"]["idempotency_key"]
        == f"{case.pk}:{call.spiff_task_id}:0"
    )
    actions = set(
        AuditEvent.objects.filter(case_id=case.pk).values_list("action", flat=True)
    )
    assert {"service.queued", "service.succeeded", "task.created"} <= actions


def test_a_call_whose_message_was_lost_is_swept_and_run(users):
    from datetime import timedelta

    from django.utils import timezone

    from engine.tasks import outbox_sweep_task

    deploy(BPMN_DIR / "service_echo.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="service_echo", data={"amount": 1}
    )
    app.control.purge()  # the broker lost it (Redis restarted, worker killed ...)
    ServiceCall.objects.filter(case=case).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert outbox_sweep_task() == 1
        assert _wait_for(
            lambda: HumanTask.objects.filter(case=case, bpmn_id="check").exists()
        )
    assert ServiceCall.objects.get(case=case).status == ServiceCall.Status.SUCCEEDED


def test_failed_call_opens_an_incident_and_admin_retry_runs_it_again(users, settings):
    from rest_framework.test import APIClient

    from engine.models import Incident

    settings.ENGINE_SERVICE_OPERATIONS = {"test.flaky": "tests.operations.flaky"}
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 1  # no automatic retry: straight to incident
    deploy(BPMN_DIR / "service_flaky.bpmn", users["analyst"])
    api = APIClient()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case, _ = case_start(
            user=users["requester"], key="service_flaky", data={"amount": 1}
        )
        assert _wait_for(lambda: Incident.objects.filter(case=case).exists())
        incident = Incident.objects.get(case=case)
        assert incident.kind == "service" and "ERP unreachable" in incident.message
        api.force_authenticate(users["requester"])
        assert api.post(f"/api/v1/incidents/{incident.pk}/retry/").status_code == 403
        api.force_authenticate(users["padmin"])
        response = api.post(f"/api/v1/incidents/{incident.pk}/retry/")
        # Open until the retried call gets through, then resolved by it.
        assert response.status_code == 200 and response.json()["status"] == "open"
        assert response.json()["retrying"] is True
        assert _wait_for(
            lambda: HumanTask.objects.filter(case=case, bpmn_id="check").exists()
        )
    incident.refresh_from_db()
    assert (incident.status, incident.resolution) == ("resolved", "retry")
    calls = list(ServiceCall.objects.filter(case=case).order_by("epoch"))
    assert [(c.epoch, c.status) for c in calls] == [(0, "failed"), (1, "succeeded")]
    assert Case.objects.get(pk=case.pk).has_incident is False
    assert api.post(f"/api/v1/incidents/{incident.pk}/retry/").status_code == 409
