"""Incidents, dashboard, the overdue inbox and the start page, via the test client."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from engine.models import Incident
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_complete
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.django_db

BROKEN_PURCHASE = (
    (EXAMPLES / "purchase_request.bpmn")
    .read_bytes()
    .replace(
        b"approved == True</bpmn:conditionExpression>",
        b"approved == missing_variable</bpmn:conditionExpression>",
        1,
    )
)

DEADLINE_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="deadline_defs" targetNamespace="http://laneway.test">
  <bpmn:process id="deadline_review" name="Deadline review" isExecutable="true">
    <bpmn:startEvent id="start">
      <bpmn:documentation>Ask a manager to review something by a deadline.
      </bpmn:documentation>
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="review" name="Timed review" camunda:candidateGroups="Manager"
                   camunda:dueDate="${deadline}" camunda:priority="${prio}">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def start_purchase(user):
    case, _ = case_start(
        user=user,
        key="purchase_request",
        data={"amount": "120", "justification": "A new monitor"},
    )
    return case


def open_task(case, bpmn_id="manager_review") -> HumanTask:
    return HumanTask.objects.get(case=case, bpmn_id=bpmn_id, status="open")


@pytest.fixture
def broken_purchase(users):
    """The purchase example whose manager gateway reads a variable nobody sets."""
    return version_upload(
        user=users["analyst"], bpmn=BROKEN_PURCHASE, filename="p.bpmn"
    )


@pytest.fixture
def deadline(users):
    return version_upload(
        user=users["analyst"], bpmn=DEADLINE_XML, filename="deadline.bpmn"
    )


def start_deadline(user, *, due, prio=50):
    case, _ = case_start(
        user=user,
        key="deadline_review",
        data={"deadline": due.isoformat(), "prio": prio},
    )
    return case


@pytest.fixture
def incident(users, broken_purchase) -> Incident:
    """An open incident at the manager gateway of a requester's case."""
    case = start_purchase(users["requester"])
    task_complete(
        user=users["manager1"],
        task_id=open_task(case).pk,
        data={"approved": True},
    )
    return Incident.objects.get(case=case, status="open")


# ---- incidents --------------------------------------------------------------


def test_incidents_page_lists_the_open_incident_with_its_case(users, incident):
    page = client_for(users["requester"]).get("/incidents/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="/cases/{incident.case_id}/"' in html
    assert "Purchase request" in html
    assert incident.bpmn_id in html or incident.element_name in html
    assert "missing_variable" in html
    assert (
        client_for(users["finance"])
        .get("/incidents/")
        .content.count(b"missing_variable")
        == 0
    )


def test_retry_button_and_nav_badge_only_for_process_admins(users, incident):
    retry_url = f"/incidents/{incident.pk}/retry/"
    admin_page = client_for(users["padmin"]).get("/incidents/").content.decode()
    assert f'action="{retry_url}"' in admin_page
    assert re.search(
        r'href="/incidents/"[^>]*>Incidents <span class="nav-count">1', admin_page
    )
    requester_page = client_for(users["requester"]).get("/incidents/").content.decode()
    assert retry_url not in requester_page
    assert 'class="nav-count"' not in requester_page
    assert (
        'href="/incidents/"'
        not in client_for(users["requester"]).get("/").content.decode()
    )


def test_case_page_offers_retry_to_process_admins_only(users, incident):
    case_url = f"/cases/{incident.case_id}/"
    retry_url = f"/incidents/{incident.pk}/retry/"
    assert retry_url in client_for(users["padmin"]).get(case_url).content.decode()
    requester_page = client_for(users["requester"]).get(case_url).content.decode()
    assert retry_url not in requester_page
    assert 'href="/incidents/"' in requester_page


def test_a_retry_that_fails_again_keeps_the_one_incident(users, incident):
    admin = client_for(users["padmin"])
    response = admin.post(f"/incidents/{incident.pk}/retry/", {"next": "/incidents/"})
    assert response.status_code == 302 and response.url == "/incidents/"
    # The variable is still missing: the step fails again, and says so (not "Retried").
    assert any("failed again" in m for m in flash(response))
    assert not any(m.startswith("Retried") for m in flash(response))
    incident.refresh_from_db()
    assert incident.status == "open" and len(incident.attempts) == 2
    assert Incident.objects.filter(case=incident.case).count() == 1
    assert str(incident.case_id)[-8:] in admin.get("/incidents/").content.decode()
    assert "No incidents" in admin.get("/incidents/?status=resolved").content.decode()


def test_incident_page_shows_the_step_the_error_every_attempt_and_the_fixes(
    users, incident
):
    admin = client_for(users["padmin"])
    admin.post(f"/incidents/{incident.pk}/retry/")
    html = admin.get(f"/incidents/{incident.pk}/").content.decode()
    assert incident.element_name in html
    assert 'data-testid="incident-summary"' in html
    # A plain sentence on every page that shows the incident, not Python's text.
    for url in (
        f"/incidents/{incident.pk}/",
        "/incidents/",
        f"/cases/{incident.case_id}/",
    ):
        page = admin.get(url).content.decode()
        assert f"The condition of step “{incident.element_name}” failed" in page, url
    assert html.count("<tr><td>") == 2  # both attempts, each with time and message
    assert html.count("<time datetime=") >= 2
    assert f'action="/incidents/{incident.pk}/retry/"' in html
    assert f'action="/incidents/{incident.pk}/cancel-case/"' in html
    # A gateway condition: no "complete with data", but a choice of its paths.
    assert "Complete step with this data" not in html
    assert 'id="take-path"' in html and 'name="flow"' in html
    skip = admin.post(f"/incidents/{incident.pk}/skip/", {"data": "{}"})
    assert any("retry this step or cancel the case" in m for m in flash(skip))
    requester = client_for(users["requester"]).get(f"/incidents/{incident.pk}/")
    assert requester.status_code == 200
    assert "/retry/" not in requester.content.decode()
    finance = client_for(users["finance"])
    assert finance.get(f"/incidents/{incident.pk}/").status_code == 404


def test_cancel_case_from_the_incident_page_resolves_it(users, incident):
    admin = client_for(users["padmin"])
    response = admin.post(
        f"/incidents/{incident.pk}/cancel-case/", {"reason": "obsolete"}
    )
    assert response.status_code == 302
    assert response.url == f"/incidents/{incident.pk}/"
    incident.refresh_from_db()
    assert (incident.status, incident.resolution) == ("resolved", "case_cancelled")
    assert incident.case.status == "cancelled"
    page = admin.get(response.url).content.decode()
    assert "Resolved: case cancelled" in page and "Fix it" not in page


def test_retrying_a_resolved_incident_says_already_resolved(users, incident):
    admin = client_for(users["padmin"])
    admin.post(f"/incidents/{incident.pk}/cancel-case/")
    again = admin.post(f"/incidents/{incident.pk}/retry/", {"next": "/incidents/"})
    assert again.status_code == 302 and again.url == "/incidents/"
    assert "This incident is already resolved." in flash(again)


def test_retry_by_someone_who_is_not_a_process_admin_is_refused(users, incident):
    url = f"/incidents/{incident.pk}/retry/"
    assert client_for(users["requester"]).post(url).status_code == 403
    assert client_for(users["finance"]).post(url).status_code == 404
    incident.refresh_from_db()
    assert incident.status == "open"


def test_retry_ignores_an_offsite_next_url(users, incident):
    response = client_for(users["padmin"]).post(
        f"/incidents/{incident.pk}/retry/", {"next": "https://evil.example/"}
    )
    assert response.url == f"/incidents/{incident.pk}/"


# ---- dashboard --------------------------------------------------------------


def stat(page: str, name: str) -> int:
    match = re.search(
        rf'data-testid="stat-{name}">.*?<span class="stat-value">(\d+)</span>',
        page,
        re.S,
    )
    assert match, name
    return int(match.group(1))


def test_dashboard_counts_for_requester_and_manager(users, purchase, deadline):
    first = start_purchase(users["requester"])
    start_purchase(users["requester"])
    start_deadline(users["requester"], due=timezone.now() - timedelta(days=1))
    task_claim(user=users["manager1"], task_id=open_task(first).pk)

    requester = client_for(users["requester"]).get("/dashboard/").content.decode()
    assert stat(requester, "started") == 3
    assert (stat(requester, "assigned"), stat(requester, "offered")) == (0, 0)
    assert 'data-testid="stat-running"' not in requester
    assert 'href="/cases/?status=running&amp;mine=1"' in requester

    manager = client_for(users["manager1"]).get("/dashboard/").content.decode()
    assert stat(manager, "assigned") == 1
    assert stat(manager, "offered") == 2
    assert stat(manager, "overdue") == 1
    assert stat(manager, "started") == 0
    assert 'href="/?filter=overdue"' in manager
    other = client_for(users["manager2"]).get("/dashboard/").content.decode()
    assert (stat(other, "assigned"), stat(other, "offered")) == (0, 2)


def test_dashboard_shows_totals_to_process_admins_and_auditors(users, incident):
    start_purchase(users["requester"])
    for name in ("padmin", "auditor"):
        page = client_for(users[name]).get("/dashboard/").content.decode()
        assert stat(page, "running") == 2, name
        assert stat(page, "completed") == 0, name
        assert stat(page, "incidents") == 1, name


def test_my_running_cases_link_lists_only_cases_i_started(users, purchase, deadline):
    theirs = start_purchase(users["requester"])
    mine = start_deadline(users["padmin"], due=timezone.now())
    admin = client_for(users["padmin"])
    every = admin.get("/cases/?status=running").content.decode()
    assert str(theirs.pk)[-8:] in every and str(mine.pk)[-8:] in every
    own = admin.get("/cases/?status=running&mine=1").content.decode()
    assert str(mine.pk)[-8:] in own and str(theirs.pk)[-8:] not in own
    assert "Cases you started." in own
    assert 'href="?status=completed&amp;mine=1"' in own


def test_dashboard_requires_login(db):
    response = Client().get("/dashboard/")
    assert response.status_code == 302 and response.url.startswith("/login/")


# ---- inbox: due dates, priority, overdue ------------------------------------


def test_inbox_shows_due_dates_and_the_overdue_filter(users, deadline):
    now = timezone.now()
    late = start_deadline(users["requester"], due=now - timedelta(days=2))
    soon = start_deadline(users["requester"], due=now + timedelta(days=3))
    manager = client_for(users["manager1"])
    page = manager.get("/").content.decode()
    assert 'class="overdue">Overdue by 2' in page
    assert "in 2\xa0days" in page or "in 3\xa0days" in page
    overdue = manager.get("/?filter=overdue").content.decode()
    assert f"/cases/{late.pk}/" in overdue
    assert f"/cases/{soon.pk}/" not in overdue
    assert (
        '<a href="?filter=overdue" aria-current="true">Overdue '
        '<span class="count" data-tab="overdue">1</span></a>'
    ) in overdue
    nothing = client_for(users["manager1"]).get("/?filter=mine").content.decode()
    assert "Nothing assigned to you" in nothing


def test_inbox_sorts_by_priority_then_due_date(users, deadline):
    now = timezone.now()
    low = start_deadline(users["requester"], due=now - timedelta(days=5), prio=20)
    later = start_deadline(users["requester"], due=now + timedelta(days=9), prio=80)
    sooner = start_deadline(users["requester"], due=now + timedelta(days=1), prio=80)
    page = client_for(users["manager1"]).get("/").content.decode()
    order = [page.index(f"/cases/{c.pk}/") for c in (sooner, later, low)]
    assert order == sorted(order)
    assert 'class="badge badge-warn" title="Priority 80' in page


def test_api_overdue_filter(users, deadline):
    now = timezone.now()
    late = start_deadline(users["requester"], due=now - timedelta(hours=1))
    start_deadline(users["requester"], due=now + timedelta(days=1))
    client = client_for(users["manager1"])
    every = client.get("/api/v1/tasks/").json()
    assert every["count"] == 2
    overdue = client.get("/api/v1/tasks/?overdue=true").json()
    assert [t["case"] for t in overdue["results"]] == [str(late.pk)]
    assert overdue["results"][0]["due_at"] is not None
    assert client.get("/api/v1/tasks/?overdue=false").json()["count"] == 2


# ---- start a case -----------------------------------------------------------


def test_start_page_lists_only_the_processes_the_user_may_start(
    users, purchase, deadline
):
    requester = client_for(users["requester"]).get("/start/").content.decode()
    assert "/processes/purchase_request/start/" in requester
    assert "/processes/deadline_review/start/" in requester
    assert "Describe what you want to buy and why." in requester
    manager = client_for(users["manager1"]).get("/start/").content.decode()
    assert "/processes/purchase_request/start/" not in manager
    assert "/processes/deadline_review/start/" in manager
    assert "Ask a manager to review something by a deadline." in manager


def test_nav_start_a_case_goes_to_the_start_page(users, purchase):
    page = client_for(users["requester"]).get("/start/").content.decode()
    assert re.search(r'<a href="/start/" aria-current="page">Start a case</a>', page)
    assert 'href="/dashboard/"' in page
    assert 'href="/processes/"' not in page  # requesters do not manage processes
    assert (
        'href="/processes/"' in client_for(users["analyst"]).get("/").content.decode()
    )


def test_start_page_empty_state(users):
    page = client_for(users["outsider"]).get("/start/")
    assert page.status_code == 200
    assert b"Nothing you can start" in page.content


def test_dashboard_needs_few_queries(users, incident, django_assert_max_num_queries):
    client = client_for(users["padmin"])
    client.get("/dashboard/")
    with django_assert_max_num_queries(9):
        assert client.get("/dashboard/").status_code == 200


def test_start_page_is_forbidden_to_who_may_not_start(client, users, purchase):
    client.force_login(users["manager1"])
    response = client.get("/processes/purchase_request/start/")
    assert response.status_code == 403
    assert "may not start" in response.content.decode()
