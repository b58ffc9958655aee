"""A message both a waiting case and a message start event match.

Camunda 7 (`DefaultCorrelationHandler`): `correlate()` looks at the waiting
executions first and only when none matches at the message start events, so
the one waiting case gets the message and no process starts; `correlateAll()`
collects both, so every waiting case gets it and every process with the start
event starts one instance (its latest version). POST /api/v1/messages/ is
`correlate()`, and `correlateAll()` with `"all": true`.
"""

import pytest
from rest_framework.test import APIClient

from engine.models import Case
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db


@pytest.fixture
def both(users):
    deploy(BPMN_DIR / "payment_wait.bpmn", users["analyst"])
    deploy(BPMN_DIR / "payment_start.bpmn", users["analyst"])


def send(user, body):
    client = APIClient()
    client.force_authenticate(user)
    return client.post("/api/v1/messages/", body, format="json")


def _waiting(users, order_id):
    response = APIClient()
    response.force_authenticate(users["requester"])
    started = response.post(
        "/api/v1/cases/",
        {"process": "payment_wait", "data": {"order_id": order_id}},
        format="json",
    )
    assert started.status_code == 201, started.content
    case = Case.objects.get(pk=started.json()["id"])
    prepare = HumanTask.objects.get(case=case, bpmn_id="prepare", status="open")
    task_complete(user=users["finance"], task_id=prepare.pk, data={"invoice": "I"})
    return case


def _started_unmatched():
    return Case.objects.filter(version__definition__key="unmatched_payment")


def test_correlate_gives_it_to_the_waiting_case_and_starts_nothing(users, both):
    case = _waiting(users, "A-1")
    response = send(
        users["padmin"],
        {"name": "payment_received", "correlation": {"order_id": "A-1"}},
    )
    assert response.status_code == 200
    assert response.json() == {"delivered": [str(case.pk)], "started": []}
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert not _started_unmatched().exists()


def test_correlate_starts_the_process_when_no_case_waits(users, both):
    case = _waiting(users, "A-1")
    response = send(
        users["padmin"],
        {"name": "payment_received", "correlation": {"order_id": "B-2"}},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["delivered"] == []
    assert [str(c.pk) for c in _started_unmatched()] == body["started"]
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING


def test_correlate_all_delivers_to_the_cases_and_starts_the_process(users, both):
    first = _waiting(users, "A-1")
    second = _waiting(users, "A-1")
    response = send(
        users["padmin"],
        {
            "name": "payment_received",
            "correlation": {"order_id": "A-1"},
            "data": {"amount": 5},
            "all": True,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body["delivered"]) == {str(first.pk), str(second.pk)}
    started = list(_started_unmatched())
    assert [str(c.pk) for c in started] == body["started"]
    assert started[0].data == {"amount": 5}
    assert HumanTask.objects.filter(
        case=started[0], bpmn_id="match_payment", status="open"
    ).exists()
    for case in (first, second):
        case.refresh_from_db()
        assert case.status == Case.Status.COMPLETED
        assert case.data["amount"] == 5


def test_correlate_all_with_one_waiting_case_still_starts_the_process(users, both):
    case = _waiting(users, "A-1")
    response = send(
        users["padmin"],
        {"name": "payment_received", "correlation": {"order_id": "A-1"}, "all": True},
    )
    assert response.status_code == 201
    assert response.json()["delivered"] == [str(case.pk)]
    assert len(response.json()["started"]) == 1 == _started_unmatched().count()
