"""Case data is the users' JSON: a value is stored and given back as it was sent,
whatever its keys, "typename" (the key SpiffWorkflow's serializer reads as its
own object marker) included — never turned into another type, never bricking
the case."""

import pytest

from engine.models import Case
from engine.services import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.clients import api_for
from tests.conftest import BPMN_DIR, deploy

CONFORMANCE = BPMN_DIR.parent / "conformance" / "bpmn"

pytestmark = pytest.mark.django_db

# Dicts SpiffWorkflow's registry would restore as a datetime, or fail on.
META = {"typename": "datetime", "value": "2020-01-01T00:00:00"}
UNKNOWN = {"typename": "nope", "a": 1, "nested": {"typename": "UUID", "value": "x"}}
LISTED = [1, {"typename": "timedelta", "days": 1, "seconds": 0}, [UNKNOWN]]
# ... and one that looks like Laneway's own escape.
LOOKALIKE = {"typename": "LanewayDict", "items": {"a": META}}
USER_DATA = {
    "meta": META,
    "unknown": UNKNOWN,
    "listed": LISTED,
    "lookalike": LOOKALIKE,
    "typename": "x",
}


def _open(case: Case, bpmn_id: str) -> HumanTask:
    return HumanTask.objects.get(case=case, bpmn_id=bpmn_id, status="open")


def _assert_unchanged(data: dict) -> None:
    for name, value in USER_DATA.items():
        assert data[name] == value, name
    assert type(data["meta"]) is dict and type(data["listed"][1]) is dict


def test_a_started_case_keeps_dicts_with_a_typename_key_to_the_end(users):
    # named_assignee.bpmn: no start form, one user task without a form (its
    # completion data is taken as sent, case variables included).
    deploy(BPMN_DIR / "named_assignee.bpmn", users["analyst"])
    response = api_for(users["requester"]).post(
        "/api/v1/cases/",
        {"process": "named_assignee", "data": USER_DATA},
        format="json",
    )
    assert response.status_code == 201, response.content
    _assert_unchanged(response.json()["data"])
    case = Case.objects.get(pk=response.json()["id"])
    _assert_unchanged(case.data)
    task_id = _open(case, "review").pk
    done = api_for(users["requester2"]).post(
        f"/api/v1/tasks/{task_id}/complete/",
        {"data": {"verdict": UNKNOWN}},
        format="json",
    )
    assert done.status_code == 200, done.content
    case.refresh_from_db()
    assert case.status == "completed"
    _assert_unchanged(case.data)
    assert case.data["verdict"] == UNKNOWN


def test_a_sub_process_keeps_dicts_with_a_typename_key(users):
    # The user task and the script run inside two nested embedded sub-processes,
    # whose tasks SpiffWorkflow's own task converter stores.
    approver = users["manager1"]
    approver.groups.create(name="approvers")
    deploy(CONFORMANCE / "subprocess_nested.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="subprocess_nested", data=USER_DATA
    )
    task_complete(user=approver, task_id=_open(case, "Task_Deep").pk, data={"depth": 2})
    case.refresh_from_db()
    assert case.data["depth"] == 4  # the inner script ran: depth = depth * 2
    _assert_unchanged(case.data)
    task_complete(user=approver, task_id=_open(case, "Task_Result").pk, data={})
    case.refresh_from_db()
    assert case.status == "completed"
    _assert_unchanged(case.data)


def test_variables_set_through_the_api_keep_a_typename_key(users, purchase):
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 7, "justification": "Ink"},
    )
    admin = api_for(users["padmin"])
    url = f"/api/v1/cases/{case.pk}/"
    assert admin.post(url + "suspend/", {"reason": "r"}).status_code == 200
    response = admin.patch(
        url + "data/", {"set": USER_DATA, "reason": "typed"}, format="json"
    )
    assert response.status_code == 200, response.content
    _assert_unchanged(response.json()["data"])
    assert admin.post(url + "resume/", {"reason": "r"}).status_code == 200
    task_complete(
        user=users["manager1"],
        task_id=_open(case, "manager_review").pk,
        data={"approved": True},
    )
    _assert_unchanged(Case.objects.get(pk=case.pk).data)
