"""BPMN resource roles read as Camunda 7 reads them (issue 9)."""

import pytest

from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask

pytestmark = pytest.mark.django_db


def diagram(roles: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="roles" name="Roles" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
    <bpmn:userTask id="approve" name="Approve">
      {roles}
    </bpmn:userTask>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _owner(text: str, role: str = "potentialOwner") -> str:
    return (
        f"<bpmn:{role}><bpmn:resourceAssignmentExpression><bpmn:formalExpression>"
        f"{text}</bpmn:formalExpression></bpmn:resourceAssignmentExpression>"
        f"</bpmn:{role}>"
    )


def test_potential_owners_and_the_human_performer_become_candidates(users):
    roles = _owner("user(manager1), group(Finance), Manager") + _owner(
        "${initiator}", "humanPerformer"
    )
    version_upload(user=users["analyst"], bpmn=diagram(roles), filename="r.bpmn")
    case, _ = case_start(user=users["requester"], key="roles", data={})
    task = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    assert task.candidate_users == ["manager1"]
    assert task.candidate_groups == ["Finance", "Manager"]
    assert task.assignee == users["requester"]


@pytest.mark.parametrize(
    "roles",
    [
        "<bpmn:potentialOwner><bpmn:resourceRef>R1</bpmn:resourceRef>"
        "</bpmn:potentialOwner>",
        "<bpmn:humanPerformer />",
    ],
)
def test_a_role_without_formal_expression_is_refused_located(users, roles):
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=diagram(roles), filename="r.bpmn")
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == "approve" and problem["line"] == 8
    assert "Camunda 7 refuses it too" in problem["message"]
