"""A receive task without a message: a wait state continued by a signal to its
execution (Camunda 7's ReceiveTaskActivityBehavior, RuntimeService.signal;
REST POST /engine-rest/execution/{id}/signal, ExecutionRestService)."""

import base64

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from engine.errors import ActionNotAllowed, ReceiveNotWaiting
from engine.models import Case, ReceiveWait
from engine.services import case_start, receive_signal
from tests.conftest import BPMN_DIR, PASSWORD, deploy

pytestmark = pytest.mark.django_db
CAMUNDA7 = BPMN_DIR.parent / "conformance" / "bpmn" / "camunda7"
DIAGRAM = CAMUNDA7 / "InputOutputTest.testInputMapElValues.bpmn"


@pytest.fixture
def waiting(users):
    deploy(DIAGRAM, users["analyst"])
    case, _ = case_start(user=users["requester"], key="testProcess", data={"n": 1})
    return case


def _wait(case):
    return ReceiveWait.objects.get(case=case)


def test_case_waits_at_the_receive_task_until_signalled(users, waiting):
    wait = _wait(waiting)
    assert (wait.bpmn_id, wait.element_name) == ("wait", "wait")
    waiting.refresh_from_db()
    assert waiting.status == Case.Status.RUNNING
    assert waiting.active_elements == ["wait"]

    case = receive_signal(
        user=users["padmin"], execution_id=wait.spiff_task_id, data={"amount": 5}
    )

    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert case.data == {"n": 1, "amount": 5}
    assert not ReceiveWait.objects.exists()
    event = AuditEvent.objects.get(case_id=case.pk, action="receive.signalled")
    assert event.actor_repr == "padmin"
    assert event.payload["execution"] == str(wait.spiff_task_id)
    assert event.payload["data"] == {"amount": 5}


def test_second_signal_is_not_waiting_and_changes_nothing(users, waiting):
    execution = _wait(waiting).spiff_task_id
    receive_signal(user=users["padmin"], execution_id=execution, data={})
    waiting.refresh_from_db()
    revision = waiting.revision

    with pytest.raises(ReceiveNotWaiting):
        receive_signal(user=users["padmin"], execution_id=execution, data={"x": 1})

    waiting.refresh_from_db()
    assert waiting.revision == revision
    assert "x" not in waiting.data
    assert AuditEvent.objects.filter(action="receive.signalled").count() == 1


@pytest.mark.parametrize("who", ["requester", "outsider", "auditor"])
def test_signal_needs_the_permission(users, waiting, who):
    with pytest.raises(ActionNotAllowed):
        receive_signal(
            user=users[who], execution_id=_wait(waiting).spiff_task_id, data={}
        )
    assert ReceiveWait.objects.filter(case=waiting).exists()


def test_api_signal_continues_once_then_answers_404(users, waiting, integration):
    client = APIClient()
    client.force_authenticate(integration)
    url = f"/api/v1/executions/{_wait(waiting).spiff_task_id}/signal/"

    response = client.post(url, {"data": {"amount": 7}}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"case": str(waiting.pk), "status": "completed"}
    again = client.post(url, {"data": {}}, format="json")
    assert again.status_code == 404
    assert again.json()["code"] == "execution_not_waiting"
    assert client.post("/api/v1/executions/nope/signal/", {}).status_code == 404


def test_api_signal_refuses_data_that_is_not_an_object(users, waiting, integration):
    client = APIClient()
    client.force_authenticate(integration)
    url = f"/api/v1/executions/{_wait(waiting).spiff_task_id}/signal/"
    response = client.post(url, {"data": [1, 2]}, format="json")
    assert response.status_code == 400
    assert ReceiveWait.objects.filter(case=waiting).exists()


def _engine_rest(user, url, body):
    client = APIClient()
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client.post(url, body, format="json")


def test_engine_rest_signal_sets_typed_variables_and_answers_204(users, waiting):
    url = f"/engine-rest/execution/{_wait(waiting).spiff_task_id}/signal"

    response = _engine_rest(
        users["padmin"], url, {"variables": {"amount": {"value": 5, "type": "Integer"}}}
    )

    assert response.status_code == 204, response.content
    waiting.refresh_from_db()
    assert waiting.status == Case.Status.COMPLETED
    assert waiting.data["amount"] == 5
    again = _engine_rest(users["padmin"], url, {})
    assert again.status_code == 404
    assert again.json()["type"] and "continued already" in again.json()["message"]


def test_engine_rest_signal_needs_the_permission(users, waiting):
    url = f"/engine-rest/execution/{_wait(waiting).spiff_task_id}/signal"
    response = _engine_rest(users["requester"], url, {})
    assert response.status_code == 403
    assert ReceiveWait.objects.filter(case=waiting).exists()


def test_case_page_shows_the_wait_and_operators_continue_it(users, waiting, client):
    execution = str(_wait(waiting).spiff_task_id)
    page = f"/cases/{waiting.pk}/"
    client.force_login(users["requester"])
    shown = client.get(page).content.decode()
    assert "Receive task, waiting to be signalled" in shown
    assert execution in shown
    assert 'data-testid="receive-signal"' not in shown  # may see, not act
    signal = f"/cases/{waiting.pk}/receive/{execution}/signal/"
    assert client.post(signal).status_code == 403

    client.force_login(users["padmin"])
    assert 'data-testid="receive-signal"' in client.get(page).content.decode()
    response = client.post(signal, follow=True)

    assert "The case went on past the receive task." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Case.Status.COMPLETED
    again = client.post(signal, follow=True).content.decode()
    assert "continued already" in again
