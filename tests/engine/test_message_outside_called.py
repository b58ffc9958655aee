"""Messages drawn to outside parties, when a called process sends or catches them.

The rule of test_message_outside.py (a message nothing takes went to the
black-box pool its message flows reach, unless a process in use can catch
it: then an incident) for processes that run as the children of call
activities: a child may still run an older version of its process (Camunda
7: it stays on the version it started with), which can catch the message
although the latest version cannot; and a re-sent message whose sender is in
a child reads where it goes from the child's version, not the caller's.
Through `version_upload`, `case_start`, the outbox worker's
`message_outbox_send`, `task_complete` and `incident_retry`, with the spec
cache emptied between steps.
"""

import pytest

from audit.models import AuditEvent
from engine import spec_cache
from engine.models import Case, Incident, MessageOutbox
from engine.services import case_start
from engine.services.incidents import incident_retry
from engine.services.message_sends import message_outbox_send
from processes.services import version_upload
from tests.conftest import BPMN_DIR, deploy
from tests.engine.test_message_outside import copy_catching_nothing

pytestmark = pytest.mark.django_db

CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="D_{key}" targetNamespace="http://laneway.example/test">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="{key}_start" />
    <bpmn:sequenceFlow id="{key}_f1" sourceRef="{key}_start" targetRef="{key}_call" />
    <bpmn:callActivity id="{key}_call" calledElement="{called}" />
    <bpmn:sequenceFlow id="{key}_f2" sourceRef="{key}_call" targetRef="{key}_end" />
    <bpmn:endEvent id="{key}_end" />
  </bpmn:process>
</bpmn:definitions>"""


def _caller(users, key: str, called: str) -> None:
    xml = CALLER.format(key=key, called=called).encode()
    version_upload(user=users["analyst"], bpmn=xml, filename=f"{key}.bpmn")
    spec_cache._cache.clear()


def _send_all(case: Case) -> None:
    spec_cache._cache.clear()
    for row in MessageOutbox.objects.filter(case=case).order_by("created_at", "pk"):
        message_outbox_send(outbox_id=row.pk)
    spec_cache._cache.clear()


def test_an_older_version_a_child_still_runs_catches_the_message(users, tmp_path):
    deploy(BPMN_DIR / "message_outside.bpmn", users["analyst"])
    deploy(BPMN_DIR / "message_outside_copy.bpmn", users["analyst"])  # catches
    _caller(users, "copy_caller", "letter_copy")
    parent, _ = case_start(user=users["requester"], key="copy_caller", data={})
    assert deploy(copy_catching_nothing(tmp_path), users["analyst"]).number == 2
    spec_cache._cache.clear()
    # The only case runs copy_caller; its child runs letter_copy v1, which
    # will wait for the letter (the latest, v2, catches nothing).
    sender, _ = case_start(user=users["requester"], key="letter_sender", data={})
    _send_all(sender)
    incident = Incident.objects.get(case=sender, bpmn_id="send_letter")
    assert incident.detail["reason"] == (
        "no case waits for “letter” and no process starts with it (its message "
        "flows go to Customer, but “letter_copy” can catch it)"
    )
    assert incident.detail["outside"] == "Customer"

    # The caller's case ends: nothing in use catches the letter any more.
    Case.objects.filter(pk=parent.pk).update(status="cancelled")
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    incident.refresh_from_db()
    assert (incident.status, incident.resolution) == ("resolved", "retry")


@pytest.mark.parametrize("carried", [True, False], ids=["carried", "before"])
def test_a_re_send_from_a_childs_sender_goes_where_the_childs_version_says(
    users, tmp_path, carried
):
    deploy(BPMN_DIR / "message_outside.bpmn", users["analyst"])
    deploy(BPMN_DIR / "message_outside_copy.bpmn", users["analyst"])
    copy, _ = case_start(user=users["requester"], key="letter_copy", data={})
    _caller(users, "letter_caller", "letter_sender")
    case, _ = case_start(user=users["requester"], key="letter_caller", data={})
    _send_all(case)  # the copy does not wait yet, but can catch it: an incident
    incident = Incident.objects.get(case=case, bpmn_id="send_letter")
    if not carried:  # as opened before the incident carried the fact
        detail = {k: v for k, v in incident.detail.items() if k != "outside"}
        Incident.objects.filter(pk=incident.pk).update(detail=detail)
    # Nothing in use catches the letter any more: the next version of the
    # copy does not, and the case of the first has ended.
    deploy(copy_catching_nothing(tmp_path), users["analyst"])
    Case.objects.filter(pk=copy.pk).update(status="cancelled")
    spec_cache._cache.clear()

    incident_retry(user=users["padmin"], incident_id=incident.pk)
    incident.refresh_from_db()
    assert (incident.status, incident.resolution) == ("resolved", "retry")
    resent = AuditEvent.objects.get(case_id=case.pk, action="message.resent")
    assert (resent.payload["to"], resent.payload["delivered"]) == ("Customer", [])
