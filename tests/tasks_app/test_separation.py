"""Separation of duties (`separateFrom`): a barred user never sees or gets the task.

The purchase example's manager approval is `separateFrom="initiator"`: a manager who
requests a purchase must not approve it, nor hide it from the managers who may.
"""

import pytest
from django.contrib.auth.models import Group

from engine.services import case_start
from tasks_app.errors import SeparationOfDuties
from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_complete
from tests.clients import api_for, page_for
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(users, purchase):
    """A manager who also requests purchases; their case waits for a manager."""
    user = users["manager2"]
    user.groups.add(Group.objects.get(name="Requester"))
    case, _ = case_start(
        user=user, key="purchase_request", data={"amount": 900, "justification": "Desk"}
    )
    return user, HumanTask.objects.get(case=case, status="open")


def test_the_barred_starter_does_not_see_the_task_in_api_list_or_counts(users, boss):
    user, task = boss
    api = api_for(user)
    body = api.get("/api/v1/tasks/").json()
    assert body["count"] == 0 and body["results"] == []
    for query in ("?group=Manager", "?search=Desk", f"?case={task.case_id}"):
        assert api.get(f"/api/v1/tasks/{query}").json()["count"] == 0, query
    # The fellow manager still sees it and may decide it.
    other = api_for(users["manager1"]).get("/api/v1/tasks/").json()
    assert [t["id"] for t in other["results"]] == [str(task.pk)]
    # The starter may still look at the task of their own case, with no action.
    detail = api.get(f"/api/v1/tasks/{task.pk}/").json()
    assert detail["actions"] == []


def test_the_barred_starter_is_refused_claim_assign_and_delegate(users, boss):
    user, task = boss
    refused = api_for(user).post(f"/api/v1/tasks/{task.pk}/claim/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "separation_of_duties"
    admin = api_for(users["padmin"]).post(
        f"/api/v1/tasks/{task.pk}/assign/", {"user": user.username}, format="json"
    )
    assert admin.status_code == 403
    assert admin.json()["code"] == "separation_of_duties"
    delegated = api_for(users["manager1"]).post(
        f"/api/v1/tasks/{task.pk}/delegate/", {"user": user.username}, format="json"
    )
    assert delegated.status_code == 403
    assert delegated.json()["code"] == "separation_of_duties"
    task.refresh_from_db()
    assert task.assignee is None and task.owner is None
    completed = api_for(user).post(
        f"/api/v1/tasks/{task.pk}/complete/",
        {"data": {"approved": True}},
        format="json",
    )
    assert completed.status_code == 403
    assert completed.json()["code"] == "separation_of_duties"


def test_the_barred_starter_sees_no_task_in_the_inbox_page_and_counts(users, boss):
    user, task = boss
    client = page_for(user)
    for show in ("all", "groups", "mine", "overdue"):
        page = client.get(f"/?filter={show}").content.decode()
        assert str(task.pk) not in page, show
    dashboard = client.get("/dashboard/")
    assert dashboard.context["dashboard"].offered == 0
    # The claim form posted by hand is refused, and the task stays free.
    refused = client.post(f"/tasks/{task.pk}/claim/")
    assert refused.status_code == 403
    assert b"someone else must decide" in refused.content
    task.refresh_from_db()
    assert task.assignee is None
    # The task page shows it read-only: no Claim and no Complete button.
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    i = page.find(f"/tasks/{task.pk}/claim/")
    assert i < 0, page[i - 300 : i + 100]
    assert "Complete task" not in page
    assert "You started this case, so someone else must decide this task." in page
    assert str(task.pk) in page_for(users["manager1"]).get("/").content.decode()


def test_a_step_decider_is_barred_from_the_separated_steps(users):
    """`second` and `sign_off` are `separateFrom` `first`: its decider takes neither."""
    version = deploy(BPMN_DIR / "four_eyes.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key=version.definition.key, data={})
    first = HumanTask.objects.get(case=case, bpmn_id="first")
    second = HumanTask.objects.get(case=case, bpmn_id="second")
    task_complete(user=users["manager1"], task_id=first.pk, data={})
    # Barred from the parallel step that was already open...
    assert list(second.barred.all()) == [users["manager1"]]
    assert api_for(users["manager1"]).get("/api/v1/tasks/").json()["count"] == 0
    assert api_for(users["manager2"]).get("/api/v1/tasks/").json()["count"] == 1
    with pytest.raises(SeparationOfDuties, match="earlier step"):
        task_claim(user=users["manager1"], task_id=second.pk)
    # ...and from the later one, with the decider of `second`: nobody is left twice.
    task_complete(user=users["manager2"], task_id=second.pk, data={})
    sign_off = HumanTask.objects.get(case=case, bpmn_id="sign_off")
    assert set(sign_off.barred.all()) == {users["manager1"], users["manager2"]}
    for name in ("manager1", "manager2"):
        assert api_for(users[name]).get("/api/v1/tasks/").json()["count"] == 0
