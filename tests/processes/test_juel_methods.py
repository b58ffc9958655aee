"""JUEL method calls on strings and collections run as EL runs them (issue 9).

`.equals`, `.contains`, `.size()` and `.isEmpty()` in gateway conditions of a
Camunda diagram, driven through the upload, the case start and the inbox.
"""

import pytest

from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask

pytestmark = pytest.mark.django_db


def diagram(first: str, second: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="route" name="Route" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="f3" />
    <bpmn:sequenceFlow id="f1" sourceRef="gw" targetRef="first">
      <bpmn:conditionExpression>{first}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="second">
      <bpmn:conditionExpression>{second}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="other" />
    <bpmn:userTask id="first" camunda:candidateGroups="Manager" />
    <bpmn:userTask id="second" camunda:candidateGroups="Manager" />
    <bpmn:userTask id="other" camunda:candidateGroups="Manager" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _route(users, data) -> str:
    case, _ = case_start(user=users["requester"], key="route", data=data)
    return HumanTask.objects.get(case=case).bpmn_id


def test_equals_and_contains_choose_the_flow(users):
    bpmn = diagram(
        '${decision.equals("approve")}',
        '${tags.contains("urgent") || note.contains("asap")}',
    )
    version_upload(user=users["analyst"], bpmn=bpmn, filename="r.bpmn")
    base = {"decision": "reject", "tags": [], "note": ""}
    assert _route(users, {**base, "decision": "approve"}) == "first"
    assert _route(users, {**base, "tags": ["late", "urgent"]}) == "second"
    assert _route(users, {**base, "note": "please asap"}) == "second"
    assert _route(users, {**base, "tags": ["urgently"]}) == "other"


def test_size_and_is_empty_choose_the_flow(users):
    bpmn = diagram("${items.size() &gt; 2}", "${!items.isEmpty()}")
    version_upload(user=users["analyst"], bpmn=bpmn, filename="r.bpmn")
    assert _route(users, {"items": [1, 2, 3]}) == "first"
    assert _route(users, {"items": [1]}) == "second"
    assert _route(users, {"items": []}) == "other"


def test_another_method_is_refused_naming_it(users):
    bpmn = diagram('${name.startsWith("A")}', "${true}")
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=bpmn, filename="r.bpmn")
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == "f1"
    assert "startsWith() is not supported" in problem["message"]
