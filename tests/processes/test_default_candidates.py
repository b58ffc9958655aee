"""Unassigned work never blocks a deploy and never lands nowhere (issue 9, must-work 1).

A user task that names nobody deploys with a located warning and is offered to the
process's default candidate group: the one the analyst names at upload, else
process-admins. A candidate expression that resolves to nobody at run time does the
same, flags the case and is audited. Lanes and groups with no members are warned of.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.clients import api_for, page_for

pytestmark = pytest.mark.django_db

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="triage" name="Triage" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
"""
TAIL = """    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="done" />
    <bpmn:endEvent id="done" />
  </bpmn:process>
</bpmn:definitions>
"""


def diagram(task_attrs: str = "") -> bytes:
    """A one-task process; the task is on line 8."""
    return (
        HEAD + f'    <bpmn:userTask id="check" name="Check"{task_attrs} />\n' + TAIL
    ).encode()


def _open_task(case) -> HumanTask:
    return HumanTask.objects.get(case=case, status=HumanTask.Status.OPEN)


def test_a_task_naming_nobody_deploys_with_a_warning_and_goes_to_process_admins(
    users,
):
    [deployed] = version_upload(
        user=users["analyst"], bpmn=diagram(), filename="triage.bpmn"
    )
    version = deployed.version
    assert version.fallback_group == "process-admins"
    [warning] = version.warnings
    assert warning["element_id"] == "check" and warning["line"] == 8
    assert "User task 'Check' has no candidates" in warning["message"]

    case, _ = case_start(user=users["requester"], key="triage", data={})
    task = _open_task(case)
    assert task.candidate_groups == ["process-admins"]
    # A process admin sees and completes it; a requester, a manager may not.
    api = api_for(users["padmin"])
    inbox = api.get("/api/v1/tasks/").json()["results"]
    assert [t["id"] for t in inbox] == [str(task.pk)]
    assert api_for(users["manager1"]).get("/api/v1/tasks/").json()["results"] == []
    task_complete(user=users["padmin"], task_id=task.pk, data={})
    case.refresh_from_db()
    assert case.status == "completed"
    # Statically unassigned work is warned of at upload, not flagged per case.
    assert case.needs_attention is False


def test_the_analyst_names_the_default_group_through_the_api(users):
    upload = SimpleUploadedFile("triage.bpmn", diagram())
    response = api_for(users["analyst"]).post(
        "/api/v1/processes/",
        {"file": upload, "default_group": "Finance"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    [process] = response.json()["processes"]
    assert process["default_group"] == "Finance"
    assert [w["element_id"] for w in process["warnings"]] == ["check"]

    case, _ = case_start(user=users["requester"], key="triage", data={})
    task = _open_task(case)
    assert task.candidate_groups == ["Finance"]
    task_complete(user=users["finance"], task_id=task.pk, data={})
    case.refresh_from_db()
    assert case.status == "completed"


def test_the_upload_page_takes_the_default_group_and_the_version_page_warns(users):
    page = page_for(users["analyst"])
    response = page.post(
        "/processes/upload/",
        {"file": SimpleUploadedFile("triage.bpmn", diagram()), "default_group": "Ops"},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "triage v1 deployed" in text
    assert "line 8: User task &#x27;Check&#x27; has no candidates" in text
    # The default group did not exist: it is created, and warned of as empty.
    assert Group.objects.filter(name="Ops").exists()
    assert "default candidate group &#x27;Ops&#x27;" in text
    version_page = page.get("/processes/triage/v1/").content.decode()
    assert "Warnings at upload" in version_page
    assert "Default candidate group</dt><dd>Ops" in version_page
    assert "has no candidates" in version_page


def test_a_lane_and_a_candidate_group_with_no_members_are_warned_of(users):
    data = diagram(' camunda:candidateGroups="Nobody,Manager"')
    [deployed] = version_upload(user=users["analyst"], bpmn=data, filename="t.bpmn")
    messages = [w["message"] for w in deployed.version.warnings]
    assert messages == [
        "The candidate group 'Nobody' of process 'triage' names a group with no "
        "members: its tasks wait until someone is added to it."
    ]


def test_a_candidate_expression_resolving_to_nobody_goes_to_the_default_group_and_flags_the_case(  # noqa: E501
    users,
):
    data = diagram(' camunda:assignee="${reviewer}"')
    version_upload(
        user=users["analyst"], bpmn=data, filename="t.bpmn", default_group="Manager"
    )
    assert not HumanTask.objects.exists()
    # Named at run time: the named user gets it, nothing is flagged.
    case, _ = case_start(
        user=users["requester"], key="triage", data={"reviewer": "finance"}
    )
    assert _open_task(case).assignee == users["finance"]
    assert case.needs_attention is False
    # Null (Camunda 7: unassigned), or naming no existing user: the default
    # group, the case flagged, audited. (A missing variable is an incident, as
    # in Camunda 7: tests/engine/test_people_expressions.py.)
    for data in ({"reviewer": None}, {"reviewer": "ghost"}):
        case, _ = case_start(user=users["requester"], key="triage", data=data)
        task = _open_task(case)
        assert (task.candidate_groups, task.assignee) == (["Manager"], None)
        case.refresh_from_db()
        assert case.needs_attention is True
        event = AuditEvent.objects.get(case_id=case.pk, action="task.unrouted")
        assert event.payload["default_group"] == "Manager"
        task_complete(user=users["manager2"], task_id=task.pk, data={})
    assert not get_user_model().objects.filter(username="ghost").exists()
