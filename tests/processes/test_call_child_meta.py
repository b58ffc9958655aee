"""A child's human task (another file's process, latest binding) is read with
the fields of the version the child ran, not the caller's compiled process.

The case page's story shows a child task's answers under their labels, and a
task form is prefilled with the case data a form of the case's process or of a
version its calls ran also asks for (tasks_app.selectors.task_form_initial),
through the pages a user opens, with the specs rebuilt from the database.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engine import spec_cache
from engine.models import Case
from engine.selectors import case_processes
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.clients import api_for, page_for
from tests.conftest import legacy_completion_incident

pytestmark = pytest.mark.django_db

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs_{key}" targetNamespace="http://laneway.example/test">
  <bpmn:process id="{key}" name="{key}" isExecutable="true">
"""

# Asks for an amount, calls `child_meta` (latest), then asks for the verdict the
# child's reviewer gave (brought back by camunda:out).
PARENT = (
    _HEAD.format(key="parent_meta")
    + """    <bpmn:startEvent id="p_start" />
    <bpmn:sequenceFlow id="p1" sourceRef="p_start" targetRef="request" />
    <bpmn:userTask id="request" name="Request" camunda:candidateGroups="Manager">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="amount" label="Amount" type="long" />
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="p2" sourceRef="request" targetRef="call" />
    <bpmn:callActivity id="call" calledElement="child_meta">
      <bpmn:extensionElements>
        <camunda:in variables="all" />
        <camunda:out variables="all" />
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="p3" sourceRef="call" targetRef="confirm" />
    <bpmn:userTask id="confirm" name="Confirm" camunda:candidateGroups="Manager">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="verdict" label="Final verdict" type="string" />
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="p4" sourceRef="confirm" targetRef="p_end" />
    <bpmn:endEvent id="p_end" />
  </bpmn:process>
</bpmn:definitions>
"""
)

CHILD = (
    _HEAD.format(key="child_meta")
    + """    <bpmn:startEvent id="c_start" />
    <bpmn:sequenceFlow id="c1" sourceRef="c_start" targetRef="check" />
    <bpmn:userTask id="check" name="Check" camunda:candidateGroups="Manager">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="amount" label="Checked amount" type="long" />
        <camunda:formField id="verdict" label="Verdict" type="string" />
        <camunda:formField id="remark" label="Reviewer remark" type="string" />
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="c2" sourceRef="check" targetRef="c_end" />
    <bpmn:endEvent id="c_end" />
  </bpmn:process>
</bpmn:definitions>
"""
)


def _open(case: Case, bpmn_id: str) -> HumanTask:
    return HumanTask.objects.get(case=case, status="open", bpmn_id=bpmn_id)


def _case_at_check(users) -> Case:
    version_upload(user=users["analyst"], bpmn=CHILD.encode(), filename="child.bpmn")
    version_upload(user=users["analyst"], bpmn=PARENT.encode(), filename="parent.bpmn")
    case, _ = case_start(user=users["requester"], key="parent_meta", data={})
    task_complete(
        user=users["manager1"],
        task_id=_open(case, "request").pk,
        data={"amount": 5},
    )
    spec_cache._cache.clear()  # every page rebuilds the specs it reads
    return case


def _complete_check(users, case: Case) -> None:
    task_complete(
        user=users["manager1"],
        task_id=_open(case, "check").pk,
        data={"amount": 7, "verdict": "fine", "remark": "receipts attached"},
    )
    spec_cache._cache.clear()


def test_the_case_story_shows_a_child_tasks_answers_by_their_labels(users):
    case = _case_at_check(users)
    _complete_check(users, case)
    page = page_for(users["manager1"]).get(f"/cases/{case.pk}/").content.decode()
    assert "Reviewer remark “receipts attached”" in page
    assert "remark “receipts attached”" not in page.replace("Reviewer remark", "")


def test_a_child_task_is_prefilled_with_a_field_an_earlier_caller_form_asked(users):
    case = _case_at_check(users)
    check = _open(case, "check")
    page = page_for(users["manager1"]).get(f"/tasks/{check.pk}/").content.decode()
    assert re.search(r'name="f-amount"[^>]*value="5"', page)


def test_a_caller_task_is_prefilled_with_a_field_the_childs_task_asked(users):
    """The verdict the child's reviewer gave comes back (camunda:out) and the
    caller's Confirm, which asks for it too, shows it."""
    case = _case_at_check(users)
    _complete_check(users, case)
    confirm = _open(case, "confirm")
    page = page_for(users["manager1"]).get(f"/tasks/{confirm.pk}/").content.decode()
    assert re.search(r'name="f-verdict"[^>]*value="fine"', page)
    # The called versions come in one query, however many calls the case made.
    case.refresh_from_db()
    case_processes(case=case)  # the specs are cached now
    with CaptureQueriesContext(connection) as queries:
        assert len(case_processes(case=case)) == 2
    assert len(queries) == 1


def test_a_failed_completion_left_at_a_child_task_is_not_retried_into_a_second_task(
    users,
):
    """An incident left from before completions were refused (a complete
    listener failed) at a child's user task: its retry gets the same 409 as one
    at a task of the caller's own process
    (tests/tasks_app/test_completion_failed.py)."""
    case = _case_at_check(users)
    check = _open(case, "check")
    incident = legacy_completion_incident(
        case,
        check,
        element_name="Check",
        message="ScriptError:boom ... Error occurred in the Post-Script",
    )
    answer = api_for(users["padmin"]).post(f"/api/v1/incidents/{incident.pk}/retry/")
    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "incident_retry_unsupported"
    incident.refresh_from_db()
    assert incident.status == "open" and not incident.retrying
    assert list(
        HumanTask.objects.filter(case=case, status="open").values_list("bpmn_id")
    ) == [("check",)]
