"""POST /api/v1/messages/: an Idempotency-Key replays, `ttl_s` keeps a message.

Zeebe-style buffering: a message no case waits for yet is kept for `ttl_s`
seconds and delivered once to the first case that waits for it with matching
correlation (on a real worker); expired messages are dropped by beat's task.
"""

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from audit.models import AuditEvent
from config.celery import app
from engine.models import BufferedMessage, Case
from engine.services import case_start
from engine.tasks import message_buffers_expire_task
from tests.clients import api_for
from tests.conftest import BPMN_DIR, deploy
from tests.engine.test_service_worker import _wait_for


def _send(api, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post("/api/v1/messages/", body, format="json", **headers)


@pytest.fixture
def receivers(users):
    deploy(BPMN_DIR / "message_notify.bpmn", users["analyst"])
    return api_for(users["padmin"])


@pytest.mark.django_db
def test_the_same_key_and_body_replays_the_first_answer(users, receivers):
    case, _ = case_start(user=users["requester"], key="notify_receiver", data={})
    body = {"name": "invoice_paid", "data": {"paid": True}}
    first = _send(receivers, body, key="pay-1")
    assert first.status_code == 200, first.content
    assert first.json()["delivered"] == [str(case.pk)]
    again = _send(receivers, body, key="pay-1")
    assert (again.status_code, again.json()) == (200, first.json())
    delivered = AuditEvent.objects.filter(action="message.delivered")
    assert delivered.count() == 1
    reused = _send(receivers, {**body, "data": {"paid": False}}, key="pay-1")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    # Without a key nothing is remembered: nobody waits any more.
    assert _send(receivers, body).status_code == 404


@pytest.mark.django_db
def test_a_refused_keyed_message_can_be_sent_again_with_its_key(users, receivers):
    body = {"name": "invoice_paid"}
    assert _send(receivers, body, key="k").status_code == 404
    case, _ = case_start(user=users["requester"], key="notify_receiver", data={})
    assert _send(receivers, body, key="k").json()["delivered"] == [str(case.pk)]


@pytest.mark.django_db
def test_signal_key_reused_for_another_signal_is_422(users):
    api = api_for(users["padmin"])
    first = api.post(
        "/api/v1/signals/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="s"
    )
    assert first.status_code == 200
    other = api.post(
        "/api/v1/signals/", {"name": "b"}, format="json", HTTP_IDEMPOTENCY_KEY="s"
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


@pytest.mark.django_db
@pytest.mark.parametrize("ttl", [-1, "soon", 10**9])
def test_a_bad_ttl_is_400_naming_it(receivers, ttl):
    answer = _send(receivers, {"name": "invoice_paid", "ttl_s": ttl})
    assert answer.status_code == 400
    assert "ttl_s" in str(answer.json())
    assert not BufferedMessage.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_kept_message_reaches_the_first_matching_case_once(users, receivers):
    body = {
        "name": "invoice_paid",
        "correlation": {"invoice": "7"},
        "data": {"paid": True},
        "ttl_s": 600,
    }
    kept = _send(receivers, body)
    assert kept.status_code == 202, kept.content
    kept_id = kept.json()["buffered"]
    assert set(kept.json()) == {"buffered"}
    assert AuditEvent.objects.filter(
        action="message.buffered", payload__buffered=kept_id
    ).exists()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        other, _ = case_start(
            user=users["requester"], key="notify_receiver", data={"invoice": "8"}
        )
        first, _ = case_start(
            user=users["requester"], key="notify_receiver", data={"invoice": "7"}
        )
        second, _ = case_start(
            user=users["requester"], key="notify_receiver", data={"invoice": "7"}
        )
        assert _wait_for(
            lambda: Case.objects.filter(pk=first.pk, status="completed").exists()
        )
    assert not BufferedMessage.objects.exists()
    for waiting in (other, second):
        waiting.refresh_from_db()
        assert waiting.status == "running"
    [delivered] = AuditEvent.objects.filter(action="message.delivered")
    assert delivered.case_id == first.pk
    assert delivered.payload["buffered"] == kept_id
    assert delivered.actor_repr == users["padmin"].username
    first.refresh_from_db()
    assert first.data["paid"] is True


@pytest.mark.django_db
def test_an_expired_message_is_dropped_and_reaches_nobody(users, receivers):
    kept = _send(receivers, {"name": "invoice_paid", "ttl_s": 60}).json()["buffered"]
    assert message_buffers_expire_task() == 0  # not yet
    BufferedMessage.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert message_buffers_expire_task() == 1
    assert not BufferedMessage.objects.exists()
    assert AuditEvent.objects.filter(
        action="message.expired", payload__buffered=kept
    ).exists()
    case, _ = case_start(user=users["requester"], key="notify_receiver", data={})
    case.refresh_from_db()
    assert case.status == "running"


@pytest.mark.django_db
def test_kept_messages_are_visible_while_kept_to_who_may_send(users, receivers):
    kept = _send(
        receivers, {"name": "invoice_paid", "correlation": {"n": 1}, "ttl_s": 60}
    ).json()["buffered"]
    listed = receivers.get("/api/v1/messages/kept/")
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert (row["id"], row["name"], row["correlation"]) == (
        kept,
        "invoice_paid",
        {"n": 1},
    )
    assert row["sender"] == users["padmin"].username
    assert api_for(users["requester"]).get("/api/v1/messages/kept/").status_code == 403
    BufferedMessage.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert receivers.get("/api/v1/messages/kept/").json()["results"] == []
