"""The task lifecycle table drives what the API offers and what the services accept."""

import pytest
from rest_framework.test import APIClient

from tasks_app.errors import TaskAlreadyClaimed
from tasks_app.services import task_claim

pytestmark = pytest.mark.django_db


def _actions(user, task) -> list[str]:
    api = APIClient()
    api.force_authenticate(user)
    return api.get(f"/api/v1/tasks/{task.pk}/").json()["actions"]


def test_the_api_lists_what_each_user_may_do_and_the_services_agree(users, review):
    assert _actions(users["manager1"], review) == ["claim", "complete", "delegate"]
    task_claim(user=users["manager1"], task_id=review.pk)
    assert _actions(users["manager1"], review) == [
        "release",
        "complete",
        "delegate",
        "assign",
        "plan",
    ]
    # A fellow candidate sees the claimed task but may do nothing with it...
    assert _actions(users["manager2"], review) == []
    with pytest.raises(TaskAlreadyClaimed):
        task_claim(user=users["manager2"], task_id=review.pk)
    # ...while a process admin may still hand it to someone else.
    assert _actions(users["padmin"], review) == ["assign", "plan"]
