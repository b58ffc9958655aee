"""Task listeners against Camunda 7's task lifecycle (TaskListenerEventLifecycleTest).

What runs here: create, assignment and complete listeners that set variables
(tests/processes/test_listeners.py: create before assignment when the task is
created with an assignee, assignment on claim, unclaim, assign, delegate and
the delegate's answer). Here: what Laneway cannot run as Camunda 7 runs it is
refused at upload with the element, the line and what Camunda 7 would do.

* Camunda 7's VariableScopeElResolver answers `task` (in a task listener),
  `execution` and `authenticatedUserId` with the engine's objects before any
  variable: what of them runs here is juel.py's "Engine objects"; the rest is
  refused.
* update and timeout listeners (TaskListener.EVENTNAME_UPDATE, _TIMEOUT) do
  not run here: refused, saying when Camunda 7 runs them. Delete listeners run
  when the task is cancelled (conformance scenarios c7_*delete*); one reading
  the assignee the task has then is refused.
* A task listener without an event, or with another word, Camunda 7 refuses too
  (BpmnParse.parseTaskListeners).

Through `version_upload` as an analyst; one assignment through the API.
"""

import pytest

from audit.models import AuditEvent
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tests.clients import api_for
from tests.processes.test_listeners import _deployed_loop, approval_loop

pytestmark = pytest.mark.django_db

LISTENER_LINE = 13  # where approval_loop puts the listeners


def _refusal(users, bpmn: bytes, element: str = "approve") -> dict:
    with pytest.raises(BpmnInvalid) as refused:
        version_upload(user=users["analyst"], bpmn=bpmn, filename="loop.bpmn")
    errors = refused.value.details["errors"]
    (problem,) = [p for p in errors if p["element_id"] == element]
    return problem


@pytest.mark.parametrize(
    ("event", "value", "why"),
    [
        ("create", "task.owner", "task.owner is not supported"),
        ("create", "task.getVariableLocal('x')", "task's own variables"),
        ("complete", "task.getClass()", "task.getClass() is not supported"),
        ("create", "task", "task itself is not a value"),
    ],
)
def test_a_listener_reading_camundas_engine_objects_outside_the_subset_is_refused(
    users, event, value, why
):
    # Camunda 7's VariableScopeElResolver answers task, execution and
    # authenticatedUserId with the engine's objects; what of them runs here is
    # juel.py's "Engine objects" (tests/engine/test_juel_engine_objects.py).
    listener = (
        f'        <camunda:taskListener event="{event}" '
        f"expression=\"${{task.setVariable('who', {value})}}\" />"
    )
    problem = _refusal(users, approval_loop(listener))
    assert problem["line"] == LISTENER_LINE
    assert "The taskListener of user task 'approve'" in problem["message"]
    assert why in problem["message"]


@pytest.mark.parametrize("language", ["javascript", "groovy"])
def test_a_listener_script_storing_the_task_object_is_refused(users, language):
    # Camunda 7 binds task to the DelegateTask in a script; here it read a variable.
    listener = (
        f'        <camunda:taskListener event="assignment"><camunda:script '
        f"scriptFormat=\"{language}\">task.setVariable('who', task)"
        "</camunda:script></camunda:taskListener>"
    )
    problem = _refusal(users, approval_loop(listener))
    assert "the task object itself as a value" in problem["message"]


def test_task_set_variable_in_an_execution_listener_is_refused(users):
    # Camunda 7 has no task object in an execution listener: `task` is a variable.
    listener = (
        '        <camunda:executionListener event="start" '
        "expression=\"${task.setVariable('seen', true)}\" />"
    )
    problem = _refusal(users, approval_loop(listener))
    assert problem["line"] == LISTENER_LINE
    assert "Camunda 7 has no task object there" in problem["message"]


def test_a_condition_reading_the_execution_or_the_signed_in_user_deploys(users):
    # Before, refused: read as case variables. Now Camunda 7's objects
    # (tests/engine/test_juel_engine_objects.py runs them).
    for n, condition in enumerate(
        ("${execution.processBusinessKey != null}", "${authenticatedUserId == 'x'}")
    ):
        bpmn = approval_loop("").replace(
            b"${approved}", condition.replace("'", "&apos;").encode()
        )
        version_upload(user=users["analyst"], bpmn=bpmn, filename=f"c{n}.bpmn")


def test_an_assignee_naming_the_signed_in_user_is_refused(users):
    bpmn = approval_loop("").replace(
        b'camunda:candidateGroups="Manager"',
        b'camunda:assignee="${authenticatedUserId}"',
    )
    problem = _refusal(users, bpmn)
    assert "The assignee '${authenticatedUserId}'" in problem["message"]


@pytest.mark.parametrize(
    ("event", "camunda_7"),
    [
        ("update", "each time a property of the open task changes"),
        ("timeout", "when its timer is due while the task is open"),
    ],
)
def test_update_and_timeout_listeners_are_refused_saying_when_camunda_runs_them(
    users, event, camunda_7
):
    timer = (
        "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>"
        "</bpmn:timerEventDefinition>"
        if event == "timeout"
        else ""
    )
    listener = (
        f'        <camunda:taskListener event="{event}" id="l1" '
        f"expression=\"${{task.setVariable('seen', true)}}\">{timer}"
        "</camunda:taskListener>"
    )
    problem = _refusal(users, approval_loop(listener))
    assert problem["line"] == LISTENER_LINE
    article = "an" if event == "update" else "a"
    assert f"Camunda 7 runs {article} {event} listener" in problem["message"]
    assert camunda_7 in problem["message"]


@pytest.mark.parametrize("event", [None, "assign"])
def test_a_task_listener_without_a_known_event_is_refused_as_camunda_7_does(
    users, event
):
    attribute = f' event="{event}"' if event else ""
    listener = (
        f"        <camunda:taskListener{attribute} "
        "expression=\"${task.setVariable('seen', true)}\" />"
    )
    problem = _refusal(users, approval_loop(listener))
    assert "Camunda 7 refuses it too" in problem["message"]
    assert (
        "create, assignment, complete, delete, update, timeout" in (problem["message"])
    )


def test_assigning_the_task_to_its_assignee_again_runs_no_assignment_listener(users):
    # TaskEntity.fireAssignmentEvent: only when the assignee property changed.
    case, task = _deployed_loop(users, boundary="")
    admin = api_for(users["padmin"])
    for _ in range(2):
        response = admin.post(
            f"/api/v1/tasks/{task.pk}/assign/", {"user": "manager2"}, format="json"
        )
        assert response.status_code == 200, response.json()
    runs = AuditEvent.objects.filter(case_id=case.pk, action="case.data_changed")
    assert [e.payload["set"] for e in runs] == [{"approver": "manager2"}]


def test_a_task_listener_on_a_manual_task_is_refused_as_camunda_7_ignores_it(users):
    # BpmnParse reads camunda:taskListener on user tasks only: Camunda 7 never
    # runs this one, and here it ran as the task's pre-script.
    listener = (
        '        <camunda:taskListener event="create" '
        "expression=\"${task.setVariable('seen', true)}\" />"
    )
    bpmn = (
        approval_loop(listener)
        .replace(b"<bpmn:userTask", b"<bpmn:manualTask")
        .replace(b"</bpmn:userTask>", b"</bpmn:manualTask>")
    )
    problem = _refusal(users, bpmn)
    assert problem["line"] == LISTENER_LINE
    assert "Camunda 7 ignores a task listener on a manualTask" in problem["message"]


@pytest.mark.parametrize(
    "listener",
    [
        '<camunda:taskListener event="delete" '
        "expression=\"${task.setVariable('who', task.assignee)}\" />",
        '<camunda:taskListener event="delete"><camunda:script '
        'scriptFormat="javascript">task.setVariable("who", task.getAssignee());'
        "</camunda:script></camunda:taskListener>",
    ],
)
def test_a_delete_listener_reading_the_assignee_is_refused(users, listener):
    # The assignee when the task is cancelled (claimed, delegated) is not what
    # the diagram draws; TaskEntity's delete event sees the current one.
    problem = _refusal(users, approval_loop(f"        {listener}"))
    assert problem["line"] == LISTENER_LINE
    assert "delete listener" in problem["message"]
