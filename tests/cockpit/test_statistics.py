"""Per-element statistics of a process version, exact, through the token API."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from engine.models import Incident
from engine.services import case_lock, incident_open
from tests.clients import api_for

from .conftest import iso

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/processes/purchase_request/versions/1/statistics/"


def _by_id(response) -> dict[str, dict]:
    assert response.status_code == 200, response.content
    return {e["id"]: e for e in response.json()["elements"]}


def test_median_p90_and_counts_are_exact(users, reviewed):
    elements = _by_id(api_for(users["padmin"]).get(URL))
    review = elements["manager_review"]
    assert review["completed"] == 4
    assert review["active"] == 1  # the fifth case waits there now
    assert review["incidents"] == 0
    assert review["median_s"] == 25.0  # (20 + 30) / 2
    assert review["p90_s"] == pytest.approx(79.0)  # 30 + 0.7 * (100 - 30)
    assert elements["start"]["completed"] == 5
    assert elements["gw_manager"]["completed"] == 4
    finance = elements["finance_review"]
    assert (finance["active"], finance["completed"]) == (4, 0)
    assert finance["median_s"] is None and finance["p90_s"] is None


def test_the_range_selects_what_finished_in_it(users, reviewed):
    api = api_for(users["analyst"])  # a process owner
    elements = _by_id(api.get(URL, {"since": iso(25), "until": iso(400)}))
    review = elements["manager_review"]
    assert review["completed"] == 2  # finished at 30 s and 100 s
    assert review["median_s"] == 65.0
    assert review["p90_s"] == pytest.approx(93.0)
    assert review["active"] == 1  # waiting now, whatever the range
    assert "start" not in elements  # no case started in the range


def test_open_incidents_count_at_their_element(users, reviewed):
    _, waiting = reviewed
    with transaction.atomic():
        incident_open(
            case_lock(case_id=waiting.pk),
            kind=Incident.Kind.SERVICE,
            spiff_task_id="",
            bpmn_id="manager_review",
            element_name="Manager review",
            error_type="Test",
            message="stuck",
        )
    elements = _by_id(api_for(users["padmin"]).get(URL))
    assert elements["manager_review"]["incidents"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-40T00:00"}, "until"),
        ({"since": iso(100), "until": iso(50)}, "until"),
    ],
)
def test_a_bad_range_is_a_400_naming_the_field(users, purchase, params, field):
    response = api_for(users["padmin"]).get(URL, params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["details"]["fields"]


def test_who_may_see_statistics(users, purchase):
    assert api_for(users["requester"]).get(URL).status_code == 403
    assert api_for(users["outsider"]).get(URL).status_code == 403
    assert api_for(users["auditor"]).get(URL).status_code == 200
    missing = "/api/v1/processes/purchase_request/versions/9/statistics/"
    assert api_for(users["padmin"]).get(missing).status_code == 404
    assert APIClient().get(URL).status_code == 401


def test_service_tasks_have_medians_too(users):
    """Non-human work is timed from the call's creation to its applied result."""
    from engine.models import ServiceCall
    from engine.services import case_start
    from engine.tasks import service_call_run_task
    from tests.conftest import BPMN_DIR, deploy

    from .conftest import clock_at

    deploy(BPMN_DIR / "service_echo.bpmn", users["analyst"])
    calls = []
    with clock_at(0):
        for n in range(3):
            case, _ = case_start(
                user=users["requester"], key="service_echo", data={"amount": n}
            )
            calls.append(ServiceCall.objects.get(case=case).pk)
    for call, seconds in zip(calls, (4, 6, 20), strict=True):
        with clock_at(seconds):
            assert service_call_run_task(call) == "succeeded"
    url = "/api/v1/processes/service_echo/versions/1/statistics/"
    echo = _by_id(api_for(users["padmin"]).get(url))["call_echo"]
    assert echo["completed"] == 3  # once each: when its result arrived
    assert echo["median_s"] == 6.0
    assert echo["p90_s"] == pytest.approx(17.2)  # 6 + 0.8 * (20 - 6)
