"""Diagrams run as BPMN 2.0 / Camunda 7 say (issue 7), through the real services.

Each diagram is one of the conformance diagrams (tests/conformance/bpmn/); the
cases are started with `engine.services.case_start`, tasks completed with
`tasks_app.services.task_complete` (state reloaded from PostgreSQL every step),
and service calls run on a real Celery worker.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import Group

import engine.tasks  # noqa: F401  (registers engine.service_call_run)
from config.celery import app
from engine.models import Case, Incident, ServiceCall
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.engine.test_service_worker import _wait_for

CONFORMANCE = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"


def _deploy(users, *names: str) -> str:
    """Deploy the conformance diagrams in order; return the last one's first key."""
    key = ""
    for name in names:
        path = CONFORMANCE / name
        deployed = version_upload(
            user=users["analyst"], bpmn=path.read_bytes(), filename=name
        )
        key = deployed[0].version.definition.key
    return key


@pytest.fixture
def reviewer(users):
    """A member of the diagrams' candidate group."""
    user = users["manager1"]
    user.groups.add(Group.objects.get_or_create(name="Reviewers")[0])
    return user


def _open(case: Case) -> list[str]:
    return sorted(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


def _complete(case: Case, bpmn_id: str, user, data=None) -> None:
    task = (
        HumanTask.objects.filter(case=case, status="open", bpmn_id=bpmn_id)
        .order_by("created_at")
        .first()
    )
    assert task is not None, f"{bpmn_id} is not open: {_open(case)}"
    task_complete(user=user, task_id=task.pk, data=data or {})


def _start(users, key, data=None, user=None) -> Case:
    case, _ = case_start(user=user or users["requester"], key=key, data=data or {})
    return case


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "diagram",
    [
        "send_task_external.bpmn",  # camunda:type="external" camunda:topic=...
        "send_task_delegate.bpmn",  # camunda:delegateExpression
        "business_rule_external.bpmn",  # business rule task with a topic
    ],
)
def test_send_and_business_rule_tasks_with_an_operation_run_on_the_worker(
    users, reviewer, diagram
):
    key = _deploy(users, diagram)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case = _start(users, key, {"amount": 21})
        assert _wait_for(lambda: _open(case) == ["Task_Confirm"])
    call = ServiceCall.objects.get(case=case)
    assert call.operation == "laneway.echo"
    assert call.status == ServiceCall.Status.SUCCEEDED
    assert call.params == {"amount": 21}
    case.refresh_from_db()
    if "business_rule" in diagram:  # camunda:resultVariable: the whole result
        assert case.data["rule_result"]["echo"] == {"amount": 21}
    else:  # no result variable: the dict result is merged into the case
        assert case.data["echo"] == {"amount": 21}
        assert "Task_Notify_result" not in case.data


pytestmark_db = pytest.mark.django_db


@pytestmark_db
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (False, "Task_Rework"),
        (True, "Task_Archive"),
        ("false", "returns non-Boolean: 'false' (java.lang.String)"),
        (None, "condition expression returns null"),
    ],
)
def test_a_juel_condition_that_is_not_a_boolean_is_an_incident_on_the_gateway(
    users, reviewer, value, expected
):
    # Camunda 7 UelExpressionCondition.evaluate: ensureNotNull("condition
    # expression returns null"), ensureInstanceOf("... returns non-Boolean").
    case = _start(users, _deploy(users, "juel_string_condition.bpmn"))
    _complete(case, "Task_Review", reviewer, {"approved": value})
    if expected.startswith("Task_"):
        assert _open(case) == [expected]
        return
    case.refresh_from_db()
    assert _open(case) == [] and case.has_incident
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert incident.bpmn_id == "Gateway_Approved"
    assert "Condition of sequence flow 'Flow_Yes'" in incident.message
    assert expected in incident.message


@pytestmark_db
def test_exclusive_gateway_takes_the_first_true_flow_in_document_order(users, reviewer):
    # Task_Second is drawn above Task_First, and listed first among the
    # gateway's <outgoing> refs; the flow to Task_First comes first in the file.
    key = _deploy(users, "xor_document_order.bpmn")
    assert _open(_start(users, key, {"x": 5})) == ["Task_First"]
    assert _open(_start(users, key, {"x": 1})) == ["Task_Second"]


@pytestmark_db
def test_exclusive_gateway_without_a_true_condition_or_default_is_an_incident(
    users,
):
    case = _start(users, _deploy(users, "xor_document_order.bpmn"), {"x": 0})
    case.refresh_from_db()
    assert case.has_incident and case.status == Case.Status.RUNNING
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert incident.bpmn_id == "Gateway_Route"
    assert "No conditions satisfied" in incident.message


@pytestmark_db
def test_plain_flows_split_and_merge_implicitly(users, reviewer):
    case = _start(users, _deploy(users, "implicit_split_merge.bpmn"))
    _complete(case, "Task_Prepare", reviewer)
    assert _open(case) == ["Task_Finance", "Task_Legal"]  # both paths start
    _complete(case, "Task_Legal", reviewer)
    assert _open(case) == ["Task_Finance", "Task_Notify"]  # no waiting at the merge
    _complete(case, "Task_Finance", reviewer)
    assert _open(case) == ["Task_Notify", "Task_Notify"]  # once per token
    _complete(case, "Task_Notify", reviewer)
    _complete(case, "Task_Notify", reviewer)
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED


@pytestmark_db
@pytest.mark.parametrize(
    ("caller", "present", "absent"),
    [
        ("call_data_unmapped.bpmn", {"amount": 5}, {"secret", "score"}),
        (
            "call_data_out_source.bpmn",
            {"amount": 5, "total": 10},
            {"secret", "score"},
        ),
        (
            "call_data_out_all.bpmn",
            {"amount": 5, "score": 10, "secret": "inside"},
            set(),
        ),
        (
            "call_data_out_expression.bpmn",
            {"amount": 5, "plus": 11},
            {"secret", "score"},
        ),
    ],
)
def test_variables_of_a_called_process_reach_the_caller_only_when_mapped_out(
    users, reviewer, caller, present, absent
):
    key = _deploy(users, "call_data_callee.bpmn", caller)
    case = _start(users, key, {"amount": 5})
    assert _open(case) == ["Task_Check"]
    _complete(case, "Task_Check", reviewer)
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert {k: case.data.get(k) for k in present} == present
    assert not absent & set(case.data)


@pytestmark_db
def test_camunda_in_passes_only_the_mapped_variables(users):
    key = _deploy(users, "call_data_callee.bpmn", "call_data_in_missing.bpmn")
    case = _start(users, key, {"amount": 5})
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert "amount" in incident.message  # the callee never saw it


@pytestmark_db
def test_an_abstract_task_passes_through_and_a_receive_task_waits(users, reviewer):
    from engine.services import message_deliver

    case = _start(users, _deploy(users, "receive_then_abstract.bpmn"))
    assert _open(case) == []  # waiting for the message, no inbox task
    message_deliver(
        user=users["padmin"],
        name="payment_received",
        correlation={},
        data={"paid": True},
    )
    assert _open(case) == ["Task_Ship"]  # bpmn:task passed through, nobody waited


@pytestmark_db
def test_start_event_initiator_names_the_starter_variable(users):
    case = _start(users, _deploy(users, "initiator_variable.bpmn"))
    case.refresh_from_db()
    assert case.data["starter"] == "requester"
    task = HumanTask.objects.get(case=case, status="open")
    assert task.assignee == users["requester"]


@pytestmark_db
def test_camunda_due_date_idiom_sets_the_due_date(users):
    case = _start(users, _deploy(users, "due_date_idiom.bpmn"), {"urgency": 80})
    task = HumanTask.objects.get(case=case, status="open")
    assert task.priority == 80
    assert (
        timedelta(days=1, hours=23)
        < task.due_at - case.started_at
        < timedelta(days=2, hours=1)
    )
