"""A message drawn as going to an outside party passes its sender as Camunda 7 runs it.

Camunda 7 runs a message intermediate throw or end event without implementation
(no camunda:class, expression, delegateExpression or external type) as a none
event (BpmnParse: IntermediateThrowNoneEventActivityBehavior): the token passes.
Laneway delivers such a message by name to its own cases and processes, and one
that nothing takes is an incident (a lost message is never silent). When the
diagram's message flows send it only to black-box pools (a collapsed pool
without a process, a pool whose process is not executable), and no process in
use can catch it, nothing is lost: it went to that outside party, recorded on
the sender, with no incident. Sent as the worker sends it (`message_outbox_send`).
"""

from pathlib import Path

import pytest

from audit.models import AuditEvent
from engine.models import Case, Incident, MessageOutbox
from engine.services import case_start
from engine.services.incidents import incident_retry
from engine.services.message_sends import message_outbox_send
from engine.spec_cache import spec_for
from engine.spiff import compile_process, processes_compile
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tasks_app.story import case_story
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db


def _send_all(case: Case) -> None:
    """Deliver what the case sent, row by row, as the outbox worker does."""
    for row in MessageOutbox.objects.filter(case=case).order_by("created_at", "pk"):
        message_outbox_send(outbox_id=row.pk)


def copy_catching_nothing(tmp_path: Path) -> Path:
    """A next version of letter_copy whose copy task waits for no message."""
    later = tmp_path / "message_outside_copy.bpmn"
    later.write_text(
        (BPMN_DIR / "message_outside_copy.bpmn")
        .read_text()
        .replace('<bpmn:receiveTask id="keep_copy"', '<bpmn:task id="keep_copy"')
        .replace(' messageRef="Message_letter">', ">")
        .replace("</bpmn:receiveTask>", "</bpmn:task>")
    )
    return later


def _start(users, key: str) -> Case:
    case, _ = case_start(user=users["requester"], key=key, data={})
    _send_all(case)
    case.refresh_from_db()
    return case


def test_throw_and_end_event_to_black_box_pools_pass_with_no_incident(users):
    deploy(BPMN_DIR / "message_outside.bpmn", users["analyst"])
    case = _start(users, "letter_sender")
    # The throw passed, the message end event ended the case: nothing waits.
    assert case.status == "completed"
    assert not case.has_incident
    assert not Incident.objects.filter(case=case).exists()
    assert not MessageOutbox.objects.exists()
    sent = AuditEvent.objects.filter(case_id=case.pk, action="message.sent_outside")
    assert sorted((e.task_ref, e.payload["name"], e.payload["to"]) for e in sent) == [
        ("order_parts", "parts_order", "Supplier"),  # a non-executable pool's event
        ("send_letter", "letter", "Customer"),  # a collapsed pool
    ]
    assert not AuditEvent.objects.filter(action="message.undelivered").exists()
    # The case's story (its page) says where the messages went.
    _, story = case_story(case=case)
    assert {i["words"] for i in story} >= {
        "The message “letter” went to Customer",
        "The message “parts_order” went to Supplier",
    }


def test_a_message_to_a_pool_laneway_runs_is_still_an_incident(users):
    deploy(BPMN_DIR / "message_outside.bpmn", users["analyst"])
    case = _start(users, "notice_sender")
    assert case.status == "completed"
    [incident] = Incident.objects.filter(case=case)
    assert (incident.kind, incident.bpmn_id) == ("message", "send_notice")
    assert incident.detail["reason"] == (
        "no case waits for “notice” and no process starts with it"
    )
    assert not AuditEvent.objects.filter(action="message.sent_outside").exists()


def test_a_message_a_process_in_use_catches_is_an_incident_until_it_is_taken(users):
    """Drawn to the customer, but a deployed process catches it: meant for Laneway."""
    deploy(BPMN_DIR / "message_outside.bpmn", users["analyst"])
    deploy(BPMN_DIR / "message_outside_copy.bpmn", users["analyst"])
    copy, _ = case_start(user=users["requester"], key="letter_copy", data={})
    case = _start(users, "letter_sender")  # the copy does not wait yet
    [incident] = Incident.objects.filter(case=case)
    assert incident.bpmn_id == "send_letter"
    assert incident.detail["reason"] == (
        "no case waits for “letter” and no process starts with it (its message "
        "flows go to Customer, but “letter_copy” can catch it)"
    )
    assert not AuditEvent.objects.filter(
        case_id=case.pk, action="message.sent_outside", payload__name="letter"
    ).exists()
    # Re-sent once the copy waits: delivered there, the incident resolves.
    task = HumanTask.objects.get(case=copy, status="open")
    task_complete(user=users["finance"], task_id=task.pk, data={})
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    incident.refresh_from_db()
    copy.refresh_from_db()
    assert (incident.status, copy.status) == ("resolved", "completed")


def test_a_version_with_open_cases_is_in_use_though_a_later_one_catches_nothing(
    users, tmp_path
):
    deploy(BPMN_DIR / "message_outside.bpmn", users["analyst"])
    deploy(BPMN_DIR / "message_outside_copy.bpmn", users["analyst"])
    case_start(user=users["requester"], key="letter_copy", data={})  # v1, at its task
    assert deploy(copy_catching_nothing(tmp_path), users["analyst"]).number == 2
    case = _start(users, "letter_sender")
    incident = Incident.objects.get(case=case, bpmn_id="send_letter")
    # Once no case of the first version runs, the letter goes out: a re-send
    # resolves the incident, and a later case sends it with none.
    Case.objects.filter(version__definition__key="letter_copy").update(
        status="cancelled"
    )
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    incident.refresh_from_db()
    assert (incident.status, incident.resolution) == ("resolved", "retry")
    resent = AuditEvent.objects.get(case_id=case.pk, action="message.resent")
    assert (resent.payload["to"], resent.payload["delivered"]) == ("Customer", [])
    again = _start(users, "letter_sender")
    assert not Incident.objects.filter(case=again).exists()


def test_an_incident_from_before_the_fact_was_carried_resolves_on_re_send(users):
    """A row written before the outbox carried the fact opened an incident then;
    re-sent, the message goes where the version's diagram now says."""
    deploy(BPMN_DIR / "message_outside.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key="letter_sender", data={})
    MessageOutbox.objects.filter(case=case).update(outside="")  # as migrated rows
    _send_all(case)
    incidents = Incident.objects.filter(case=case, status="open")
    assert sorted(incidents.values_list("bpmn_id", flat=True)) == [
        "order_parts",
        "send_letter",
    ]
    for incident in incidents:
        incident_retry(user=users["padmin"], incident_id=incident.pk)
    assert not Incident.objects.filter(case=case, status="open").exists()
    resent = AuditEvent.objects.filter(case_id=case.pk, action="message.resent")
    assert sorted(e.payload["to"] for e in resent) == ["Customer", "Supplier"]


def test_the_fact_is_compiled_from_the_stored_normalized_xml(users):
    """What a version stores (normalized XML, non-executable pools dropped) is
    all it takes: a version deployed before the fact existed has it when compiled."""
    version = deploy(BPMN_DIR / "message_outside.bpmn", users["analyst"])
    stored = bytes(version.normalized_xml)
    assert b"supplier_desk" in stored and b'id="supplier_receive"' not in stored
    recompiled = compile_process(stored, key="letter_sender")
    expected = {"send_letter": "Customer", "order_parts": "Supplier"}
    assert dict(recompiled.outside_senders) == expected
    assert dict(spec_for(version).outside_senders) == expected


def _senders(xml: str) -> dict[str, str]:
    compiled = processes_compile(xml.encode(), validate=False)
    return dict(next(p for p in compiled if p.key == "own").outside_senders)


_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="D" targetNamespace="http://laneway.example/bpmn">
  <bpmn:message id="M" name="m" />
  <bpmn:collaboration id="C">
    <bpmn:participant id="P_Own" processRef="own" />
    {participants}
    {flows}
  </bpmn:collaboration>
  <bpmn:process id="own" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateThrowEvent id="t">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="M" />
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" />
  </bpmn:process>
  {processes}
</bpmn:definitions>"""


@pytest.mark.parametrize(
    ("participants", "flows", "processes", "expected"),
    [
        pytest.param("", "", "", {}, id="no message flow"),
        pytest.param(
            '<bpmn:participant id="P_X" />',
            '<bpmn:messageFlow id="m1" sourceRef="t" targetRef="P_X" />',
            "",
            {"t": "P_X"},
            id="collapsed pool without a name",
        ),
        pytest.param(
            '<bpmn:participant id="P_X" name="Bank" /><bpmn:participant id="P_Y" '
            'name="Tax office" />',
            '<bpmn:messageFlow id="m1" sourceRef="t" targetRef="P_X" />'
            '<bpmn:messageFlow id="m2" sourceRef="t" targetRef="P_Y" />',
            "",
            {"t": "Bank, Tax office"},
            id="two black boxes",
        ),
        pytest.param(
            '<bpmn:participant id="P_X" name="Bank" /><bpmn:participant id="P_R" '
            'processRef="other" />',
            '<bpmn:messageFlow id="m1" sourceRef="t" targetRef="P_X" />'
            '<bpmn:messageFlow id="m2" sourceRef="t" targetRef="P_R" />',
            '<bpmn:process id="other"><bpmn:startEvent id="o" /></bpmn:process>',
            {},
            id="a black box and a pool that runs (isExecutable absent runs)",
        ),
        pytest.param(
            '<bpmn:participant id="P_R" processRef="other" />',
            '<bpmn:messageFlow id="m1" sourceRef="t" targetRef="o" />',
            '<bpmn:process id="other" isExecutable="true">'
            '<bpmn:startEvent id="o" /></bpmn:process>',
            {},
            id="an element of a pool that runs",
        ),
    ],
)
def test_which_senders_send_to_outside_parties(
    participants, flows, processes, expected
):
    xml = _DIAGRAM.format(participants=participants, flows=flows, processes=processes)
    assert _senders(xml) == expected


def test_a_catch_named_by_one_expression_claims_only_the_name_it_waits_for(
    users, tmp_path
):
    """A receive task drawn as `${kind}` subscribes to the name `kind` holds
    when it is reached (Camunda 7's EventSubscriptionDeclaration resolves it
    then; correlation matches the subscriptions' resolved names). Deployed, it
    claims no name: a message drawn to the customer that no case waits for
    goes to the customer, with no incident. Waiting for "letter", it takes it."""
    deploy(BPMN_DIR / "message_outside.bpmn", users["analyst"])
    copy_file = tmp_path / "message_outside_copy.bpmn"
    copy_file.write_text(
        (BPMN_DIR / "message_outside_copy.bpmn")
        .read_text()
        .replace('name="letter" />', 'name="${kind}" />')
    )
    deploy(copy_file, users["analyst"])
    copy, _ = case_start(user=users["requester"], key="letter_copy", data={})
    copy_case = Case.objects.get(pk=copy.pk)
    case = _start(users, "letter_sender")  # the copy does not wait yet
    assert not Incident.objects.filter(case=case).exists()
    sent = AuditEvent.objects.filter(case_id=case.pk, action="message.sent_outside")
    assert sorted(e.payload["name"] for e in sent) == ["letter", "parts_order"]
    # Once the copy waits for "letter" (its kind), the next letter is its.
    task = HumanTask.objects.get(case=copy_case, status="open")
    task_complete(user=users["finance"], task_id=task.pk, data={"kind": "letter"})
    later = _start(users, "letter_sender")
    copy_case.refresh_from_db()
    assert copy_case.status == "completed"
    assert not Incident.objects.filter(case=later).exists()
    assert not AuditEvent.objects.filter(
        case_id=later.pk, action="message.sent_outside", payload__name="letter"
    ).exists()
