"""Escalation event sub-processes of different processes in one file deploy.

Camunda 7 refuses two escalation event sub-processes of *one* scope for the
same code (or one of them for any code): 'multiple escalation event
subprocesss with the same escalationCode are not supported on same scope'.
Event sub-processes of different processes (or sub-processes) are different
scopes (BPMN 2.0.2 §10.3.5: an event sub-process belongs to the scope it is
in), so each may catch the same code. The upload check told scopes apart by
the Python id() of a transient lxml element, which the next element reused:
such a file was refused at random.
"""

import pytest
from lxml import etree

from engine.spiff.ref_checks import ref_problems
from processes.errors import BpmnInvalid
from processes.services import version_upload

pytestmark = pytest.mark.django_db

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="d" targetNamespace="http://laneway.example/bpmn">
  <bpmn:escalation id="Esc_Help" name="Help" escalationCode="help" />
"""


def _esp(name: str) -> str:
    """A non-interrupting event sub-process started by the escalation `help`."""
    return (
        f'<bpmn:subProcess id="{name}" triggeredByEvent="true">'
        f'<bpmn:startEvent id="{name}_start" isInterrupting="false">'
        '<bpmn:escalationEventDefinition escalationRef="Esc_Help" />'
        f'</bpmn:startEvent><bpmn:endEvent id="{name}_end" />'
        f'<bpmn:sequenceFlow id="{name}_f" sourceRef="{name}_start" '
        f'targetRef="{name}_end" /></bpmn:subProcess>'
    )


def _process(n: int, esps: int = 1) -> str:
    """Process p{n}: a start straight to its end, and `esps` event sub-processes."""
    return (
        f'<bpmn:process id="p{n}" isExecutable="true"><bpmn:startEvent id="s{n}" />'
        f'<bpmn:endEvent id="e{n}" />'
        f'<bpmn:sequenceFlow id="f{n}" sourceRef="s{n}" targetRef="e{n}" />'
        + "".join(_esp(f"esp{n}_{i}") for i in range(esps))
        + "</bpmn:process>"
    )


def _upload(users, body: str):
    xml = (_HEAD + body + "</bpmn:definitions>\n").encode()
    return version_upload(user=users["analyst"], bpmn=xml, filename="esc.bpmn")


def test_escalation_event_subprocesses_of_different_processes_deploy(users):
    body = "".join(_process(n) for n in range(8))
    assert len(_upload(users, body)) == 8


def test_the_scope_check_tells_processes_apart_on_a_fresh_tree():
    """The check as the upload runs it, on a tree nothing else holds: every
    element proxy is freed after use, so id() reuse showed at once."""
    body = "".join(_process(n) for n in range(8))
    root = etree.fromstring((_HEAD + body + "</bpmn:definitions>\n").encode())
    assert [p.element_id for p in ref_problems(root)] == []


def test_two_escalation_event_subprocesses_of_one_process_are_refused(users):
    body = _process(0, esps=2)
    with pytest.raises(BpmnInvalid) as refused:
        _upload(users, body)
    errors = refused.value.details["errors"]
    assert [e["element_id"] for e in errors] == ["esp0_1_start"]
    assert "same scope" in errors[0]["message"] and errors[0]["line"]
