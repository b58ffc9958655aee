"""A candidate expression may name a list of groups or users (Camunda takes a
collection, as the invoice's DMN gives with collectEntries; issue 9)."""

import pytest

from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.permissions import can_work

pytestmark = pytest.mark.django_db

DIAGRAM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="lists" name="Lists" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
    <bpmn:userTask id="approve" camunda:candidateGroups="${approverGroups}"
        camunda:candidateUsers="${reviewers}" />
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_list_variable_offers_the_task_to_every_group_and_user_it_names(users):
    version_upload(user=users["analyst"], bpmn=DIAGRAM, filename="lists.bpmn")
    case, _ = case_start(
        user=users["requester"],
        key="lists",
        data={"approverGroups": ["Finance", " Manager "], "reviewers": ["requester2"]},
    )
    task = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    assert sorted(task.candidate_groups) == ["Finance", "Manager"]
    assert task.candidate_users == ["requester2"]
    assert can_work(users["finance"], task) and can_work(users["manager1"], task)
    assert can_work(users["requester2"], task)
    assert not can_work(users["outsider"], task)
