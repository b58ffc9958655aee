"""The inbox a manager works from: search, filters, sorting, tab counts, task actions.

Every feature is asserted twice: over the JSON API with a token, and in the pages.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_complete, task_plan
from tests.clients import api_for, page_for
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db


def ids(body) -> list[str]:
    return [task["id"] for task in body["results"]]


def page_ids(client, url) -> list[str]:
    return [str(task.pk) for task in client.get(url).context["page"].results]


@pytest.fixture
def desk(users, purchase):
    """Three purchase approvals and two four-eyes checks, all offered to managers."""
    deploy(BPMN_DIR / "four_eyes.bpmn", users["analyst"])
    tasks = {}
    for key, item in (("PO-LAPTOP-7", "Laptop"), ("PO-DESK-8", "Desk"), ("", "Ink")):
        case, _ = case_start(
            user=users["requester"],
            key="purchase_request",
            data={"amount": 10, "justification": item},
            business_key=key,
        )
        tasks[item] = HumanTask.objects.get(case=case, status="open")
    case, _ = case_start(user=users["requester"], key="four_eyes", data={})
    for task in HumanTask.objects.filter(case=case):
        tasks[task.bpmn_id] = task
    return tasks


def test_search_finds_business_key_process_and_task_name(users, desk):
    api, pages = api_for(users["manager1"]), page_for(users["manager1"])
    for words, expected in (
        ("laptop", {desk["Laptop"]}),
        ("po-desk", {desk["Desk"]}),
        ("four eyes", {desk["first"], desk["second"]}),
        ("second check", {desk["second"]}),
        ("Manager approval", {desk["Laptop"], desk["Desk"], desk["Ink"]}),
        ("nothing-like-this", set()),
    ):
        wanted = {str(t.pk) for t in expected}
        assert set(ids(api.get("/api/v1/tasks/", {"search": words}).json())) == wanted
        assert set(page_ids(pages, f"/?search={words}")) == wanted, words
    assert "No open task matches “zzz”" in pages.get("/?search=zzz").content.decode()


def test_filters_by_process_group_and_tab(users, desk):
    api, pages = api_for(users["manager1"]), page_for(users["manager1"])
    four_eyes = {str(desk["first"].pk), str(desk["second"].pk)}
    assert set(ids(api.get("/api/v1/tasks/?process=four_eyes").json())) == four_eyes
    assert set(page_ids(pages, "/?process=four_eyes")) == four_eyes
    assert api.get("/api/v1/tasks/?group=Manager").json()["count"] == 5
    assert api.get("/api/v1/tasks/?group=Finance").json()["count"] == 0
    task_claim(user=users["manager1"], task_id=desk["Ink"].pk)
    now = timezone.now()
    task_plan(
        user=users["padmin"], task_id=desk["Laptop"].pk, due_at=now - timedelta(hours=1)
    )
    task_plan(
        user=users["padmin"], task_id=desk["Desk"].pk, due_at=now + timedelta(minutes=5)
    )
    task_plan(
        user=users["padmin"], task_id=desk["first"].pk, due_at=now + timedelta(days=3)
    )
    expected = {
        "mine": {desk["Ink"]},
        "groups": {desk["Laptop"], desk["Desk"], desk["first"], desk["second"]},
        "overdue": {desk["Laptop"]},
    }
    for tab, tasks in expected.items():
        wanted = {str(t.pk) for t in tasks}
        assert set(ids(api.get(f"/api/v1/tasks/?filter={tab}").json())) == wanted, tab
        assert set(page_ids(pages, f"/?filter={tab}")) == wanted, tab
    today = set(ids(api.get("/api/v1/tasks/?filter=today").json()))
    # "Due today" is the rest of today in the server's time zone.
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    assert (str(desk["Desk"].pk) in today) == (now + timedelta(minutes=5) <= end_of_day)
    assert str(desk["Laptop"].pk) not in today and str(desk["first"].pk) not in today
    # The older query parameters keep working.
    assert ids(api.get("/api/v1/tasks/?assigned=me").json()) == [str(desk["Ink"].pk)]
    assert ids(api.get("/api/v1/tasks/?overdue=true").json()) == [
        str(desk["Laptop"].pk)
    ]


def test_tab_counts_match_in_api_and_page(users, desk):
    task_claim(user=users["manager1"], task_id=desk["Ink"].pk)
    task_plan(
        user=users["padmin"],
        task_id=desk["Desk"].pk,
        due_at=timezone.now() - timedelta(days=1),
    )
    counts = api_for(users["manager1"]).get("/api/v1/tasks/counts/").json()
    assert counts == {"all": 5, "mine": 1, "groups": 4, "overdue": 1, "today": 0}
    page = page_for(users["manager1"]).get("/").content.decode()
    for tab, count in counts.items():
        assert f'<span class="count" data-tab="{tab}">{count}</span>' in page, tab
    searched = api_for(users["manager1"]).get("/api/v1/tasks/counts/?search=laptop")
    assert searched.json()["all"] == 1
    # manager2 does not see manager1's claimed task in any count.
    assert api_for(users["manager2"]).get("/api/v1/tasks/counts/").json()["all"] == 4


def test_sortable_columns(users, desk):
    now = timezone.now()
    for name, prio, due in (
        ("Laptop", 90, now + timedelta(days=2)),
        ("Desk", 10, now + timedelta(days=1)),
        ("Ink", 50, None),
        ("first", 70, now + timedelta(days=3)),
        ("second", 30, now - timedelta(days=1)),
    ):
        task_plan(
            user=users["padmin"], task_id=desk[name].pk, due_at=due, priority=prio
        )
    api, pages = api_for(users["manager1"]), page_for(users["manager1"])

    def order(sort):
        got = ids(api.get(f"/api/v1/tasks/?sort={sort}").json())
        assert page_ids(pages, f"/?sort={sort}") == got, sort
        by_id = {str(t.pk): name for name, t in desk.items()}
        return [by_id[i] for i in got]

    assert order("-priority") == ["Laptop", "first", "Ink", "second", "Desk"]
    assert order("priority") == ["Desk", "second", "Ink", "first", "Laptop"]
    assert order("due") == ["second", "Desk", "Laptop", "first", "Ink"]
    assert order("-due")[:4] == ["first", "Laptop", "Desk", "second"]
    assert order("-created")[0] in ("first", "second")
    assert order("created")[0] == "Laptop"
    assert order("process")[:2] == ["first", "second"]  # "Four eyes" < "Purchase…"
    assert api.get("/api/v1/tasks/?sort=amount").status_code == 400
    page = pages.get("/?sort=due").content.decode()
    assert 'aria-sort="ascending"><a href="?sort=-due">Due</a>' in page


def test_admin_assigns_and_sets_due_date_and_priority_in_the_pages(users, review):
    manager2 = page_for(users["manager2"]).get(f"/tasks/{review.pk}/").content.decode()
    assert f"/tasks/{review.pk}/assign/" not in manager2
    assert f"/tasks/{review.pk}/plan/" not in manager2
    admin = page_for(users["padmin"])
    page = admin.get(f"/tasks/{review.pk}/").content.decode()
    assert f"/tasks/{review.pk}/assign/" in page and '<option value="manager1">' in page
    refused = admin.post(
        f"/tasks/{review.pk}/assign/", {"user": "finance"}, follow=True
    )
    assert "finance is not a candidate" in refused.content.decode()
    admin.post(f"/tasks/{review.pk}/assign/", {"user": "manager2"})
    review.refresh_from_db()
    assert review.assignee == users["manager2"]
    response = admin.post(
        f"/tasks/{review.pk}/plan/", {"due_at": "2031-05-04T09:30", "priority": "80"}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.priority == 80 and review.due_at.isoformat().startswith(
        "2031-05-04T09:30"
    )
    event = AuditEvent.objects.filter(action="task.updated").get()
    assert event.payload["before"] == {"due_at": None, "priority": 50}
    assert event.payload["after"]["priority"] == 80
    bad = admin.post(
        f"/tasks/{review.pk}/plan/",
        {"due_at": "", "priority": str(2**31)},
        follow=True,
    )
    assert "Priority:" in bad.content.decode()
    review.refresh_from_db()
    assert review.priority == 80 and review.due_at is not None
    # A priority a diagram may give (Camunda 7: any int) can be set back by hand.
    admin.post(f"/tasks/{review.pk}/plan/", {"due_at": "", "priority": "500"})
    review.refresh_from_db()
    assert review.priority == 500


def test_plan_over_the_api_is_for_admins_and_the_assignee(users, review):
    url = f"/api/v1/tasks/{review.pk}/"
    assert (
        api_for(users["manager1"])
        .patch(url, {"priority": 70}, format="json")
        .status_code
        == 403
    )
    task_claim(user=users["manager1"], task_id=review.pk)
    mine = api_for(users["manager1"]).patch(
        url, {"priority": 70, "due_at": None}, format="json"
    )
    assert mine.status_code == 200 and mine.json()["priority"] == 70
    assert "plan" in mine.json()["actions"]
    bad = api_for(users["padmin"]).patch(url, {"priority": 2**31}, format="json")
    assert bad.status_code == 400 and "priority" in bad.json()["details"]["fields"]
    low = api_for(users["padmin"]).patch(url, {"priority": -1}, format="json")
    assert low.status_code == 200 and low.json()["priority"] == -1


def test_a_candidate_delegates_from_the_page(users, review):
    page = page_for(users["manager1"])
    assert (
        f"/tasks/{review.pk}/delegate/"
        in page.get(f"/tasks/{review.pk}/").content.decode()
    )
    page.post(f"/tasks/{review.pk}/delegate/", {"user": "finance"})
    review.refresh_from_db()
    assert review.owner == users["manager1"] and review.assignee == users["finance"]
    refused = page.post(
        f"/tasks/{review.pk}/delegate/", {"user": "requester"}, follow=True
    )
    assert "You started this case" in refused.content.decode()


def test_a_claim_meanwhile_keeps_what_the_user_typed(users, review):
    page = page_for(users["manager1"])
    assert page.get(f"/tasks/{review.pk}/").status_code == 200
    task_claim(user=users["manager2"], task_id=review.pk)
    typed = {"f-approved": "false", "f-comment": "Too dear; ask for a second quote"}
    response = page.post(f"/tasks/{review.pk}/", typed)
    assert response.status_code == 409
    html = response.content.decode()
    assert "already claimed by manager2" in html
    assert "Too dear; ask for a second quote</textarea>" in html
    assert "Complete task" not in html
    assert 'value="false" id="id_f-approved_1" required checked' in html


def test_a_completion_meanwhile_keeps_what_the_user_typed(users, review):
    page = page_for(users["manager1"])
    task_complete(user=users["manager2"], task_id=review.pk, data={"approved": True})
    response = page.post(
        f"/tasks/{review.pk}/", {"f-approved": "true", "f-comment": "Fine by me"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "This task is already completed." in html
    assert "Fine by me</textarea>" in html


def test_new_endpoints_refuse_anonymous_and_outsiders(users, review):
    anonymous = APIClient()
    assert anonymous.get("/api/v1/tasks/counts/").status_code == 401
    assert anonymous.patch(f"/api/v1/tasks/{review.pk}/", {}).status_code == 401
    outsider = api_for(users["outsider"])
    assert outsider.get("/api/v1/tasks/counts/").json()["all"] == 0
    hidden = outsider.patch(
        f"/api/v1/tasks/{review.pk}/", {"priority": 1}, format="json"
    )
    assert hidden.status_code == 404
    for action in ("assign", "delegate", "plan"):
        url = f"/tasks/{review.pk}/{action}/"
        assert Client().post(url, {"user": "manager1"}).status_code == 302  # to login
        denied = page_for(users["outsider"]).post(url, {"user": "x", "priority": 1})
        assert denied.status_code == 404, action
    review.refresh_from_db()
    assert review.priority == 50 and review.assignee is None


@pytest.mark.parametrize(
    "body",
    [
        {"due_at": "tomorrow"},
        {"priority": "high"},
        {"priority": 2**31},
        {"priority": 2.5},
        {"priority": None},
        ["not", "an", "object"],
    ],
)
def test_plan_refuses_bad_input_with_a_400(users, review, body):
    response = api_for(users["padmin"]).patch(
        f"/api/v1/tasks/{review.pk}/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    review.refresh_from_db()
    assert review.priority == 50 and review.due_at is None


@pytest.mark.parametrize(
    "query",
    ["filter=later", "sort=amount", "case=12", "page=abc"],
)
def test_the_inbox_api_refuses_unknown_parameters_the_page_falls_back(
    users, review, query
):
    refused = api_for(users["manager1"]).get(f"/api/v1/tasks/?{query}")
    assert 400 <= refused.status_code < 500
    assert {"code", "message", "details"} <= set(refused.json())
    page = page_for(users["manager1"]).get(f"/?{query}")
    assert page.status_code == 200 and len(page.context["page"].results) == 1
