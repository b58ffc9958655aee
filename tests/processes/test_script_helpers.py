"""SpiffArena's script helpers run with their Laneway meaning; others are refused.

(issue 9; engine/spiff/script_helpers.py)
"""

import pytest

from engine.models import Case
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db

POST_SCRIPT = """reviewer = get_current_user()['username']
starter = get_process_initiator_user()['username']
managers = get_group_members(group)
info = get_toplevel_process_info()
where = get_current_task_info()['task_spec']"""


def diagram(
    script: str = "last = get_last_user_completing_task('helpers', 'review')",
    condition: str = "True",
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="helpers" name="Helpers" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_r" name="Requester">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_m" name="Manager">
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>after</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="set_group" />
    <bpmn:scriptTask id="set_group" scriptFormat="python">
      <bpmn:script>group = "Manager"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="set_group" targetRef="review" />
    <bpmn:userTask id="review" name="Review">
      <bpmn:extensionElements>
        <spiffworkflow:postScript>{POST_SCRIPT}</spiffworkflow:postScript>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="who" />
    <bpmn:scriptTask id="who" scriptFormat="python">
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="who" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="f6" />
    <bpmn:sequenceFlow id="f5" sourceRef="gw" targetRef="after">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f6" sourceRef="gw" targetRef="after" />
    <bpmn:userTask id="after" name="After" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def test_helpers_answer_who_acts_who_started_and_who_is_in_a_group(users):
    version_upload(user=users["analyst"], bpmn=diagram(), filename="h.bpmn")
    case, _ = case_start(user=users["requester"], key="helpers", data={})
    review = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    task_complete(user=users["manager2"], task_id=review.pk, data={})
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING and not case.has_incident
    data = case.data
    assert data["reviewer"] == "manager2"  # who completed the task
    assert data["starter"] == "requester"  # who started the case
    assert data["managers"] == ["manager1", "manager2"]  # the group held by `group`
    assert data["info"] == {
        "process_instance_id": str(case.pk),
        "process_model_identifier": "helpers",
    }
    assert data["where"] == "review"
    assert data["last"]["username"] == "manager2"
    assert set(data["last"]) == {"id", "username", "email", "display_name"}


def test_a_group_that_does_not_exist_stops_the_case_at_an_incident(users):
    script = "members = get_group_members('Nobody')"
    version_upload(user=users["analyst"], bpmn=diagram(script), filename="h.bpmn")
    case, _ = case_start(user=users["requester"], key="helpers", data={})
    review = HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)
    task_complete(user=users["manager1"], task_id=review.pk, data={})
    case.refresh_from_db()
    assert case.has_incident
    incident = case.incidents.get()
    assert incident.bpmn_id == "who" and "Nobody" in incident.message


@pytest.mark.parametrize(
    ("kwargs", "element", "why"),
    [
        ({"script": "key = get_secret('erp')"}, "who", "SpiffArena helper"),
        ({"script": "x = send_mail('a')"}, "who", "send_mail() is neither"),
        (
            {"condition": "get_current_user()['username'] == 'x'"},
            "f5",
            "runs in scripts only",
        ),
    ],
)
def test_calls_with_no_meaning_here_are_refused_at_upload_located(
    users, kwargs, element, why
):
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=diagram(**kwargs), filename="h.bpmn")
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == element and problem["line"]
    assert why in problem["message"]
