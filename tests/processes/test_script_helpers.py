"""SpiffArena's script helpers run with their Laneway meaning; others are refused.

(issue 9; engine/spiff/script_helpers.py)
"""

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from engine.models import Case, ServiceCall, TimerStartSchedule
from engine.services import (
    case_fire_timers,
    case_start,
    message_deliver,
    service_call_apply,
    service_call_begin,
    service_call_execute,
    signal_send,
    timer_start_fire,
)
from engine.services.external_tasks import (
    TopicRequest,
    external_task_complete,
    external_tasks_fetch,
)
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


# Who acts and who started the case, in every path that runs scripts without a
# person completing a task (the system actor where no person acts).
WHO = """actor = get_current_user()['username']
starter = get_process_initiator_user()['username']"""


def started_then_who(start: str, middle: str = "") -> bytes:
    """A start event with the definition `start`, then `middle` (an element
    with id "mid", if given), a script task reading the helpers, a user task."""
    first = "mid" if middle else "who"
    tail = (
        '<bpmn:sequenceFlow id="f2" sourceRef="mid" targetRef="who" />'
        if middle
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:message id="m_go" name="go" />
  <bpmn:signal id="s_go" name="go" />
  <bpmn:process id="who_acts" name="Who acts" isExecutable="true">
    <bpmn:startEvent id="start">{start}</bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{first}" />
    {middle}
    {tail}
    <bpmn:scriptTask id="who" scriptFormat="python">
      <bpmn:script>{WHO}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="who" targetRef="after" />
    <bpmn:userTask id="after" camunda:candidateGroups="Manager" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


SERVICE = '<bpmn:serviceTask id="mid" camunda:class="com.example.Echo" />'


def timer(kind: str, value: str) -> str:
    return f"<bpmn:timerEventDefinition><bpmn:{kind}>{value}</bpmn:{kind}>" + (
        "</bpmn:timerEventDefinition>"
    )


def _who(case) -> tuple[str, str]:
    case.refresh_from_db()
    assert not case.has_incident, list(case.incidents.values_list("message"))
    return case.data["actor"], case.data["starter"]


def _grant(user, *codenames: str) -> None:
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="engine", codename__in=codenames
        )
    )


def _deploy(users, start: str = "", middle: str = "") -> None:
    version_upload(
        user=users["analyst"], bpmn=started_then_who(start, middle), filename="w"
    )


def test_after_a_python_service_result_the_system_acts(users, settings):
    settings.ENGINE_SERVICE_OPERATIONS = {
        "com.example.Echo": "tests.operations.corpus_operation"
    }
    _deploy(users, middle=SERVICE)
    case, _ = case_start(user=users["requester"], key="who_acts", data={})
    call = ServiceCall.objects.get(case=case)
    begun = service_call_begin(call_id=call.pk)  # what the Celery task does
    ok, value = service_call_execute(call=begun)
    service_call_apply(call_id=call.pk, ok=ok, value=value)
    assert _who(case) == ("laneway-system", "requester")


def test_after_an_external_worker_completes_its_account_acts(users):
    _deploy(users, middle=SERVICE)  # no Python operation: an external task
    case, _ = case_start(user=users["requester"], key="who_acts", data={})
    worker = users["outsider"]
    _grant(worker, "work_external_tasks")
    [locked] = external_tasks_fetch(
        user=worker,
        worker_id="w1",
        topics=[TopicRequest(name="com.example.Echo", lock_ms=10_000)],
        max_tasks=1,
    )
    external_task_complete(
        user=worker, task_id=str(locked.call.pk), worker_id="w1", variables={}
    )
    assert _who(case) == ("outsider", "requester")


def test_a_case_started_by_a_message_knows_its_sender(users):
    _deploy(users, '<bpmn:messageEventDefinition messageRef="m_go" />')
    _grant(users["finance"], "send_message")
    result = message_deliver(user=users["finance"], name="go", correlation={}, data={})
    case = Case.objects.get(pk=result.started[0])
    assert _who(case) == ("finance", "finance")


def test_a_case_started_by_a_signal_knows_its_sender(users):
    _deploy(users, '<bpmn:signalEventDefinition signalRef="s_go" />')
    _grant(users["finance"], "send_signal")
    [case_id] = signal_send(user=users["finance"], name="go", data={}).started
    assert _who(Case.objects.get(pk=case_id)) == ("finance", "finance")


def test_a_case_started_by_a_timer_is_the_system_s(users):
    _deploy(users, timer("timeCycle", "R/PT1H"))
    schedule = TimerStartSchedule.objects.get()
    TimerStartSchedule.objects.filter(pk=schedule.pk).update(
        next_at=timezone.now() - timedelta(seconds=1)
    )
    case_id = timer_start_fire(schedule_id=schedule.pk)  # what beat's sweep does
    assert _who(Case.objects.get(pk=case_id)) == ("laneway-system", "laneway-system")


def test_after_a_timer_fires_the_system_acts(users):
    catch = (
        f'<bpmn:intermediateCatchEvent id="mid">{timer("timeDuration", "PT1S")}'
        "</bpmn:intermediateCatchEvent>"
    )
    _deploy(users, middle=catch)
    case, _ = case_start(user=users["requester"], key="who_acts", data={})
    case.refresh_from_db()
    time.sleep(max((case.next_timer_at - timezone.now()).total_seconds(), 0) + 0.2)
    assert case_fire_timers(case_id=case.pk)  # what beat's sweep does
    assert _who(case) == ("laneway-system", "requester")
