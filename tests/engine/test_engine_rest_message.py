"""POST /engine-rest/message: Camunda 7's message correlation over REST.

Camunda 7 (MessageRestServiceImpl, MessageCorrelationBuilderImpl,
DefaultCorrelationHandler; MessageCorrelationTest): `correlate()` reaches the
one execution that matches `businessKey`, `processInstanceId` and the typed
`correlationKeys` (process variables, type-sensitive), else the one message
start event; none, or more than one, is a MismatchingMessageCorrelationException
(REST 400 RestException "Cannot correlate message ...") and changes nothing,
nothing kept (Camunda 7 does not buffer). `all` is `correlateAll()`. 204
without `resultEnabled`; with it the results (`Execution` or
`ProcessDefinition` with its `processInstance`), with the variables when
`variablesInResultEnabled`. A suspended instance is not correlated.
"""

import base64

import pytest
from rest_framework.test import APIClient

from cockpit.services.repairs import case_suspend
from engine.models import BufferedMessage, Case
from engine.services.cases import case_start
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, PASSWORD, deploy

pytestmark = pytest.mark.django_db
URL = "/engine-rest/message"
NO_MATCH = (
    "Cannot correlate message 'payment_received': No process definition or "
    "execution matches the parameters"
)


@pytest.fixture
def waiting(users):
    deploy(BPMN_DIR / "payment_wait.bpmn", users["analyst"])


def _post(user, body):
    client = APIClient()
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client.post(URL, {"messageName": "payment_received", **body}, format="json")


def _case(users, order_id, business_key=""):
    case, _ = case_start(
        user=users["requester"],
        key="payment_wait",
        data={"order_id": order_id},
        business_key=business_key,
    )
    prepare = HumanTask.objects.get(case=case, bpmn_id="prepare", status="open")
    task_complete(user=users["finance"], task_id=prepare.pk, data={"invoice": "I"})
    return case


def _status(case):
    case.refresh_from_db()
    return case.status


def test_correlate_by_business_key_and_typed_keys_answers_204(users, waiting):
    case = _case(users, "1", business_key="BK-1")
    other = _case(users, "1", business_key="BK-2")
    response = _post(
        users["padmin"],
        {
            "businessKey": "BK-1",
            "correlationKeys": {"order_id": {"value": "1", "type": "String"}},
            "processVariables": {"amount": {"value": 5, "type": "Integer"}},
        },
    )
    assert response.status_code == 204, response.content
    assert _status(case) == Case.Status.COMPLETED
    assert case.data["amount"] == 5
    assert _status(other) == Case.Status.RUNNING


def test_correlation_keys_are_type_sensitive(users, waiting):
    case = _case(users, "1")
    response = _post(
        users["padmin"],
        {"correlationKeys": {"order_id": {"value": 1, "type": "Integer"}}},
    )
    assert response.status_code == 400
    assert response.json() == {"type": "RestException", "message": NO_MATCH}
    assert _status(case) == Case.Status.RUNNING


def test_no_match_is_400_and_nothing_is_kept(users, waiting):
    _case(users, "1")
    response = _post(users["padmin"], {"businessKey": "nobody"})
    assert response.status_code == 400
    assert response.json() == {"type": "RestException", "message": NO_MATCH}
    assert not BufferedMessage.objects.exists()


def test_two_matches_are_refused_unless_all(users, waiting):
    first, second = _case(users, "1"), _case(users, "1")
    response = _post(users["padmin"], {"resultEnabled": True})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "RestException"
    assert body["message"].startswith("Cannot correlate message 'payment_received':")
    assert _status(first) == _status(second) == Case.Status.RUNNING
    response = _post(users["padmin"], {"all": True, "resultEnabled": True})
    assert response.status_code == 200, response.content
    assert sorted(response.json(), key=lambda r: r["execution"]["id"]) == [
        {
            "resultType": "Execution",
            "execution": {
                "id": str(case.pk),
                "processInstanceId": str(case.pk),
                "ended": True,
                "tenantId": None,
            },
            "processInstance": None,
        }
        for case in sorted((first, second), key=lambda c: str(c.pk))
    ]


def test_process_instance_id_selects_one_of_two(users, waiting):
    first, second = _case(users, "1"), _case(users, "1")
    response = _post(users["padmin"], {"processInstanceId": str(second.pk)})
    assert response.status_code == 204, response.content
    assert _status(first) == Case.Status.RUNNING
    assert _status(second) == Case.Status.COMPLETED


def test_a_start_event_answers_the_process_instance_with_its_variables(users, waiting):
    version = deploy(BPMN_DIR / "payment_start.bpmn", users["analyst"])
    response = _post(
        users["padmin"],
        {
            "businessKey": "PAY-1",
            "processVariables": {"amount": {"value": 7, "type": "Integer"}},
            "resultEnabled": True,
            "variablesInResultEnabled": True,
        },
    )
    assert response.status_code == 200, response.content
    [result] = response.json()
    case = Case.objects.get(version=version)
    assert result["resultType"] == "ProcessDefinition"
    assert result["execution"] is None
    assert result["processInstance"]["id"] == str(case.pk)
    assert result["processInstance"]["businessKey"] == "PAY-1"
    assert result["variables"]["amount"]["value"] == 7


def test_a_suspended_case_is_not_correlated(users, waiting):
    case = _case(users, "1")
    case_suspend(user=users["padmin"], case_id=case.pk, reason="hold")
    response = _post(users["padmin"], {})
    assert response.status_code == 400
    assert response.json()["message"] == NO_MATCH
    case.refresh_from_db()
    assert case.status == Case.Status.SUSPENDED


@pytest.mark.parametrize(
    "field",
    [
        "localCorrelationKeys",
        "processVariablesLocal",
        "processVariablesToTriggeredScope",
    ],
)
def test_element_local_variables_are_refused_not_ignored(users, waiting, field):
    case = _case(users, "1")
    response = _post(
        users["padmin"], {field: {"order_id": {"value": "1", "type": "String"}}}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "InvalidRequestException"
    assert field in response.json()["message"]
    assert _status(case) == Case.Status.RUNNING


def test_who_may_not_send_messages_gets_403(users, waiting):
    response = _post(users["requester"], {})
    assert response.status_code == 403
