"""The start's answer is built from what the start did (issue #16).

POST /api/v1/cases/ answers from the tasks, incidents and passed elements the
service recorded on the case it created (engine.models.CaseStarted), reading
nothing back: it must be the very JSON a GET of the case gives right after.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.clients import api_for
from tests.conftest import BPMN_DIR, deploy


def _start_then_get(user, body):
    api = api_for(user)
    with CaptureQueriesContext(connection) as captured:
        started = api.post("/api/v1/cases/", body, format="json")
    assert started.status_code == 201, started.content
    shown = api.get(f"/api/v1/cases/{started.json()['id']}/")
    assert shown.status_code == 200
    return started.json(), shown.json(), [q["sql"] for q in captured.captured_queries]


def _reads_back_nothing(sql):
    # Neither the case's audit trail, its incidents nor its tasks are selected.
    selects = [s for s in sql if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in selects if "audit_auditevent" in s and "action" in s]
    assert not [s for s in selects if 'FROM "engine_incident"' in s]
    assert not [s for s in selects if 'FROM "tasks_app_humantask"' in s]


@pytest.mark.django_db(transaction=True)
def test_a_start_that_stops_at_a_user_task(users, purchase):
    body = {"process": "purchase_request", "data": {"amount": 7, "justification": "x"}}
    started, shown, sql = _start_then_get(users["requester"], body)
    assert [t["name"] for t in started["tasks"]] == ["Manager approval"]
    assert started == shown
    _reads_back_nothing(sql)


@pytest.mark.django_db(transaction=True)
def test_a_start_that_raises_an_incident(users):
    deploy(BPMN_DIR / "script_fails.bpmn", users["analyst"])
    body = {"process": "script_fails", "data": {"amount": 3}}
    started, shown, sql = _start_then_get(users["requester"], body)
    assert started["has_incident"] and len(started["incidents"]) == 1
    assert started["elements"]["failed"] == ["compute_total"]
    assert started == shown
    _reads_back_nothing(sql)


@pytest.mark.django_db(transaction=True)
def test_a_start_that_runs_to_the_end(users):
    deploy(BPMN_DIR / "script_fails.bpmn", users["analyst"])
    body = {"process": "script_fails", "data": {"amount": 3, "vat_rate": 2}}
    started, shown, sql = _start_then_get(users["requester"], body)
    assert started["status"] == "completed" and started["tasks"] == []
    assert started["elements"]["completed"][-1] == "end"
    assert started == shown
    _reads_back_nothing(sql)


@pytest.mark.django_db(transaction=True)
def test_a_start_that_offers_parallel_tasks(users):
    deploy(BPMN_DIR / "four_eyes.bpmn", users["analyst"])
    started, shown, sql = _start_then_get(
        users["requester"], {"process": "four_eyes", "data": {}}
    )
    assert sorted(t["bpmn_id"] for t in started["tasks"]) == ["first", "second"]
    assert started == shown
    _reads_back_nothing(sql)


@pytest.mark.django_db(transaction=True)
def test_a_replayed_start_reads_the_case(users, purchase):
    # An Idempotency-Key replay returns a case read back: its answer is read too.
    api = api_for(users["requester"])
    body = {"process": "purchase_request", "data": {"amount": 7, "justification": "x"}}
    first = api.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = api.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert again.status_code == 200
    assert again.json() == api.get(f"/api/v1/cases/{first.json()['id']}/").json()
    assert first.json() == again.json()
