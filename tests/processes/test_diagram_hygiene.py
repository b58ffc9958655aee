"""Diagram hygiene (issue 9, must-work 4): drawing-only parts neither refuse nor run.

A collaboration whose other pool is not executable, sequence flows drawn without
an id, the ids `Start` and `End` that SpiffWorkflow reserves, and a data store
with its associations: the file deploys, the original XML stays as uploaded, and
the case runs the executable process along every flow, as Camunda would.
"""

import pytest
from lxml import etree

from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
DIAGRAM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:collaboration id="Collab">
    <bpmn:participant id="P_us" processRef="orders" />
    <bpmn:participant id="P_them" processRef="customer" />
    <bpmn:messageFlow id="MF" sourceRef="Task_Customer" targetRef="review" />
  </bpmn:collaboration>
  <bpmn:dataStore id="Store" name="Accounting" />
  <bpmn:process id="orders" name="Orders" isExecutable="true">
    <bpmn:dataStoreReference id="StoreRef" dataStoreRef="Store" />
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow sourceRef="Start" targetRef="review" />
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="Manager">
      <bpmn:property id="Prop" name="__targetRef_placeholder" />
      <bpmn:dataInputAssociation id="In">
        <bpmn:sourceRef>StoreRef</bpmn:sourceRef>
        <bpmn:targetRef>Prop</bpmn:targetRef>
      </bpmn:dataInputAssociation>
      <bpmn:dataOutputAssociation id="Out">
        <bpmn:targetRef>StoreRef</bpmn:targetRef>
      </bpmn:dataOutputAssociation>
    </bpmn:userTask>
    <bpmn:sequenceFlow sourceRef="review" targetRef="End" />
    <bpmn:endEvent id="End" />
  </bpmn:process>
  <bpmn:process id="customer" name="Customer" isExecutable="false">
    <bpmn:startEvent id="C_start" />
    <bpmn:sequenceFlow id="C_f1" sourceRef="C_start" targetRef="Task_Customer" />
    <bpmn:task id="Task_Customer" name="Send order" />
    <bpmn:complexGateway id="C_gw" />
    <bpmn:userTask id="C_nobody" name="Nobody" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_diagram_with_drawing_only_parts_deploys_and_runs_every_flow(users):
    [deployed] = version_upload(
        user=users["analyst"], bpmn=DIAGRAM, filename="orders.bpmn"
    )
    version = deployed.version
    assert version.definition.key == "orders"
    # The other party's pool is not checked: its user task raises no warning.
    assert version.warnings == []
    assert bytes(version.original_xml) == DIAGRAM
    normalized = etree.fromstring(bytes(version.normalized_xml))
    assert normalized.find("bpmn:process[@id='customer']", NS) is None
    assert all(f.get("id") for f in normalized.iterfind(".//bpmn:sequenceFlow", NS))
    ids = {e.get("id") for e in normalized.iter() if isinstance(e.tag, str)}
    assert not ids & {"Start", "End", "StoreRef", "In", "Out"}

    case, _ = case_start(user=users["requester"], key="orders", data={})
    task = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    assert task.bpmn_id == "review"
    task_complete(user=users["manager1"], task_id=task.pk, data={})
    case.refresh_from_db()
    assert case.status == "completed"


FLOWABLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:flowable="http://flowable.org/bpmn"
    xmlns:activiti="http://activiti.org/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <process id="expenses" name="Expenses" isExecutable="true">
    <startEvent id="start" flowable:formFieldValidation="true" />
    <sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
    <userTask id="approve" name="Approve" flowable:candidateGroups="Finance" />
    <sequenceFlow id="f2" sourceRef="approve" targetRef="rework" />
    <userTask id="rework" name="Rework" activiti:assignee="${initiator}" />
    <sequenceFlow id="f3" sourceRef="rework" targetRef="end" />
    <endEvent id="end">
      <extensionElements>
        <flowable:executionListener event="end" class="com.example.Audit" />
      </extensionElements>
    </endEvent>
  </process>
</definitions>
"""


def test_flowable_and_activiti_attributes_are_read_as_camunda(users):
    # A Java listener class is refused by name, as camunda:executionListener is.
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=FLOWABLE, filename="f.bpmn")
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == "end" and "executionListener" in problem["message"]

    data = FLOWABLE.replace(
        FLOWABLE[
            FLOWABLE.index(b"      <extensionElements>") : FLOWABLE.index(
                b"    </endEvent>"
            )
        ],
        b"",
    )
    [deployed] = version_upload(user=users["analyst"], bpmn=data, filename="f.bpmn")
    assert deployed.version.warnings == []
    assert bytes(deployed.version.original_xml) == data
    case, _ = case_start(user=users["requester"], key="expenses", data={})
    approve = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    assert approve.candidate_groups == ["Finance"]
    task_complete(user=users["finance"], task_id=approve.pk, data={})
    rework = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    assert rework.assignee == users["requester"]
    task_complete(user=users["requester"], task_id=rework.pk, data={})
    case.refresh_from_db()
    assert case.status == "completed"


CAMUNDA_READINGS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="readings" name="Readings" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="review" />
    <bpmn:userTask id="review" camunda:candidateGroups="Manager">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="amount" type="long" />
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" />
    <bpmn:sequenceFlow id="big" sourceRef="gw" targetRef="notify">
      <bpmn:conditionExpression>${amount &gt; 1000}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="other" sourceRef="gw" targetRef="small" />
    <bpmn:intermediateThrowEvent id="notify">
      <bpmn:messageEventDefinition />
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="notify" targetRef="big_task" />
    <bpmn:userTask id="big_task" camunda:candidateGroups="Manager" />
    <bpmn:userTask id="small" camunda:candidateGroups="Manager" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize(("amount", "next_task"), [(5000, "big_task"), (10, "small")])
def test_camunda_readings_of_a_bare_flow_and_a_bare_message_throw(
    users, amount, next_task
):
    # Camunda 7 takes a gateway's flow without condition (the first true flow in
    # model order), and runs a message throw event naming no message and no
    # implementation as a none event; SpiffWorkflow refuses both.
    version_upload(user=users["analyst"], bpmn=CAMUNDA_READINGS, filename="r.bpmn")
    case, _ = case_start(user=users["requester"], key="readings", data={})
    review = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    task_complete(user=users["manager1"], task_id=review.pk, data={"amount": amount})
    case.refresh_from_db()
    assert not case.has_incident
    open_task = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    assert open_task.bpmn_id == next_task


def test_a_flowable_attribute_declared_on_the_task_alone_is_read_as_camunda(users):
    # The namespace may be declared on the element that uses it, not on the root.
    data = FLOWABLE.replace(b'    xmlns:flowable="http://flowable.org/bpmn"\n', b"")
    data = data.replace(
        b'<userTask id="approve" name="Approve" flowable:candidateGroups',
        b'<userTask xmlns:flowable="http://flowable.org/bpmn" id="approve" '
        b'name="Approve" flowable:candidateGroups',
    ).replace(b' flowable:formFieldValidation="true"', b"")
    data = data.replace(
        data[data.index(b"      <extensionElements>") : data.index(b"    </endEvent>")],
        b"",
    )
    version_upload(user=users["analyst"], bpmn=data, filename="f.bpmn")
    case, _ = case_start(user=users["requester"], key="expenses", data={})
    approve = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    assert approve.candidate_groups == ["Finance"]
