"""camunda:candidateStarterGroups / candidateStarterUsers decide who may start a case.

Camunda 7 (Reference, Process Engine API, "startableByUser"; BPMN extension
attributes candidateStarterGroups / candidateStarterUsers) lists who may start a
process definition; Laneway enforces it when a case starts, so a person outside
both lists cannot start one, and someone named in either can.
"""

import pytest

from engine.errors import StartNotAllowed
from engine.models import Case
from engine.services import case_start
from tests.conftest import deploy

pytestmark = pytest.mark.django_db

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_starters"
    targetNamespace="http://laneway.example/test">
  <bpmn:process id="starters_only" isExecutable="true"
      camunda:candidateStarterGroups="Finance" camunda:candidateStarterUsers="manager1">
    <bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Check" camunda:candidateGroups="Finance">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="Finish"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Check" />
    <bpmn:sequenceFlow id="F2" sourceRef="Check" targetRef="Finish" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def starters_only(users, tmp_path):
    path = tmp_path / "starters_only.bpmn"
    path.write_text(DIAGRAM)
    return deploy(path, users["analyst"])


@pytest.mark.parametrize("who", ["finance", "manager1"])
def test_a_candidate_starter_group_member_or_user_starts_a_case(
    users, starters_only, who
):
    case, _ = case_start(user=users[who], key="starters_only", data={})
    assert case.status == "running"


@pytest.mark.parametrize("who", ["requester", "manager2", "outsider"])
def test_someone_outside_the_candidate_starters_cannot_start_a_case(
    users, starters_only, who
):
    with pytest.raises(StartNotAllowed):
        case_start(user=users[who], key="starters_only", data={})
    assert not Case.objects.exists()
