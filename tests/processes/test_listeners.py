"""Listeners that set a variable run; any other is refused, located (issue 9)."""

import pytest

from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db


def diagram(listeners: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="listen" name="Listen" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" camunda:candidateGroups="Manager">
      <bpmn:extensionElements>
{listeners}
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="f4" />
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="high">
      <bpmn:conditionExpression>${{state == "reviewed"}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="low" />
    <bpmn:userTask id="high" camunda:candidateGroups="Manager" />
    <bpmn:userTask id="low" camunda:candidateGroups="Manager" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


SET_ON_START_AND_COMPLETE = """\
        <camunda:executionListener event="start"
            expression="${execution.setVariable('opened', 'yes')}" />
        <camunda:taskListener event="complete"
            expression="${task.setVariable('state', 'reviewed')}" />
        <camunda:taskListener event="create"
            expression="${task.setVariable('limit', amount * 2)}" />"""


def test_set_variable_listeners_run_at_their_events(users):
    version_upload(
        user=users["analyst"],
        bpmn=diagram(SET_ON_START_AND_COMPLETE),
        filename="l.bpmn",
    )
    case, _ = case_start(user=users["requester"], key="listen", data={"amount": 21})
    review = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    task_complete(user=users["manager1"], task_id=review.pk, data={})
    case.refresh_from_db()
    assert case.data["opened"] == "yes"  # execution start
    assert case.data["limit"] == 42  # task create, from the case data
    assert case.data["state"] == "reviewed"  # task complete
    # The gateway reads the value the complete listener set.
    assert HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN).bpmn_id == (
        "high"
    )


@pytest.mark.parametrize(
    "listener",
    [
        '<camunda:taskListener event="create" class="com.example.Notify" />',
        '<camunda:taskListener event="assignment" '
        "expression=\"${task.setVariable('x', 1)}\" />",
        '<camunda:executionListener event="start" expression="${mailer.send(x)}" />',
    ],
)
def test_any_other_listener_is_refused_located(users, listener):
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=diagram(listener), filename="l.bpmn")
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == "review" and problem["line"] == 10
    assert "would not run here" in problem["message"]
