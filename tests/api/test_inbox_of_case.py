"""`GET /api/v1/tasks/?case=` reads one case's open tasks directly (issue #16).

A script finding the task of its case gets the rows the inbox query gives for that
case, for every user: offered to their group, claimed by them or by another,
granted to them alone, barred from it, or the case suspended.
"""

import json

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm
from rest_framework.renderers import JSONRenderer

from cockpit.services.repairs import case_suspend
from engine.apis import IncidentOutput
from engine.selectors import incident_list_for_case
from engine.services import case_start
from tasks_app import selectors
from tasks_app.apis import TaskOutput
from tasks_app.models import HumanTask
from tasks_app.permissions import WORK
from tasks_app.selectors import task_list_for_case
from tasks_app.services import task_claim
from tests.clients import api_for

pytestmark = pytest.mark.django_db


def _open_task(user, amount: int) -> HumanTask:
    case, _ = case_start(
        user=user,
        key="purchase_request",
        data={"amount": amount, "justification": "Case lookup"},
    )
    return HumanTask.objects.get(case=case, status="open")


def _inbox_rows(user, case_id) -> list[dict]:
    rows = selectors.inbox_list_for_user(user=user, case_id=case_id, starter=False)
    return json.loads(JSONRenderer().render(TaskOutput(rows, many=True).data))


def test_the_task_of_a_case_is_the_inbox_row_for_every_user(users, purchase):
    boss = users["manager2"]
    boss.groups.add(Group.objects.get(name="Requester"))
    offered = _open_task(users["requester"], 10)
    claimed = _open_task(users["requester"], 20)
    task_claim(user=users["manager1"], task_id=claimed.pk)
    barred = _open_task(boss, 30)  # separateFrom="initiator": boss may not decide
    granted = _open_task(users["requester"], 40)
    assign_perm(WORK, users["outsider"], granted)
    suspended = _open_task(users["requester"], 50)
    case_suspend(user=users["padmin"], case_id=suspended.case_id, reason="audit")

    seen = 0
    for task in (offered, claimed, barred, granted, suspended):
        for user in users.values():
            api = api_for(user)
            body = api.get(f"/api/v1/tasks/?case={task.case_id}").json()
            expected = _inbox_rows(user, task.case_id)
            assert body["results"] == expected, (task.case_id, user.username)
            assert body["count"] == len(expected) and body["next"] is None
            seen += len(expected)
    assert seen > 0
    manager1 = api_for(users["manager1"])
    found = manager1.get(f"/api/v1/tasks/?case={claimed.case_id}").json()["results"]
    assert [(r["id"], r["assignee"]) for r in found] == [(str(claimed.pk), "manager1")]
    outsider = api_for(users["outsider"])
    found = outsider.get(f"/api/v1/tasks/?case={granted.case_id}").json()["results"]
    assert [r["id"] for r in found] == [str(granted.pk)]
    for user, hidden in ((boss, barred), (users["manager1"], suspended)):
        url = f"/api/v1/tasks/?case={hidden.case_id}"
        assert api_for(user).get(url).json()["results"] == [], user.username


def test_a_case_lookup_with_other_filters_takes_the_inbox_query(users, purchase):
    review = _open_task(users["requester"], 60)
    api = api_for(users["manager1"])
    url = f"/api/v1/tasks/?case={review.case_id}"
    assert [r["id"] for r in api.get(url).json()["results"]] == [str(review.pk)]
    for extra in ("&filter=mine", "&search=nomatch", "&process=other"):
        assert api.get(url + extra).json()["results"] == [], extra
    assert api.get(url + "&filter=groups").json()["results"][0]["process"] == (
        "purchase_request"
    )


def _render(data) -> list[dict]:
    return json.loads(JSONRenderer().render(data))


def test_a_case_shows_its_open_tasks_and_incidents_as_the_selectors_give_them(
    users, purchase
):
    task = _open_task(users["requester"], 70)
    task_claim(user=users["manager1"], task_id=task.pk)
    case = task.case
    for user in (users["requester"], users["manager1"], users["padmin"]):
        body = api_for(user).get(f"/api/v1/cases/{case.pk}/").json()
        tasks = [t for t in task_list_for_case(case=case, user=user) if t.is_open]
        assert body["tasks"] == _render(TaskOutput(tasks, many=True).data)
        incidents = IncidentOutput(incident_list_for_case(case=case), many=True)
        assert body["incidents"] == _render(incidents.data)
    started = api_for(users["requester"]).post(
        "/api/v1/cases/",
        {"process": "purchase_request", "data": {"amount": 5, "justification": "x"}},
        format="json",
    )
    assert started.status_code == 201
    row = started.json()["tasks"][0]
    assert (row["process"], row["assignee"], row["status"]) == (
        "purchase_request",
        None,
        "open",
    )
    assert row["id"] == str(HumanTask.objects.get(case=started.json()["id"]).pk)
