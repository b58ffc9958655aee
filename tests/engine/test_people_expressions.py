"""A user task's assignee and candidates read from variables, as Camunda 7 reads them.

Camunda 7 evaluates them when it creates the task (TaskDecorator): a variable
that does not exist fails the task's creation ("Unknown property used in
expression"); Laneway makes that an incident on the task, never an offer to
the default group, and the operator's retry after setting the variable
creates the task for the person it names. Through the case data API and the
incident retry API an operator uses; the scenarios people_*.toml cover the
values.
"""

from pathlib import Path

import pytest

from engine.models import Case, Incident
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tests.clients import api_for

pytestmark = pytest.mark.django_db

BPMN = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"


def _deploy(users, xml: bytes) -> None:
    version_upload(user=users["analyst"], bpmn=xml, filename="people.bpmn")


def _open(case: Case) -> dict[str, str]:
    return dict(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", "assignee__username"
        )
    )


def test_a_missing_assignee_variable_is_an_incident_retried_once_it_is_set(users):
    _deploy(users, (BPMN / "people_expressions.bpmn").read_bytes())
    case, _ = case_start(
        user=users["requester"],
        key="people_expressions",
        data={"reviewers": "bob", "team": "sales"},
    )

    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert incident.bpmn_id == "Task_Approve"
    assert "Unknown property used in expression: ${approver}" in incident.message
    assert "Task_Approve" not in _open(case)  # not offered to anyone else

    padmin = api_for(users["padmin"])
    response = padmin.patch(
        f"/api/v1/cases/{case.pk}/data/",
        {"set": {"approver": "manager1"}, "unset": [], "reason": "approver chosen"},
        format="json",
    )
    assert response.status_code == 200, response.content
    retried = padmin.post(f"/api/v1/incidents/{incident.pk}/retry/")

    assert retried.status_code == 200, retried.content
    assert _open(case)["Task_Approve"] == "manager1"
    assert not Incident.objects.filter(case=case, status=Incident.Status.OPEN).exists()


def test_a_listener_assigning_only_when_the_variable_is_set_may_find_it_missing(
    users,
):
    xml = (BPMN / "people_expressions.bpmn").read_bytes()
    guarded = xml.replace(
        b' camunda:assignee="${approver}">',
        b'>\n      <bpmn:extensionElements><camunda:taskListener event="create">'
        b'<camunda:script scriptFormat="javascript">'
        b"if (task.getVariable('approver')) { task.setAssignee(approver); }"
        b"</camunda:script></camunda:taskListener></bpmn:extensionElements>",
    )
    assert guarded != xml
    _deploy(users, guarded)

    case, _ = case_start(
        user=users["requester"],
        key="people_expressions",
        data={"reviewers": "bob", "team": "sales"},
    )

    assert not Incident.objects.filter(case=case, status=Incident.Status.OPEN).exists()
    assert _open(case)["Task_Approve"] is None
