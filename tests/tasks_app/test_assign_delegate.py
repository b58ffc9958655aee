"""Assign and delegate: admins hand tasks to candidates; delegates answer for owners."""

import pytest
from rest_framework.test import APIClient

from tasks_app.errors import AssigneeInvalid, NotTaskCandidate
from tasks_app.selectors import inbox_list_for_user
from tasks_app.services import task_assign, task_complete, task_delegate

pytestmark = pytest.mark.django_db


def test_process_admin_assigns_to_a_candidate_only(users, review):
    with pytest.raises(NotTaskCandidate):
        task_assign(user=users["manager1"], task_id=review.pk, assignee="manager2")
    with pytest.raises(AssigneeInvalid):
        task_assign(user=users["padmin"], task_id=review.pk, assignee="finance")
    task = task_assign(user=users["padmin"], task_id=review.pk, assignee="manager2")
    assert task.assignee == users["manager2"]
    assert list(inbox_list_for_user(user=users["manager1"])) == []


def test_delegate_answers_and_the_task_returns_to_its_owner(users, review):
    task = task_delegate(user=users["manager1"], task_id=review.pk, delegate="finance")
    assert task.owner == users["manager1"] and task.assignee == users["finance"]
    assert list(inbox_list_for_user(user=users["finance"])) == [task]
    resolved = task_complete(
        user=users["finance"],
        task_id=review.pk,
        data={"approved": True, "comment": "Budget is fine"},
    )
    assert resolved.status == "open" and resolved.assignee == users["manager1"]
    assert resolved.draft == {"approved": True, "comment": "Budget is fine"}
    done = task_complete(user=users["manager1"], task_id=review.pk, data=resolved.draft)
    assert done.status == "completed" and done.completed_by == users["manager1"]


def test_assign_and_delegate_over_the_api(users, review):
    api = APIClient()
    api.force_authenticate(users["padmin"])
    response = api.post(
        f"/api/v1/tasks/{review.pk}/assign/", {"user": "nobody"}, format="json"
    )
    assert response.status_code == 400 and response.json()["details"]["fields"]["user"]
    assert (
        api.post(
            f"/api/v1/tasks/{review.pk}/assign/", {"user": "manager1"}, format="json"
        ).json()["assignee"]
        == "manager1"
    )
    api.force_authenticate(users["manager1"])
    body = api.post(
        f"/api/v1/tasks/{review.pk}/delegate/", {"user": "manager2"}, format="json"
    ).json()
    assert body["assignee"] == "manager2" and body["owner"] == "manager1"
