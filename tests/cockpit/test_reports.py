"""The user-task report: waiting and handling times, late share, CSV with variables."""

import csv
import io

import pytest

from tasks_app.models import HumanTask
from tasks_app.services import task_claim, task_complete, task_plan
from tests.clients import api_for

from .conftest import T0, clock_at, finish_purchase, iso, start_purchase

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/processes/purchase_request/versions/1/reports/tasks/"


@pytest.fixture
def handled(users, purchase):
    """Three reviews offered at 0 s: claimed at 10/20/- and done at 40/100/60 s."""
    with clock_at(0):
        cases = [start_purchase(users) for _ in range(3)]
    a, b, c = (HumanTask.objects.get(case=x, bpmn_id="manager_review") for x in cases)
    manager = users["manager1"]
    task_plan(user=users["padmin"], task_id=b.pk, due_at=T0.replace(second=50))
    for task, claim_at in ((a, 10), (b, 20)):
        with clock_at(claim_at):
            task_claim(user=manager, task_id=task.pk)
    for task, done_at in ((a, 40), (b, 100), (c, 60)):
        with clock_at(done_at):
            task_complete(user=manager, task_id=task.pk, data={"approved": True})
    return cases


def test_waiting_handling_and_late_share_are_exact(users, handled):
    response = api_for(users["analyst"]).get(URL)
    assert response.status_code == 200, response.content
    (review,) = response.json()["tasks"]
    assert (review["id"], review["completed"]) == ("manager_review", 3)
    assert review["waiting_median_s"] == 20.0  # 10, 20, 60 (completed unclaimed)
    assert review["waiting_p90_s"] == pytest.approx(52.0)
    assert review["handling_median_s"] == 30.0  # 30, 80, 0
    assert review["handling_p90_s"] == pytest.approx(70.0)
    assert review["late_share"] == pytest.approx(1 / 3)
    ranged = api_for(users["analyst"]).get(URL, {"since": iso(50)}).json()["tasks"]
    assert ranged[0]["completed"] == 2


def test_the_csv_has_one_row_per_task_with_the_chosen_variables(users, handled):
    response = api_for(users["padmin"]).get(
        URL, {"format": "csv", "variables": "amount,justification,missing"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["handling_s"] for r in rows] == ["30.0", "0.0", "80.0"]
    assert [r["late"] for r in rows] == ["False", "False", "True"]
    assert {r["var:amount"] for r in rows} == {"7.0"}  # a double form field
    assert {r["var:justification"] for r in rows} == {"Ink"}
    assert {r["var:missing"] for r in rows} == {""}


def test_bad_report_input_is_a_400(users, purchase):
    api = api_for(users["padmin"])
    assert api.get(URL, {"format": "xml"}).status_code == 400
    assert "since" in api.get(URL, {"since": "x"}).json()["details"]["fields"]
    assert api_for(users["requester"]).get(URL).status_code == 403


def test_cycle_time_histogram_and_csv(users, purchase):
    with clock_at(0):
        cases = [start_purchase(users) for _ in range(5)]
    for case, done_at in zip(cases, (100, 200, 300, 1000), strict=False):
        finish_purchase(users, case, done_at)
    api = api_for(users["analyst"])
    url = "/api/v1/processes/purchase_request/reports/cycle-times/"
    figures = api.get(url, {"bins": 3}).json()
    assert (figures["count"], figures["median_s"]) == (4, 250.0)  # one still runs
    assert figures["p90_s"] == pytest.approx(790.0)
    assert figures["bins"] == [
        {"from_s": 100.0, "to_s": 400.0, "count": 3},
        {"from_s": 400.0, "to_s": 700.0, "count": 0},
        {"from_s": 700.0, "to_s": 1000.0, "count": 1},
    ]
    ranged = api.get(url, {"since": iso(250), "version": 1}).json()
    assert ranged["count"] == 2
    rows = list(
        csv.DictReader(
            io.StringIO(
                api.get(
                    url, {"format": "csv", "variables": "finance_approved"}
                ).content.decode()
            )
        )
    )
    assert [r["cycle_s"] for r in rows] == ["100.0", "200.0", "300.0", "1000.0"]
    assert {r["var:finance_approved"] for r in rows} == {"true"}
    assert api.get(url, {"bins": 0}).status_code == 400
    assert api.get("/api/v1/processes/nope/reports/cycle-times/").status_code == 404
