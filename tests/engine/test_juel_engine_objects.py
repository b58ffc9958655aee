"""Camunda 7's engine objects in JUEL (juel.py "Engine objects", engine_objects.py).

What the conformance scenarios cannot state (ids, the business key, the
version, who acts), through the services a user's action takes: upload, start,
task completion. The Camunda 7 tests mirrored: ScriptTaskTest.
testSetScriptResultToProcessVariable (`#{execution.id}` is the process
instance's id for a script task of the process), ExecutionListenerTest
(`execution.eventName`, `execution.currentActivityId` in listeners),
TaskListenerTest (`task.name`, `task.eventName`, `task.id`), and
ExpressionManager's VariableScopeElResolver (`authenticatedUserId`).
"""

from pathlib import Path

import pytest

from engine.models import Case
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_complete
from tests.clients import api_for

pytestmark = pytest.mark.django_db

CAMUNDA7 = Path(__file__).parents[1] / "conformance" / "bpmn" / "camunda7"


def _data(user, case_id):
    response = api_for(user).get(f"/api/v1/cases/{case_id}/")
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def _diagram(body: str, process: str = "p") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="{process}" name="Objects" isExecutable="true">
{body}
  </bpmn:process>
</bpmn:definitions>
""".encode()


OBJECTS = _diagram(
    """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="facts" />
    <bpmn:scriptTask id="facts" name="Read facts" scriptFormat="juel"
        camunda:resultVariable="instance">
      <bpmn:extensionElements>
        <camunda:executionListener event="start"
          expression="${execution.setVariable('key', execution.processBusinessKey)}" />
        <camunda:executionListener event="start"
          expression="${execution.setVariable('definition',
            execution.processDefinitionId)}" />
        <camunda:executionListener event="end"
          expression="${execution.setVariable('activity',
            execution.currentActivityId)}" />
        <camunda:executionListener event="end"
          expression="${execution.setVariable('activityName',
            execution.currentActivityName)}" />
        <camunda:executionListener event="end"
          expression="${execution.setVariable('starter', authenticatedUserId)}" />
        <camunda:executionListener event="end"
          expression="${execution.setVariable('event', execution.eventName)}" />
      </bpmn:extensionElements>
      <bpmn:script>#{execution.processInstanceId}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="facts" targetRef="approve" />
    <bpmn:userTask id="approve" name="Approve" camunda:candidateGroups="Manager">
      <bpmn:extensionElements>
        <camunda:taskListener event="create"
          expression="${task.setVariable('taskName', task.name)}" />
        <camunda:taskListener event="create"
          expression="${task.setVariable('taskId', task.id)}" />
        <camunda:taskListener event="complete"
          expression="${task.setVariable('completedBy', task.assignee)}" />
        <camunda:taskListener event="complete"
          expression="${task.setVariable('taskEvent', task.eventName)}" />
        <camunda:taskListener event="complete"
          expression="${task.setVariable('user', authenticatedUserId)}" />
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="other" />
    <bpmn:sequenceFlow id="known" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>${execution.hasVariable('taskId')
        &amp;&amp; execution.getVariable('missing') == null}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="other" sourceRef="gw" targetRef="stuck" />
    <bpmn:userTask id="stuck" camunda:candidateGroups="Manager" />
    <bpmn:endEvent id="end" />"""
)


def test_engine_objects_read_the_case_its_key_version_element_and_user(users):
    [deployed] = version_upload(user=users["analyst"], bpmn=OBJECTS, filename="o.bpmn")
    case, _ = case_start(
        user=users["requester"], key="p", data={}, business_key="order-7"
    )
    data = _data(users["requester"], case.pk)
    assert data["instance"] == str(case.pk)
    assert data["key"] == "order-7"
    version = deployed.version
    assert data["definition"] == f"p:{version.number}:{version.pk}"
    assert data["activity"] == "facts"
    assert data["activityName"] == "Read facts"
    assert data["starter"] == "requester"
    assert data["event"] == "end"
    task = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    assert data["taskName"] == "Approve"
    assert data["taskId"] == str(task.spiff_task_id)
    task_claim(user=users["manager1"], task_id=task.pk)
    task_complete(user=users["manager1"], task_id=task.pk, data={})
    data = _data(users["requester"], case.pk)
    assert data["completedBy"] == "manager1"
    assert data["taskEvent"] == "complete"
    assert data["user"] == "manager1"
    assert Case.objects.get(pk=case.pk).status == Case.Status.COMPLETED


def test_without_a_business_key_it_is_null(users):
    version_upload(user=users["analyst"], bpmn=OBJECTS, filename="o.bpmn")
    case, _ = case_start(user=users["requester"], key="p", data={})
    assert _data(users["requester"], case.pk)["key"] is None


def test_camunda_script_task_test_execution_id_is_the_process_instance(users):
    # ScriptTaskTest.testSetScriptResultToProcessVariable: newProcessVariableName
    # is pi.getId().
    bpmn = CAMUNDA7 / "ScriptTaskTest.testSetScriptResultToProcessVariable.bpmn"
    version_upload(user=users["analyst"], bpmn=bpmn.read_bytes(), filename="s.bpmn")
    case, _ = case_start(
        user=users["requester"],
        key="setScriptResultToProcessVariable",
        data={"echo": "hello", "existingProcessVariableName": "one"},
    )
    data = _data(users["requester"], case.pk)
    assert data["existingProcessVariableName"] == "hello"
    assert data["newProcessVariableName"] == str(case.pk)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("${execution.removeVariable('x')}", "removing a variable"),
        ("${execution.setVariable('x', 1)}", "setVariable() is not supported"),
        ("${execution.getClass().forName('x')}", "getClass() is not supported"),
        ("${execution.eventName == 'start'}", "only while a listener runs"),
        ("${execution}", "execution itself is not a value"),
        ("${execution.getVariable(name)}", "not a text literal"),
        ("${execution.getVariable('a-b')}", "not a variable name"),
        ("${execution.parent}", "execution.parent is not supported"),
    ],
)
def test_outside_the_subset_is_refused_located(users, expression, reason):
    bpmn = _diagram(f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="f3" />
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>{expression}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end" />
    <bpmn:endEvent id="end" />""")
    with pytest.raises(BpmnInvalid) as refused:
        version_upload(user=users["analyst"], bpmn=bpmn, filename="r.bpmn")
    [problem] = [p for p in refused.value.details["errors"] if p["element_id"] == "f2"]
    assert reason in problem["message"]
    assert problem["line"] == 10
