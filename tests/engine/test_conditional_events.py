"""A conditional intermediate catch event is evaluated again when variables change.

Camunda 7 evaluates a waiting conditional event on every variable change of its
case. The scenarios (tests/conformance/scenarios/conditional_*.toml) cover the
changes made by a step (a task completed, a message with variables); here the
variables an operator sets through the API: at once on a running case, and on
resume for a suspended one. A condition that cannot be evaluated is an incident
on the event, never a silent wait, except what Camunda 7's
UelExpressionCondition.tryEvaluate reads as false in a JUEL condition: a
variable that does not exist, or a property of a value that has none
(PropertyNotFoundException).
"""

from pathlib import Path

import pytest

from audit.actions import AuditAction
from audit.models import AuditEvent
from engine.models import Case, Incident
from engine.services import case_start
from processes.services import version_upload
from tests.clients import api_for

pytestmark = pytest.mark.django_db

BPMN = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"
KEY = "conditional_catch_alone"  # start -> conditional catch ${go} -> end


@pytest.fixture
def waiting(users) -> Case:
    """A case waiting at its conditional catch (go is false)."""
    path = BPMN / "conditional_catch_alone.bpmn"
    version_upload(user=users["analyst"], bpmn=path.read_bytes(), filename=path.name)
    case, _ = case_start(user=users["requester"], key=KEY, data={"go": False})
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING
    assert case.active_elements == ["Catch_Condition"]
    return case


def _set(users, case: Case, values: dict) -> None:
    response = api_for(users["padmin"]).patch(
        f"/api/v1/cases/{case.pk}/data/",
        {"set": values, "unset": [], "reason": "the condition is met"},
        format="json",
    )
    assert response.status_code == 200, response.content


def _admin(users, case: Case, action: str) -> int:
    """Suspend or resume the case as a process admin; return the HTTP status."""
    url = f"/api/v1/cases/{case.pk}/{action}/"
    return api_for(users["padmin"]).post(url, {"reason": action}).status_code


def _passed(case: Case) -> bool:
    return AuditEvent.objects.filter(
        case_id=case.pk,
        action=AuditAction.ELEMENT_COMPLETED,
        task_ref="Catch_Condition",
    ).exists()


def test_variables_set_through_the_api_fire_a_waiting_condition_at_once(users, waiting):
    _set(users, waiting, {"unrelated": 1})
    waiting.refresh_from_db()
    assert waiting.status == Case.Status.RUNNING  # still false: still waiting
    assert waiting.active_elements == ["Catch_Condition"]

    _set(users, waiting, {"go": True})
    waiting.refresh_from_db()
    assert waiting.status == Case.Status.COMPLETED
    assert _passed(waiting)


def test_a_suspended_case_fires_its_condition_when_resumed_not_before(users, waiting):
    assert _admin(users, waiting, "suspend") == 200
    _set(users, waiting, {"go": True})
    waiting.refresh_from_db()
    assert waiting.status == Case.Status.SUSPENDED
    assert waiting.active_elements == ["Catch_Condition"]
    assert not _passed(waiting)

    assert _admin(users, waiting, "resume") == 200
    waiting.refresh_from_db()
    assert waiting.status == Case.Status.COMPLETED
    assert _passed(waiting)


def test_resuming_a_case_whose_condition_is_still_false_changes_nothing(users, waiting):
    assert _admin(users, waiting, "suspend") == 200
    revision = waiting.state.revision
    assert _admin(users, waiting, "resume") == 200
    waiting.refresh_from_db()
    waiting.state.refresh_from_db()
    assert waiting.status == Case.Status.RUNNING
    assert waiting.state.revision == revision
    assert waiting.active_elements == ["Catch_Condition"]


def _deploy(users, condition: str) -> None:
    """Deploy conditional_catch_alone with another condition than ${go}."""
    path = BPMN / "conditional_catch_alone.bpmn"
    xml = path.read_bytes().replace(b"${go}", condition.encode())
    version_upload(user=users["analyst"], bpmn=xml, filename=path.name)


def _incident(case: Case) -> Incident:
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert incident.bpmn_id == "Catch_Condition"
    return incident


def test_a_python_condition_naming_a_missing_variable_is_an_incident(users):
    # SpiffWorkflow's reading, kept for Python (SpiffArena) conditions.
    _deploy(users, "go")
    case, _ = case_start(user=users["requester"], key=KEY, data={})  # no `go`
    assert "go" in _incident(case).message


@pytest.mark.parametrize(
    ("condition", "start", "then"),
    [
        ("${go}", {}, {"go": True}),  # Cannot resolve identifier 'go'
        ("${go.ready}", {"go": 5}, {"go": {"ready": True}}),  # no property on a Long
    ],
)
def test_a_juel_condition_camunda_cannot_resolve_is_false_and_waits(
    users, condition, start, then
):
    # Camunda 7 IntermediateConditionalEventBehavior: UelExpressionCondition
    # .tryEvaluate reads a PropertyNotFoundException as false, when the event is
    # reached and on each variable change.
    _deploy(users, condition)
    case, _ = case_start(user=users["requester"], key=KEY, data=start)
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING and not case.has_incident
    assert case.active_elements == ["Catch_Condition"]

    _set(users, case, then)
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert _passed(case)


def test_a_juel_condition_that_becomes_a_string_is_an_incident(users, waiting):
    # tryEvaluate raises whatever is not a PropertyNotFoundException: here
    # "condition expression returns non-Boolean" (UelExpressionCondition.evaluate).
    _set(users, waiting, {"go": "true"})
    waiting.refresh_from_db()
    assert waiting.status == Case.Status.RUNNING and waiting.has_incident
    message = _incident(waiting).message
    assert "condition expression returns non-Boolean: 'true'" in message
    assert "intermediate catch event 'Catch_Condition'" in message


def test_variables_set_in_the_cockpit_fire_a_conditional_boundary_event(users):
    # Camunda 7 BoundaryConditionalEventTest.testVariableSetOnExecutionCondition:
    # a variable set from outside on the case interrupts the task.
    path = BPMN / "cond_boundary_interrupting.bpmn"
    version_upload(user=users["analyst"], bpmn=path.read_bytes(), filename=path.name)
    case, _ = case_start(
        user=users["requester"], key="cond_boundary_interrupting", data={}
    )
    case.refresh_from_db()
    assert sorted(case.active_elements) == [
        "Boundary_Escalate",
        "Task_Other",
        "Task_Work",
    ]

    _set(users, case, {"escalate": True})
    case.refresh_from_db()
    assert sorted(case.active_elements) == ["Task_Escalated", "Task_Other"]


def test_variable_events_delete_fires_on_the_deletion_of_the_named_variable_only(
    users,
):
    # camunda:variableName="hold" camunda:variableEvents="delete", ${release}:
    # setting release (true) is not an event it listens to; deleting hold is.
    path = BPMN / "cond_boundary_delete.bpmn"
    version_upload(user=users["analyst"], bpmn=path.read_bytes(), filename=path.name)
    case, _ = case_start(
        user=users["requester"],
        key="cond_boundary_delete",
        data={"hold": 1, "release": False},
    )
    _set(users, case, {"release": True})
    case.refresh_from_db()
    assert "Task_Work" in case.active_elements

    response = api_for(users["padmin"]).patch(
        f"/api/v1/cases/{case.pk}/data/",
        {"set": {}, "unset": ["hold"], "reason": "released"},
        format="json",
    )
    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert sorted(case.active_elements) == ["Task_Escalated", "Task_Other"]
