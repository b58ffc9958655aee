"""Sequence flows and the incoming/outgoing lists of the nodes they connect.

Camunda 7 builds the flow from each sequence flow's sourceRef and targetRef and
refuses one whose source or destination is not an activity of its scope; it
never reads a node's `<incoming>`/`<outgoing>` lists. Laneway does the same:
a flow to or from nowhere is refused at upload, located at the flow; lists that
disagree with the flows (hand-edited XML) run as the flows say.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from engine.models import Case
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.models import ProcessVersion
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="flows" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="work" camunda:candidateGroups="Manager">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:subProcess id="inner">
      <bpmn:startEvent id="inner_start" />
      <bpmn:userTask id="inner_task" camunda:candidateGroups="Manager" />
      <bpmn:endEvent id="inner_end" />
      <bpmn:sequenceFlow id="i1" sourceRef="inner_start" targetRef="inner_task" />
      <bpmn:sequenceFlow id="i2" sourceRef="inner_task" targetRef="inner_end" />
    </bpmn:subProcess>
    <bpmn:dataObjectReference id="order_ref" dataObjectRef="order" />
    <bpmn:dataObject id="order" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
"""
TAIL = """  </bpmn:process>
</bpmn:definitions>
"""
FLOW_LINE = HEAD.count("\n") + 1  # the line of the flow under test


def _diagram(flow: str) -> bytes:
    return (HEAD + flow + "\n" + TAIL).encode()


@pytest.mark.parametrize(
    ("flow", "reason"),
    [
        (
            '    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="ends" />',
            "goes to 'ends', which is not an element of the process 'flows'",
        ),
        (
            '    <bpmn:sequenceFlow id="f2" sourceRef="wrk" targetRef="end" />',
            "comes from 'wrk', which is not an element of the process 'flows'",
        ),
        (  # into a sub-process's inside: Camunda refuses it too
            '    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="inner_task" />',
            "goes to 'inner_task', which is not an element of the process 'flows'",
        ),
        (
            '    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="order_ref" />',
            "goes to 'order_ref', which is not a task, event or gateway",
        ),
        (
            '    <bpmn:sequenceFlow id="f2" sourceRef="work" />',
            "has no targetRef",
        ),
    ],
    ids=["no-target", "no-source", "into-sub-process", "to-data", "unset"],
)
def test_a_flow_to_or_from_nowhere_is_refused_at_upload_located(
    users, client, flow, reason
):
    with pytest.raises(BpmnInvalid) as caught:
        version_upload(user=users["analyst"], bpmn=_diagram(flow), filename="f.bpmn")
    [problem] = [p for p in caught.value.details["errors"] if p["element_id"] == "f2"]
    assert reason in problem["message"] and problem["line"] == FLOW_LINE
    # The same through the API: 400, the problem listed, nothing stored.
    client.force_login(users["analyst"])
    response = client.post(
        "/api/v1/processes/",
        {"file": SimpleUploadedFile("f.bpmn", _diagram(flow))},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert any(
        e["element_id"] == "f2" and reason in e["message"]
        for e in response.json()["details"]["errors"]
    )
    assert not ProcessVersion.objects.exists()


def test_lists_that_disagree_with_the_flows_run_as_the_flows_say(users):
    """`work` lists a flow that does not exist as its outgoing, and `end` lists
    f1 as incoming: both are read from f2's sourceRef/targetRef instead."""
    flow = '    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />'
    xml = (
        _diagram(flow)
        .replace(
            b"<bpmn:outgoing>f2</bpmn:outgoing>", b"<bpmn:outgoing>f9</bpmn:outgoing>"
        )
        .replace(
            b"<bpmn:incoming>f2</bpmn:incoming>", b"<bpmn:incoming>f1</bpmn:incoming>"
        )
    )
    # (The sub-process, reached by no flow, is there for the refusals above.)
    version_upload(user=users["analyst"], bpmn=xml, filename="f.bpmn")
    case, _ = case_start(user=users["requester"], key="flows", data={})
    task = HumanTask.objects.get(case=case, status="open")
    assert task.bpmn_id == "work"
    task_complete(user=users["manager1"], task_id=task.pk, data={})
    assert Case.objects.get(pk=case.pk).status == "completed"
