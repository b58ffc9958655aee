"""The SQL statements of the two API requests of a human step (issue #16).

One sequential client finds its task (`GET /api/v1/tasks/?case=`) and completes it
(`POST /api/v1/tasks/{id}/complete/`), sending its token as a script does. What the
web layer adds to the service step (authentication, permission checks, the
response) is counted here: a change that adds a statement fails and lists them.
SAVEPOINT/RELEASE are the test's own transaction. When a count changes on purpose,
update it here and in bench/RESULTS.md.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.sql import selects_compiled
from tasks_app.models import HumanTask
from tests.clients import api_for
from tests.tasks_app.test_hot_path_queries import _assert_count, _start, _statements

LOOKUP_STATEMENTS = 2  # the token and its user; the page (no COUNT: it has room)
COMPLETE_STATEMENTS = 4  # the token and its user; the 3 of the service step
# The token and its user; the process version, the starter's groups, the writes.
# The answer reads nothing: the start's tasks, incidents and passed elements are
# those it recorded (engine.models.CaseStarted). (7 before: the answer read the
# case's incidents, the elements it passed (audit) and its open tasks; 8 before
# that: the incidents read twice.)
START_STATEMENTS = 4


@pytest.fixture
def warm(users, purchase):
    """One whole case first, through the API: the spec is cached, the
    permissions read, the token made."""
    api = api_for(users["manager1"])
    case = _start(users)
    task = HumanTask.objects.get(case=case, status="open")
    assert api.get(f"/api/v1/tasks/?case={case.pk}").status_code == 200
    done = api.post(
        f"/api/v1/tasks/{task.pk}/complete/",
        {"data": {"approved": True}},
        format="json",
    )
    assert done.status_code == 200
    return users, api


def test_finding_the_task_of_a_case_takes_a_fixed_number_of_statements(warm):
    users, api = warm
    case = _start(users)
    task = HumanTask.objects.get(case=case, status="open")

    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/api/v1/tasks/?case={case.pk}")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(task.pk)]
    _assert_count("GET /api/v1/tasks/?case=", _statements(captured), LOOKUP_STATEMENTS)


def test_completing_a_task_takes_a_fixed_number_of_statements(warm):
    users, api = warm
    case = _start(users)
    task = HumanTask.objects.get(case=case, status="open")

    with CaptureQueriesContext(connection) as captured:
        response = api.post(
            f"/api/v1/tasks/{task.pk}/complete/",
            {"data": {"approved": True}},
            format="json",
        )

    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    _assert_count(
        "POST /api/v1/tasks/{id}/complete/", _statements(captured), COMPLETE_STATEMENTS
    )


def test_starting_a_case_takes_a_fixed_number_of_statements(warm):
    users, _ = warm
    api = api_for(users["requester"])
    body = {"process": "purchase_request", "data": {"amount": 7, "justification": "x"}}
    assert api.post("/api/v1/cases/", body, format="json").status_code == 201

    with CaptureQueriesContext(connection) as captured:
        response = api.post("/api/v1/cases/", body, format="json")

    assert response.status_code == 201
    assert [t["name"] for t in response.json()["tasks"]] == ["Manager approval"]
    _assert_count("POST /api/v1/cases/", _statements(captured), START_STATEMENTS)


def test_the_requests_hot_reads_run_from_sql_compiled_once(warm):
    # A statement that fell back to the ORM's compiler every time would still give
    # the right rows (tests/api/test_inbox_of_case.py) and the same count, only
    # slower: check that each is compiled (common.sql.select_compiled).
    users, _ = warm
    api = api_for(users["requester"])
    body = {"process": "purchase_request", "data": {"amount": 7, "justification": "x"}}
    started = api.post("/api/v1/cases/", body, format="json")
    assert started.status_code == 201
    # The start's answer reads nothing (test_start_answer.py); the case's page does.
    assert api.get(f"/api/v1/cases/{started.json()['id']}/").status_code == 200

    shapes = {key[0] for key in selects_compiled()}

    assert {
        "token_with_user",
        "inbox_list_of_case",
        "open_tasks_of_starter",
        "incident_list_for_case",
    } <= shapes
