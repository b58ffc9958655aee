"""Group managers: the members of "<group>-managers" assign the group's tasks.

Before, only process admins could; a member of the group cannot, and a manager of
another group cannot; the manager assigns only to the task's candidates.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
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


@pytest.fixture
def lead(users, boss):
    """A manager of the Manager group who is not in it (manager2 is)."""
    user = get_user_model().objects.create_user("teamlead", "tl@example.com", "x")
    user.groups.add(Group.objects.get(name="Manager-managers"))
    return user


def test_a_group_manager_opens_the_case_of_the_groups_task(users, review, lead):
    """They see the cases where their group was offered a task (and no other)."""
    case = review.case
    assert api_for(lead).get(f"/api/v1/tasks/{review.pk}/").status_code == 200
    other, _ = case_start(
        user=users["requester2"],
        key="purchase_request",
        data={"amount": 8, "justification": "Pens"},
    )
    other_task = HumanTask.objects.get(case=other, status="open")
    task_complete(
        user=users["manager1"], task_id=other_task.pk, data={"approved": True}
    )
    # The first case's task is still open; the second's closed: both were the
    # Manager group's, so the Manager group's managers see both.
    api, page = api_for(lead), page_for(lead)
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    case_page = page.get(f"/cases/{case.pk}/")
    assert case_page.status_code == 200
    assert "Manager approval" in case_page.content.decode()
    listed = {c["id"] for c in api.get("/api/v1/cases/").json()["results"]}
    assert {str(case.pk), str(other.pk)} <= listed
    assert page.get(f"/cases/{other.pk}/").status_code == 200
    # Seeing is not taking part: they comment on the task, not on the case.
    comment = {"text": "Who takes this?"}
    assert api.post(f"/api/v1/tasks/{review.pk}/comments/", comment).status_code == 201
    assert api.post(f"/api/v1/cases/{case.pk}/comments/", comment).status_code == 403
    # Finance's manager manages no group offered a task of these cases.
    finance = api_for(users["finance"])
    assert finance.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert page_for(users["finance"]).get(f"/cases/{case.pk}/").status_code == 404


def test_leaving_the_managers_group_hides_the_case_again(users, review, lead):
    assert page_for(lead).get(f"/cases/{review.case_id}/").status_code == 200
    lead.groups.remove(Group.objects.get(name="Manager-managers"))
    assert api_for(lead).get(f"/api/v1/cases/{review.case_id}/").status_code == 404
    assert page_for(lead).get(f"/cases/{review.case_id}/").status_code == 404
