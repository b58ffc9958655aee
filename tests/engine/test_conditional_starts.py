"""A process's conditional start event starts a case through the condition
evaluation, as Camunda 7's RuntimeService.createConditionEvaluation()
.evaluateStartConditions() and REST POST /condition start it.

Camunda 7 (EvaluateStartConditionCmd, DefaultConditionHandler,
ConditionalStartEventTest): the conditional start events of the latest version
of each process (or of the one definition named) are evaluated on the given
variables only; every one that holds starts one case with them and the
business key; one whose camunda:variableName is not among the variables is not
evaluated; none holding starts nothing (an empty list), while no conditional
start event at all is an error ("No subscriptions were found during evaluation
of the conditional start events"); CREATE_INSTANCE is checked on every process
that would start before any starts. The start event is never evaluated inside
a case started otherwise.
"""

import base64
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from audit.models import AuditEvent
from engine.models import Case
from engine.services import case_start
from tasks_app.models import HumanTask
from tests.conftest import BPMN_DIR, PASSWORD, deploy

pytestmark = pytest.mark.django_db

URL = "/api/v1/conditions/"


def _post(user, body: dict, url: str = URL, **headers):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(url, body, format="json", **headers)


def _tmp(name: str, xml: str) -> Path:
    path = Path(tempfile.mkdtemp()) / name
    path.write_text(xml)
    return path


def _deploy(users, name: str, starters: str = ""):
    """Deploy tests/bpmn/<name>, its process's starters set to `starters`."""
    path = BPMN_DIR / name
    if starters:
        xml = path.read_text().replace(
            'isExecutable="true"', f'isExecutable="true" {starters}'
        )
        path = _tmp(name, xml)
    return deploy(path, users["analyst"])


@pytest.fixture
def big_order(users):
    return _deploy(users, "conditional_start.bpmn")


def test_a_true_condition_starts_a_case_at_the_conditional_start_event(
    users, big_order
):
    response = _post(
        users["padmin"],
        {"variables": {"amount": 5000}, "business_key": "ORD-7"},
    )
    assert response.status_code == 200, response.json()
    started = response.json()["started"]
    assert len(started) == 1
    case = Case.objects.get(pk=started[0]["id"])
    assert started[0]["process"] == "big_order"
    assert started[0]["business_key"] == "ORD-7"
    assert started[0]["status"] == "running"
    assert case.data == {"amount": 5000}
    assert case.started_by == users["padmin"]
    assert list(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    ) == ["Task_Review"]
    event = AuditEvent.objects.get(case_id=case.pk, action="case.started")
    assert event.payload["condition"] == "Start_Big"
    assert event.payload["business_key"] == "ORD-7"
    assert event.payload["data"] == {"amount": 5000}
    assert event.actor_id == users["padmin"].pk


def test_a_false_condition_starts_nothing(users, big_order):
    response = _post(users["padmin"], {"variables": {"amount": 10}})
    assert response.status_code == 200, response.json()
    assert response.json() == {"started": []}
    # A condition naming a variable not given is false (tryEvaluate).
    response = _post(users["padmin"], {"variables": {"other": 1}})
    assert response.json() == {"started": []}
    assert not Case.objects.exists()


def test_no_conditional_start_event_at_all_is_404_as_camunda_refuses_it(users):
    deploy(BPMN_DIR / "message_start.bpmn", users["analyst"])
    response = _post(users["padmin"], {"variables": {"amount": 5000}})
    assert response.status_code == 404, response.json()
    assert response.json()["code"] == "no_conditional_start"
    assert not Case.objects.exists()


def test_a_case_started_by_hand_does_not_also_start_at_the_condition(users, big_order):
    # The data makes the condition true: only the none start runs all the same.
    case, _ = case_start(user=users["manager1"], key="big_order", data={"amount": 5000})
    assert [t.bpmn_id for t in HumanTask.objects.filter(case=case)] == ["Task_Review"]
    events = AuditEvent.objects.filter(case_id=case.pk, action="case.started")
    assert [e.payload.get("condition") for e in events] == [None]
    assert Case.objects.count() == 1


def test_variable_name_restricts_the_event_to_evaluations_with_that_variable(users):
    _deploy(users, "conditional_start_audit.bpmn")
    # `flagged` makes the condition true, but `amount` is not given: the event
    # is not evaluated (camunda:variableName="amount").
    response = _post(users["padmin"], {"variables": {"flagged": True}})
    assert response.json() == {"started": []}
    response = _post(users["padmin"], {"variables": {"amount": 1, "flagged": True}})
    assert [c["process"] for c in response.json()["started"]] == ["order_audit"]


def test_two_processes_whose_conditions_hold_start_two_cases(users, big_order):
    _deploy(users, "conditional_start_audit.bpmn")
    response = _post(users["padmin"], {"variables": {"amount": 5000}})
    assert response.status_code == 200, response.json()
    started = response.json()["started"]
    assert sorted(c["process"] for c in started) == ["big_order", "order_audit"]
    assert Case.objects.count() == 2
    # `process` evaluates only that process's conditional start events.
    response = _post(
        users["padmin"], {"variables": {"amount": 5000}, "process": "order_audit"}
    )
    assert [c["process"] for c in response.json()["started"]] == ["order_audit"]


def test_a_sender_who_may_not_start_one_that_would_start_is_refused_whole(users):
    _deploy(users, "conditional_start.bpmn")
    _deploy(
        users,
        "conditional_start_audit.bpmn",
        starters='camunda:candidateStarterGroups="integrations"',
    )
    response = _post(users["padmin"], {"variables": {"amount": 5000}})
    assert response.status_code == 403, response.json()
    body = response.json()
    assert body["code"] == "permission_denied"
    assert "Order audit" in body["message"]
    assert body["details"] == {"process": "order_audit"}
    assert not Case.objects.exists()
    # The integration account it names starts both.
    erp = get_user_model().objects.create_user("erp", "erp@example.com", PASSWORD)
    erp.groups.add(Group.objects.get(name="integrations"))
    response = _post(erp, {"variables": {"amount": 5000}})
    assert len(response.json()["started"]) == 2
    # Without the right to evaluate conditions: 403.
    response = _post(users["requester"], {"variables": {"amount": 5000}})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"variables": [1, 2]}, "variables"),
        ({"variables": {}, "business_key": 5 * "x" * 60}, "business_key"),
        ({"variables": {}, "process": ["a"]}, "process"),
    ],
)
def test_a_bad_body_is_400_naming_the_field(users, big_order, body, field):
    response = _post(users["padmin"], body)
    assert response.status_code == 400, response.json()
    text = str(response.json())
    assert field in text
    assert not Case.objects.exists()


def test_a_condition_that_fails_on_the_variables_is_400_and_starts_nothing(users):
    xml = (BPMN_DIR / "conditional_start.bpmn").read_text()
    xml = xml.replace("${amount &gt; 1000}", "${amount}")
    deploy(_tmp("conditional_start.bpmn", xml), users["analyst"])
    response = _post(users["padmin"], {"variables": {"amount": "lots"}})
    assert response.status_code == 400, response.json()
    assert response.json()["details"]["element"] == "Start_Big"
    assert "variables" in response.json()["details"]["fields"]
    assert not Case.objects.exists()


def test_an_idempotency_key_replays_the_cases_it_started(users, big_order):
    first = _post(
        users["padmin"], {"variables": {"amount": 5000}}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = _post(
        users["padmin"], {"variables": {"amount": 5000}}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert again.status_code == 200
    assert [c["id"] for c in again.json()["started"]] == [
        c["id"] for c in first.json()["started"]
    ]
    assert Case.objects.count() == 1
    other = _post(
        users["padmin"], {"variables": {"amount": 7000}}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422


def _basic(user) -> APIClient:
    client = APIClient()
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def test_engine_rest_condition_answers_camundas_process_instances(users, big_order):
    client = _basic(users["padmin"])
    response = client.post(
        "/engine-rest/condition",
        {
            "variables": {"amount": {"value": 5000, "type": "Integer"}},
            "businessKey": "ORD-9",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    [instance] = response.json()
    case = Case.objects.get(pk=instance["id"])
    assert instance == {
        "links": [],
        "id": str(case.pk),
        "definitionId": f"big_order:1:{big_order.pk}",
        "businessKey": "ORD-9",
        "caseInstanceId": None,
        "ended": False,
        "suspended": False,
        "tenantId": None,
    }
    assert case.data == {"amount": 5000}
    # All false: an empty list; the definition's id restricts it.
    response = client.post(
        "/engine-rest/condition",
        {
            "variables": {"amount": {"value": 3, "type": "Integer"}},
            "processDefinitionId": instance["definitionId"],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == []
    response = client.post(
        "/engine-rest/condition",
        {"variables": {"amount": {"value": "x", "type": "Integer"}}},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"type", "message"}


CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d_caller"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="order_caller" name="Order caller" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="call" name="Review" calledElement="big_order">
      <bpmn:extensionElements><camunda:in variables="all" /></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_called_process_starts_at_its_none_start_only(users, big_order):
    """A called process starts at its none start event (BPMN 2.0.2 §10.5.2);
    its conditional start event is not evaluated, though the variables the call
    passes make it true."""
    deploy(_tmp("order_caller.bpmn", CALLER), users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="order_caller", data={"amount": 5000}
    )
    open_tasks = HumanTask.objects.filter(case=case, status="open")
    assert [t.bpmn_id for t in open_tasks] == ["Task_Review"]


def test_a_process_with_only_conditional_starts_is_not_started_by_hand(users):
    _deploy(users, "conditional_start_audit.bpmn")
    response = _post(users["requester"], {"process": "order_audit"}, "/api/v1/cases/")
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "start_only_by_event"
    assert "POST /api/v1/conditions/" in response.json()["message"]
    assert not Case.objects.exists()


URGENT = (
    '<bpmn:startEvent id="Start_Urgent" name="Urgent">'
    "<bpmn:outgoing>Flow_Urgent</bpmn:outgoing>"
    '<bpmn:conditionalEventDefinition id="CondDef_Urgent">'
    '<bpmn:condition xsi:type="bpmn:tFormalExpression">${urgent}</bpmn:condition>'
    "</bpmn:conditionalEventDefinition></bpmn:startEvent>"
    '<bpmn:sequenceFlow id="Flow_Urgent" sourceRef="Start_Urgent" '
    'targetRef="Task_Review" />'
)


def test_each_conditional_start_event_that_holds_starts_its_own_case(users):
    """DefaultConditionHandler: one result per start event whose condition holds."""
    xml = (BPMN_DIR / "conditional_start.bpmn").read_text()
    xml = xml.replace(
        '<bpmn:startEvent id="Start_Hand"', URGENT + '<bpmn:startEvent id="Start_Hand"'
    )
    xml = xml.replace(
        "<bpmn:incoming>Flow_Hand_Review</bpmn:incoming>",
        "<bpmn:incoming>Flow_Hand_Review</bpmn:incoming>"
        "<bpmn:incoming>Flow_Urgent</bpmn:incoming>",
    )
    deploy(_tmp("conditional_start.bpmn", xml), users["analyst"])
    response = _post(users["padmin"], {"variables": {"amount": 5000, "urgent": True}})
    assert len(response.json()["started"]) == 2
    conditions = AuditEvent.objects.filter(action="case.started").values_list(
        "payload__condition", flat=True
    )
    assert sorted(conditions) == ["Start_Big", "Start_Urgent"]
    response = _post(users["padmin"], {"variables": {"amount": 5, "urgent": True}})
    assert len(response.json()["started"]) == 1
    assert HumanTask.objects.filter(bpmn_id="Task_Review", status="open").count() == 3
