"""Incidents a process admin can fix, through the API on a real Celery worker.

A retry that fails again keeps one incident with every attempt; skip completes the
failed service task with data the admin enters; cancelling the case resolves its
incidents; each action is audited; a script incident reads as a plain sentence.
"""

import pytest
from celery.contrib.testing.worker import start_worker
from rest_framework.test import APIClient

import engine.tasks  # noqa: F401  (registers engine.service_call_run)
from audit.models import AuditEvent
from config.celery import app
from engine.models import Case, Incident
from engine.services import case_start
from tasks_app.models import HumanTask
from tests.conftest import BPMN_DIR, deploy
from tests.engine.test_service_worker import _wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _actions(case):
    return list(
        AuditEvent.objects.filter(case_id=case.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.fixture
def failing_service(users, settings):
    settings.ENGINE_SERVICE_OPERATIONS = {"test.flaky": "tests.operations.always_fails"}
    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 2
    settings.ENGINE_SERVICE_BACKOFF_SECONDS = 0
    deploy(BPMN_DIR / "service_flaky.bpmn", users["analyst"])
    api = APIClient()
    api.force_authenticate(users["padmin"])
    return api


def failed_case(users) -> Case:
    """Start a case whose service call always fails; return it at its incident."""
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case, _ = case_start(
            user=users["requester"], key="service_flaky", data={"amount": 1}
        )
        assert _wait_for(lambda: Incident.objects.filter(case=case).exists())
    return case


def test_retry_failing_again_keeps_one_incident_then_skip_with_data(
    users, failing_service
):
    api = failing_service
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case, _ = case_start(
            user=users["requester"], key="service_flaky", data={"amount": 1}
        )
        assert _wait_for(lambda: Incident.objects.filter(case=case).exists())
        incident = Incident.objects.get(case=case)
        url = f"/api/v1/incidents/{incident.pk}/"
        first = api.get(url).json()
        assert first["element_name"] == "Call echo"
        assert [a["message"] for a in first["attempts"]] == [
            "Attempt 1: ConnectionError: ERP is down",
            "Attempt 2: ConnectionError: ERP is down",
        ]
        assert first["summary"] == (
            "The service call of step “Call echo” failed after 2 attempts: ERP is down."
        )

        retried = api.post(url + "retry/").json()
        assert (retried["status"], retried["retrying"]) == ("open", True)
        assert api.post(url + "retry/").status_code == 409  # one retry at a time
        assert _wait_for(lambda: len(api.get(url).json()["attempts"]) == 4)

    # Still the one incident, open, with the whole history; no "resolved" for it.
    assert Incident.objects.filter(case=case).count() == 1
    after = api.get(url).json()
    assert (after["status"], after["retrying"]) == ("open", False)
    assert after["attempts"][2]["message"].startswith("Retry 1, attempt 1:")
    assert all(a["at"] for a in after["attempts"])
    actions = _actions(case)
    assert "incident.resolved" not in actions
    assert actions.count("incident.opened") == 1
    assert {"incident.retry_requested", "incident.retry_failed"} <= set(actions)

    # A non-admin may not skip; a non-object is a 400; then skip with data.
    requester = APIClient()
    requester.force_authenticate(users["requester"])
    assert requester.post(url + "skip/", {"data": {}}, format="json").status_code in (
        403,
        404,
    )
    assert api.post(url + "skip/", {"data": [1]}, format="json").status_code == 400
    response = api.post(url + "skip/", {"data": {"po_number": "PO-7"}}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["resolution"]) == (
        "resolved",
        "skip",
    )
    case = Case.objects.get(pk=case.pk)
    assert case.data["echo_result"] == {"po_number": "PO-7"}
    assert case.has_incident is False
    assert HumanTask.objects.filter(case=case, bpmn_id="check").exists()
    skipped = AuditEvent.objects.get(case_id=case.pk, action="incident.skipped")
    assert skipped.actor_id == users["padmin"].pk
    assert skipped.payload["data"] == {"po_number": "PO-7"}
    assert api.post(url + "retry/").status_code == 409


def test_cancelling_the_case_resolves_its_incidents(users, failing_service):
    api = failing_service
    case = failed_case(users)
    incident = Incident.objects.get(case=case)
    response = api.post(
        f"/api/v1/incidents/{incident.pk}/cancel-case/",
        {"reason": "ERP retired"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["resolution"] == "case_cancelled"
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.has_incident) == ("cancelled", False)
    assert api.get("/api/v1/incidents/").json()["count"] == 0
    cancelled = AuditEvent.objects.get(case_id=case.pk, action="case.cancelled")
    assert cancelled.payload["reason"] == "ERP retired"
    resolved = AuditEvent.objects.get(case_id=case.pk, action="incident.resolved")
    assert resolved.payload["resolution"] == "case_cancelled"


def test_cancelling_a_case_any_way_resolves_its_incidents(users, failing_service):
    case = failed_case(users)
    response = failing_service.post(f"/api/v1/cases/{case.pk}/cancel/")
    assert response.status_code == 200, response.content
    assert Incident.objects.get(case=case).status == "resolved"


def test_a_script_incident_reads_as_a_sentence_retries_and_skips_with_data(
    users, failing_service
):
    api = failing_service
    deploy(BPMN_DIR / "script_fails.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="script_fails", data={"amount": 3}
    )
    incident = Incident.objects.get(case=case)
    url = f"/api/v1/incidents/{incident.pk}/"
    body = api.get(url).json()
    assert body["summary"] == (
        "The script of step “Compute total” failed: it uses “vat_rate”, "
        "which is not a variable of the case."
    )
    assert "Error" not in body["summary"] and "Traceback" not in body["summary"]
    assert "NameError" in body["message"]  # the detail is still there for admins

    assert api.post(url + "retry/").json()["status"] == "open"
    assert Incident.objects.filter(case=case).count() == 1
    assert len(api.get(url).json()["attempts"]) == 2
    # Skip: the admin supplies what the script would have set; the case moves on.
    skip = api.post(url + "skip/", {"data": {"total": 3}}, format="json")
    assert skip.status_code == 200, skip.json()
    assert skip.json()["resolution"] == "skip"
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.data["total"], case.has_incident) == (
        "completed",
        3,
        False,
    )
