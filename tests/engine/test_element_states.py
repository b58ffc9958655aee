"""Which elements of a case are completed, active or failed (the diagram markers)."""

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from engine.selectors import (
    case_element_states,
    case_timeline,
    incident_list_for_case,
)
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db

BPMN = Path(__file__).resolve().parents[1] / "bpmn"


def _open(case, bpmn_id):
    return HumanTask.objects.get(case=case, bpmn_id=bpmn_id, status="open")


def _start(users):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 450, "justification": "Second monitor"},
    )
    return case


def test_a_new_case_has_passed_its_start_and_waits_at_manager_review(users, purchase):
    states = case_element_states(case=_start(users))
    assert states == {
        "completed": ["start"],
        "active": ["manager_review"],
        "failed": [],
    }


def test_after_rejection_and_resubmission_the_loop_is_completed_and_review_active_again(
    users, purchase
):
    case = _start(users)
    task_complete(
        user=users["manager1"],
        task_id=_open(case, "manager_review").pk,
        data={"approved": False, "comment": "Cheaper, please"},
    )
    task_complete(
        user=users["requester"],
        task_id=_open(case, "revise_request").pk,
        data={"amount": 320, "justification": "Second monitor"},
    )
    case.refresh_from_db()

    states = case_element_states(case=case)
    assert {"start", "manager_review", "gw_manager", "revise_request"} <= set(
        states["completed"]
    )
    assert states["completed"][0] == "start"
    assert len(states["completed"]) == len(set(states["completed"]))
    assert states["active"] == ["manager_review"]
    assert states["failed"] == []
    assert not {"finance_review", "end_approved", "end_rejected"} & set(
        states["completed"]
    )

    client = APIClient()
    client.force_authenticate(users["requester"])
    body = client.get(f"/api/v1/cases/{case.pk}/").json()
    assert body["elements"] == states
    assert body["active_elements"] == ["manager_review"]  # existing keys stay


def test_a_finished_case_has_nothing_active_and_reached_its_end(users, purchase):
    case = _start(users)
    task_complete(
        user=users["manager1"],
        task_id=_open(case, "manager_review").pk,
        data={"approved": True},
    )
    task_complete(
        user=users["finance"],
        task_id=_open(case, "finance_review").pk,
        data={"finance_approved": True},
    )
    case.refresh_from_db()

    states = case_element_states(case=case)
    assert states["active"] == [] and states["failed"] == []
    assert {
        "start",
        "manager_review",
        "gw_manager",
        "finance_review",
        "gw_finance",
        "end_approved",
    } <= set(states["completed"])
    assert "revise_request" not in states["completed"]


def test_an_element_with_an_open_incident_is_failed_not_active(users):
    xml = (BPMN / "hostile_gateway.bpmn").read_text()
    xml = xml.replace("SCRIPT", "while True:\n    pass").replace(
        "CONDITION", "amount &gt; 1"
    )
    version_upload(user=users["analyst"], bpmn=xml.encode(), filename="h.bpmn")
    case, _ = case_start(
        user=users["requester"], key="hostile_gateway", data={"amount": 5}
    )
    case.refresh_from_db()

    states = case_element_states(case=case)
    assert states["failed"] == ["prepare"]
    assert "prepare" not in states["active"]
    assert "prepare" not in states["completed"]
    # The case page and API pass the incidents they read: the same states.
    incidents = list(incident_list_for_case(case=case))
    assert case_element_states(case=case, incidents=incidents) == states


def test_the_timeline_names_each_event_by_its_element_in_order(users, purchase):
    case = _start(users)
    review = _open(case, "manager_review")
    task_complete(
        user=users["manager1"],
        task_id=review.pk,
        data={"approved": False, "comment": "Too dear"},
    )
    timeline = case_timeline(case=case)
    actions = [entry.action for entry in timeline]
    assert actions[0] == "case.started" and "task.completed" in actions
    completed = timeline[actions.index("task.completed")]
    # The task_ref "<bpmn id>:<task id>" is read back as the element's name.
    assert completed.element == review.name and completed.actor == "manager1"
    assert completed.details["data"]["comment"] == "Too dear"
    assert "task" not in completed.details and "name" not in completed.details
