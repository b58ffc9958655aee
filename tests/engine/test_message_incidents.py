"""A message a case sends that no single case takes is an incident on the sender.

Camunda 7 fails the sending step with MismatchingMessageCorrelationException
(an incident when the send is asynchronous). Laneway's send runs after the
sender commits, so the incident opens on the sending case at the sending
element; a process admin re-sends (retry) or drops (skip) the message.
"""

import pytest
from celery.contrib.testing.worker import start_worker

from audit.models import AuditEvent
from config.celery import app
from engine.models import Case, Incident
from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.clients import api_for, page_for
from tests.conftest import BPMN_DIR, deploy
from tests.engine.test_service_worker import _wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _send(users) -> Case:
    """Run a sender to its send task on a real worker; return it."""
    sender, _ = case_start(user=users["requester"], key="notify_sender", data={})
    record = HumanTask.objects.get(case=sender, status="open")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        task_complete(user=users["finance"], task_id=record.pk, data={"amount": 5})
        assert _wait_for(
            lambda: AuditEvent.objects.filter(
                action__in=["message.delivered", "incident.opened"]
            ).exists()
        )
    sender.refresh_from_db()
    return sender


def test_undelivered_message_is_an_incident_then_resent_once_the_receiver_waits(
    users,
):
    deploy(BPMN_DIR / "message_notify.bpmn", users["analyst"])
    sender = _send(users)
    # The sending step has committed: the sender went on to its end.
    assert sender.status == "completed" and sender.has_incident
    [incident] = Incident.objects.filter(case=sender)
    assert (incident.kind, incident.bpmn_id, incident.element_name) == (
        "message",
        "tell_accounts",
        "Tell accounts",
    )
    api = api_for(users["padmin"])
    shown = api.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert shown["summary"] == (
        "The message “invoice_paid” sent by step “Tell accounts” reached no case: "
        "no case waits for “invoice_paid” and no process starts with it; "
        "a message goes to exactly one case."
    )
    page = page_for(users["padmin"]).get(f"/incidents/{incident.pk}/")
    assert shown["summary"] in page.content.decode()
    assert "Re-send message" in page.content.decode()

    # Re-sent while still nobody waits: the same incident, one more attempt.
    again = api.post(f"/api/v1/incidents/{incident.pk}/retry/")
    assert again.status_code == 200, again.content
    assert (again.json()["status"], len(again.json()["attempts"])) == ("open", 2)

    two, _ = case_start(user=users["requester"], key="notify_receiver", data={})
    three, _ = case_start(user=users["requester"], key="notify_receiver", data={})
    ambiguous = api.post(f"/api/v1/incidents/{incident.pk}/retry/").json()
    assert ambiguous["status"] == "open"
    assert "2 cases match “invoice_paid”" in ambiguous["summary"]

    Case.objects.filter(pk=three.pk).update(status="cancelled")
    done = api.post(f"/api/v1/incidents/{incident.pk}/retry/")
    assert done.json()["status"] == "resolved", done.content
    assert done.json()["resolution"] == "retry"
    two.refresh_from_db()
    assert two.status == "completed"
    [delivered] = AuditEvent.objects.filter(case_id=two.pk, action="message.delivered")
    assert delivered.actor_repr == users["padmin"].username
    resent = AuditEvent.objects.get(case_id=sender.pk, action="message.resent")
    assert resent.payload["delivered"] == [str(two.pk)]
    sender.refresh_from_db()
    assert not sender.has_incident
    # Pressing re-send once more delivers nothing twice.
    late = api.post(f"/api/v1/incidents/{incident.pk}/retry/")
    assert late.status_code == 409
    assert AuditEvent.objects.filter(action="message.delivered").count() == 1


def test_an_undelivered_message_can_be_dropped(users):
    deploy(BPMN_DIR / "message_notify.bpmn", users["analyst"])
    sender = _send(users)
    incident = Incident.objects.get(case=sender)
    page = page_for(users["padmin"])
    answer = page.post(f"/incidents/{incident.pk}/skip/", follow=True)
    assert "The message was dropped; nothing was sent." in answer.content.decode()
    incident.refresh_from_db()
    assert (incident.status, incident.resolution) == ("resolved", "skip")
    skipped = AuditEvent.objects.get(case_id=sender.pk, action="incident.skipped")
    assert skipped.payload["dropped_message"] == "invoice_paid"
    # Who may not fix incidents cannot re-send.
    refused = api_for(users["requester"]).post(
        f"/api/v1/incidents/{incident.pk}/retry/"
    )
    assert refused.status_code in (403, 404)
