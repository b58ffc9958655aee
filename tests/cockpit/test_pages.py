"""The cockpit pages, as a logged-in user sees them: a heatmap, the dashboard."""

from datetime import timedelta

import pytest
from django.db import transaction

from cockpit.services import case_suspend
from engine.models import Incident
from engine.services import case_lock, incident_open
from tasks_app.models import HumanTask
from tasks_app.services import task_plan
from tests.clients import page_for

from .conftest import T0, clock_at, finish_purchase, iso, start_purchase

pytestmark = pytest.mark.django_db(transaction=True)

VERSION_PAGE = "/cockpit/processes/purchase_request/versions/1/"


def test_the_heatmap_page_shows_each_elements_figures(users, reviewed):
    response = page_for(users["padmin"]).get(VERSION_PAGE)
    assert response.status_code == 200
    figures = {e["id"]: e for e in response.context["elements"]}
    review = figures["manager_review"]
    assert (review["active"], review["completed"]) == (1, 4)
    assert (review["median"], review["p90"]) == ("25 s", "1.3 min")
    assert response.context["states"]["active"] == ["finance_review", "manager_review"]
    html = response.content.decode()
    assert 'id="element-statistics"' in html and "heatmap.js" in html
    assert 'data-states-id="element-states"' in html
    csv_link = "/api/v1/processes/purchase_request/versions/1/reports/tasks/?format=csv"
    assert csv_link in html
    assert page_for(users["padmin"]).get(csv_link).status_code == 200  # session auth


def test_clicking_an_element_lists_its_waiting_cases(users, reviewed):
    cases, waiting = reviewed
    client = page_for(users["analyst"])
    response = client.get(VERSION_PAGE, {"element": "manager_review"})
    assert [c.pk for c in response.context["waiting"]] == [waiting.pk]
    assert f"/cases/{waiting.pk}/" in response.content.decode()
    finance = client.get(VERSION_PAGE, {"element": "finance_review"})
    assert {c.pk for c in finance.context["waiting"]} == {c.pk for c in cases}


def test_the_heatmap_range_and_bad_input(users, reviewed):
    client = page_for(users["padmin"])
    ranged = client.get(VERSION_PAGE, {"since": iso(25), "until": iso(400)})
    review = {e["id"]: e for e in ranged.context["elements"]}["manager_review"]
    assert review["completed"] == 2
    bad = client.get(VERSION_PAGE, {"since": "soon"})
    assert bad.status_code == 400
    assert "since" in bad.context["errors"]
    assert page_for(users["requester"]).get(VERSION_PAGE).status_code == 403


def test_the_dashboard_counts_cases_per_day_open_cases_and_task_load(users, purchase):
    day = timedelta(days=1).total_seconds()
    with clock_at(0):
        first = start_purchase(users)
    with clock_at(day):
        second, held, late = [start_purchase(users) for _ in range(3)]
    finish_purchase(users, first, day + 60)
    finish_purchase(users, second, day + 120)
    case_suspend(user=users["padmin"], case_id=held.pk, reason="hold")
    review = HumanTask.objects.get(case=late, bpmn_id="manager_review")
    task_plan(user=users["padmin"], task_id=review.pk, due_at=T0)
    with transaction.atomic():
        incident_open(
            case_lock(case_id=late.pk),
            kind=Incident.Kind.SERVICE,
            spiff_task_id="",
            bpmn_id="manager_review",
            element_name="Manager review",
            error_type="Test",
            message="stuck",
        )
    response = page_for(users["padmin"]).get(
        "/cockpit/",
        {"process": "purchase_request", "since": iso(0), "until": iso(3 * day)},
    )
    assert response.status_code == 200, response.content
    d = response.context["dashboard"]
    assert d.days == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert d.started == [1, 3, 0, 0]
    assert d.completed == [0, 2, 0, 0]
    assert d.open_cases == [
        {"process": "purchase_request", "status": "running", "count": 1},
        {"process": "purchase_request", "status": "suspended", "count": 1},
    ]
    load = {g.name: (g.open, g.overdue) for g in d.by_group}
    assert load == {"Manager": (2, 1)}
    assert d.by_user == []  # nobody claimed the open reviews
    assert d.incidents == [
        {"process": "purchase_request", "element": "manager_review", "count": 1}
    ]
    html = response.content.decode()
    assert "chart.umd.min.js" in html and 'id="cases-per-day-data"' in html
    assert "<td>2026-03-03</td><td>3</td><td>2</td>" in html
    assert f'href="{VERSION_PAGE}"' in html  # on to the version's heatmap


def test_dashboard_filters_and_bad_input(users, purchase):
    start_purchase(users)
    client = page_for(users["analyst"])
    other = client.get("/cockpit/", {"process": "nope"})
    assert other.status_code == 200
    assert other.context["dashboard"].open_cases == []
    assert sum(other.context["dashboard"].started) == 0
    assert sum(client.get("/cockpit/").context["dashboard"].started) == 1
    assert client.get("/cockpit/", {"version": "two"}).status_code == 400
    assert client.get("/cockpit/", {"until": "later"}).status_code == 400
    assert page_for(users["outsider"]).get("/cockpit/").status_code == 403
