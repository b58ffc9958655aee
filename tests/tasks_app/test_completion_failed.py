"""A user task whose own completion fails: its complete task listener.

Camunda 7 runs a task's complete listeners (and its end listeners and output
mapping) inside TaskService.complete: when one throws, the call fails and the
transaction rolls back, so the task is still open and nothing it set is kept,
whatever the task's async settings (User Guide, "Task Listener" and
"Transactions in Processes"). Laneway did complete the task and open an
incident at it, whose retry then failed with a 500 (the reset task was offered
a second time: humantask_spiff_unique).
"""

import pytest

from audit.models import AuditEvent
from engine.models import Case, Incident
from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.clients import api_for, page_for
from tests.conftest import deploy, legacy_completion_incident

SPLIT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="split" name="Split" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:userTask id="review" name="Split the bill" camunda:candidateGroups="Manager">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="parts" label="Parts" type="long"/>
        </camunda:formData>
        <camunda:taskListener event="complete"
            expression="${task.setVariable('share', amount / parts)}"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="after"/>
    <bpmn:userTask id="after" name="Pay" camunda:candidateGroups="Manager"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def split_task(users, tmp_path):
    path = tmp_path / "split.bpmn"
    path.write_text(SPLIT)
    deploy(path, users["analyst"])
    case, _ = case_start(user=users["requester"], key="split", data={"amount": 6})
    return HumanTask.objects.get(case=case, bpmn_id="review")


def _unchanged(task: HumanTask, revision: int) -> None:
    case = Case.objects.get(pk=task.case_id)
    assert case.state.revision == revision
    assert case.data == {"amount": 6}
    assert list(
        HumanTask.objects.filter(case=case).values_list("bpmn_id", "status")
    ) == [("review", "open")]
    assert not Incident.objects.filter(case=case).exists()
    assert not AuditEvent.objects.filter(
        case_id=case.pk, action="task.completed"
    ).exists()
    task.refresh_from_db()
    assert task.assignee is None  # completing would have claimed it


def test_the_api_refuses_the_completion_and_changes_nothing(users, split_task):
    revision = Case.objects.get(pk=split_task.case_id).state.revision
    answer = api_for(users["manager1"]).post(
        f"/api/v1/tasks/{split_task.pk}/complete/",
        {"data": {"parts": 0}},
        format="json",
    )
    assert answer.status_code == 409, answer.content
    body = answer.json()
    assert body["code"] == "task_completion_failed"
    assert body["details"]["element"] == "review"
    assert "Split the bill" in body["message"] and "still open" in body["message"]
    _unchanged(split_task, revision)

    # With data the listener can use, the same completion goes through.
    task_complete(user=users["manager1"], task_id=split_task.pk, data={"parts": 3})
    case = Case.objects.get(pk=split_task.case_id)
    assert case.data == {"amount": 6, "parts": 3, "share": 2}
    assert HumanTask.objects.get(case=case, bpmn_id="after").status == "open"


def test_the_page_says_why_and_keeps_what_was_typed(users, split_task):
    revision = Case.objects.get(pk=split_task.case_id).state.revision
    page = page_for(users["manager1"]).post(
        f"/tasks/{split_task.pk}/", {"f-parts": "0"}
    )
    assert page.status_code == 409
    html = page.content.decode()
    assert "Not saved: The task" in html and "could not be completed" in html
    assert 'name="f-parts" value="0"' in html  # what was typed is kept
    _unchanged(split_task, revision)


def test_an_incident_left_from_before_is_not_retried_into_a_second_task(
    users, split_task
):
    """Before completions were refused, the failed completion was an incident
    at the task, and its retry failed with a 500 (the task offered a second
    time). Such an incident, still open in a database, now gets a 409 naming
    what to do instead; nothing changes."""
    case = Case.objects.get(pk=split_task.case_id)
    incident = legacy_completion_incident(
        case,
        split_task,
        element_name="Split the bill",
        message="ScriptError:share is Infinity ... Error occurred in the Post-Script",
    )
    answer = api_for(users["padmin"]).post(f"/api/v1/incidents/{incident.pk}/retry/")
    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "incident_retry_unsupported"
    assert "outgoing paths" in answer.json()["message"]
    incident.refresh_from_db()
    assert incident.status == "open" and not incident.retrying
    assert list(
        HumanTask.objects.filter(case=case).values_list("bpmn_id", "status")
    ) == [("review", "open")]
