"""Group managers: the members of "<group>-managers" assign the group's tasks.

Before, only process admins could; a member of the group cannot, and a manager of
another group cannot; the manager assigns only to the task's candidates.
"""

import pytest
from django.contrib.auth.models import Group

from tasks_app.models import HumanTask
from tests.clients import api_for, page_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(users):
    """manager2 manages the Manager group; finance manages Finance."""
    users["manager2"].groups.add(Group.objects.create(name="Manager-managers"))
    users["finance"].groups.add(Group.objects.create(name="Finance-managers"))
    return users["manager2"]


def test_a_group_manager_assigns_the_groups_task_to_a_member(users, review, boss):
    api = api_for(boss)
    team = api.get("/api/v1/tasks/team/").json()
    assert [t["id"] for t in team["results"]] == [str(review.pk)]
    detail = api.get(f"/api/v1/tasks/{review.pk}/").json()
    assert "assign" in detail["actions"]
    wrong = api.post(
        f"/api/v1/tasks/{review.pk}/assign/", {"user": "finance"}, format="json"
    )
    assert wrong.status_code == 400  # not a candidate
    done = api.post(
        f"/api/v1/tasks/{review.pk}/assign/", {"user": "manager1"}, format="json"
    )
    assert done.status_code == 200 and done.json()["assignee"] == "manager1"
    assert HumanTask.objects.get(pk=review.pk).assignee == users["manager1"]


@pytest.mark.parametrize("who", ["manager1", "finance", "requester2"])
def test_members_and_other_managers_may_not_assign(users, review, boss, who):
    api = api_for(users[who])
    response = api.post(
        f"/api/v1/tasks/{review.pk}/assign/", {"user": "manager1"}, format="json"
    )
    assert response.status_code in (403, 404)
    assert api.get("/api/v1/tasks/team/").json()["count"] == 0
    assert HumanTask.objects.get(pk=review.pk).assignee is None


def test_the_team_page_lists_the_task_and_its_page_offers_assign(users, review, boss):
    page = page_for(boss)
    assert "Tasks of the groups you manage" in page.get("/").content.decode()
    team = page.get("/team/").content.decode()
    assert "Manager approval" in team and "Manager" in team
    task_page = page.get(f"/tasks/{review.pk}/").content.decode()
    assert "Assign to" in task_page
    response = page.post(
        f"/tasks/{review.pk}/assign/", {"user": "manager1"}, follow=True
    )
    assert "is assigned to manager1" in response.content.decode()
    assert (
        "Tasks of the groups you manage"
        not in page_for(users["manager1"]).get("/").content.decode()
    )
