"""Signals: broadcast to every waiting case (catch and boundary), start processes."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from audit.models import AuditEvent
from config.celery import app
from engine.errors import StartOnlyByEvent
from engine.models import Case, SignalSubscription
from engine.services import case_start, signal_broadcast
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, deploy


@pytest.fixture
def catchers(users):
    deploy(BPMN_DIR / "signal_catchers.bpmn", users["analyst"])
    deploy(BPMN_DIR / "signal_start.bpmn", users["analyst"])


def _start(users, key):
    case, _ = case_start(user=users["requester"], key=key, data={"n": 1})
    return case


def _open(case):
    return sorted(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


def _send(user, body, **headers):
    client = APIClient()
    client.force_authenticate(user)
    return client.post("/api/v1/signals/", body, format="json", **headers)


@pytest.mark.django_db
def test_api_signal_reaches_every_waiting_case_and_starts_a_process(
    users, catchers, integration
):
    waiting = _start(users, "signal_wait")
    working = _start(users, "signal_boundary")
    other = _start(users, "signal_wait_done")  # waits for another signal
    assert set(
        SignalSubscription.objects.values_list("case_id", "name", "bpmn_id")
    ) == {
        (waiting.pk, "go", "wait_go"),
        (working.pk, "go", "go_boundary"),
        (other.pk, "done", "wait_done"),
    }

    response = _send(integration, {"name": "go", "data": {"reason": "audit"}})

    assert response.status_code == 200, response.content
    body = response.json()
    assert sorted(body["delivered"]) == sorted([str(waiting.pk), str(working.pk)])
    (started_id,) = body["started"]
    started = Case.objects.get(pk=started_id)
    assert started.version.definition.key == "signal_started"
    assert started.started_by == integration
    assert _open(waiting) == ["after_go"]
    assert _open(working) == ["stopped"]  # the boundary event interrupted "work"
    assert _open(started) == ["started_task"]
    assert _open(other) == []
    for case in (waiting, working, started):
        case.refresh_from_db()
        assert case.data["reason"] == "audit"
        event = AuditEvent.objects.get(case_id=case.pk, action="signal.delivered")
        assert (event.actor_id, event.payload["name"]) == (integration.pk, "go")
    # Who waits for "go" now: nobody (the subscriptions follow the cases).
    assert not SignalSubscription.objects.filter(name="go").exists()


@pytest.mark.django_db
def test_a_signal_nobody_waits_for_reaches_nobody(users, catchers, integration):
    response = _send(integration, {"name": "unknown"})
    assert (response.status_code, response.json()) == (
        200,
        {"delivered": [], "started": [], "pending": []},
    )


@pytest.mark.django_db
def test_only_integrations_process_admins_and_superusers_may_send(
    users, catchers, integration
):
    assert _send(users["requester"], {"name": "go"}).status_code == 403
    assert _send(users["analyst"], {"name": "go"}).status_code == 403
    assert _send(users["padmin"], {"name": "go"}).status_code == 200
    root = get_user_model().objects.create_superuser("root", "r@example.com", "x")
    assert _send(root, {"name": "go"}).status_code == 200
    assert _send(integration, {"name": "go"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "go", "data": [1]}, {"name": "go", "data": "x"}]
)
def test_bad_signal_requests_are_400(users, catchers, integration, body):
    assert _send(integration, body).status_code == 400


@pytest.mark.django_db
def test_an_idempotency_key_delivers_once(users, catchers, integration):
    first_case = _start(users, "signal_wait")
    first = _send(integration, {"name": "go"}, HTTP_IDEMPOTENCY_KEY="k-1")
    later_case = _start(users, "signal_wait")
    again = _send(integration, {"name": "go"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.json() == first.json()
    assert first.json()["delivered"] == [str(first_case.pk)]
    assert _open(later_case) == []  # the repeat delivered nothing
    assert Case.objects.filter(version__definition__key="signal_started").count() == 1
    fresh = _send(integration, {"name": "go"}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert fresh.json()["delivered"] == [str(later_case.pk)]


@pytest.mark.django_db
def test_the_broadcast_skips_the_case_that_threw_it(users, catchers):
    waiting = _start(users, "signal_wait")
    result = signal_broadcast(actor=None, name="go", data={}, source=waiting.pk)
    assert waiting.pk not in result.delivered
    assert _open(waiting) == []
    assert AuditEvent.objects.filter(
        action="case.started", actor_id=None, payload__signal="go"
    ).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_throw_events_of_a_case_reach_other_cases_after_it_commits(users, catchers):
    deploy(BPMN_DIR / "signal_thrower.bpmn", users["analyst"])
    waiting = _start(users, "signal_wait")
    working = _start(users, "signal_boundary")
    done_waiter = _start(users, "signal_wait_done")
    thrower = _start(users, "signal_thrower")
    decide = HumanTask.objects.get(case=thrower, status="open")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        task_complete(user=users["finance"], task_id=decide.pk, data={})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done_waiter.refresh_from_db()
            if _open(waiting) and _open(working) and done_waiter.status == "completed":
                break
            time.sleep(0.2)
    thrower.refresh_from_db()
    assert thrower.status == "completed"
    assert _open(waiting) == ["after_go"]  # the intermediate throw event
    assert _open(working) == ["stopped"]
    assert done_waiter.status == "completed"  # the end throw event "done"
    started = Case.objects.get(version__definition__key="signal_started")
    assert _open(started) == ["started_task"]
    delivered = AuditEvent.objects.filter(action="signal.delivered", case_id=waiting.pk)
    assert delivered.get().actor_repr == "system"


@pytest.mark.django_db
def test_a_signal_starts_a_non_interrupting_event_subprocess(users, integration):
    deploy(BPMN_DIR / "signal_event_subprocess.bpmn", users["analyst"])
    case = _start(users, "signal_event_subprocess")
    assert SignalSubscription.objects.filter(case=case, name="go").exists()
    response = _send(integration, {"name": "go", "data": {"why": "x"}})
    assert response.json()["delivered"] == [str(case.pk)]
    assert _open(case) == ["react", "work"]  # "work" goes on beside it
    react = HumanTask.objects.get(case=case, bpmn_id="react")
    assert react.status == "open"
    # It still listens: a second signal starts the event sub-process again.
    _send(integration, {"name": "go"})
    assert _open(case) == ["react", "react", "work"]


@pytest.mark.django_db
def test_a_process_started_only_by_a_signal_cannot_be_started_by_hand(users, catchers):
    with pytest.raises(StartOnlyByEvent, match="signal start event"):
        case_start(user=users["padmin"], key="signal_started", data={})
    assert not Case.objects.filter(version__definition__key="signal_started").exists()
