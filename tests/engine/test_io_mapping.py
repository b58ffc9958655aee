"""camunda:inputOutput on user tasks: failures and the form, through the services.

Camunda 7 User Guide, Process Engine, Variables, "Input/Output Variable
Mapping": input parameters are evaluated when the activity starts, output
parameters when it ends; an expression that cannot be evaluated fails that
step. Laneway fails the task: an incident located on the element (never a
500, never a mapping silently skipped) that a process admin retries once the
data is fixed. The conformance scenarios tests/conformance/scenarios/io_*
run the mapping itself (locals, shadowing, outputs, sub-processes).

On a multi-instance activity the inputs are mapped per instance (User Guide,
"Multi-instance IO Mapping"); on a call activity they are its local variables,
which camunda:in passes to the called process (Reference, Call Activity,
"Combination with Input/Output parameters"): a failing one is an incident on
that instance or call activity, retried the same way.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from cockpit.services import case_data_change
from engine.models import Case, Incident
from engine.services import case_start, incident_retry
from tasks_app.models import HumanTask
from tasks_app.selectors import task_form_initial
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, PASSWORD, deploy

CONFORMANCE = BPMN_DIR.parent / "conformance" / "bpmn"


@pytest.fixture
def reviewer(users):
    user = get_user_model().objects.create_user("rev", "rev@example.com", PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="Reviewers")[0])
    return user


def _open(case: Case) -> list[HumanTask]:
    return list(HumanTask.objects.filter(case=case, status=HumanTask.Status.OPEN))


def _fix(users, case: Case, **values) -> None:
    case_data_change(
        user=users["padmin"], case_id=case.pk, set=values, unset=[], reason="fix"
    )


def _share_fails(users, diagram: str, key: str, bpmn_id: str) -> tuple[Case, Incident]:
    """Deploy `diagram` and start `key` with parts 0: its input
    `share = ${amount / parts}` fails at `bpmn_id`, an incident."""
    deploy(CONFORMANCE / diagram, users["analyst"])
    case, _ = case_start(
        user=users["requester"], key=key, data={"amount": 10, "parts": 0}
    )
    incident = Incident.objects.get(case=case)
    assert (incident.bpmn_id, incident.status) == (bpmn_id, "open")
    assert "input parameter 'share'" in incident.message
    return case, incident


def _deliver(users, name: str, **correlation) -> None:
    """Deliver the message `name` with the payload parcel="box"."""
    from engine.services import message_deliver

    message_deliver(
        user=users["padmin"], name=name, correlation=correlation, data={"parcel": "box"}
    )


def test_a_failing_input_parameter_is_an_incident_on_the_task_retried_after_a_fix(
    users, reviewer
):
    """The input `share = ${amount / parts}` divides by zero: the task fails
    where it starts (an incident on Task_IO naming the parameter), no task is
    offered; with parts fixed, the retry maps the input and offers the task."""
    case, incident = _share_fails(
        users, "io_input_fails.bpmn", "io_input_fails", "Task_IO"
    )
    assert _open(case) == []

    _fix(users, case, parts=4)
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    [task] = _open(case)
    assert task.bpmn_id == "Task_IO"
    task_complete(user=reviewer, task_id=task.pk, data={})
    case.refresh_from_db()
    assert case.status == "completed"
    assert case.data == {"amount": 10, "parts": 4}  # share stayed the task's


def test_a_failing_input_after_a_fork_leaves_the_other_branch_running_and_is_retried(
    users, reviewer
):
    """A parallel fork reaches Task_A, whose input fails, and Task_B: the
    incident is on Task_A and Task_B is offered at once (the failure used to
    stop the fork, so Task_B never appeared, not even after a retry). Task_B
    done and parts fixed, the retry offers Task_A and the join completes."""
    deploy(CONFORMANCE / "io_input_fails_after_fork.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"],
        key="io_input_fails_after_fork",
        data={"amount": 10, "parts": 0},
    )
    [prep] = _open(case)
    task_complete(user=reviewer, task_id=prep.pk, data={})
    incident = Incident.objects.get(case=case)
    assert (incident.bpmn_id, incident.status) == ("Task_A", "open")
    assert "input parameter 'share'" in incident.message
    [task_b] = _open(case)
    assert task_b.bpmn_id == "Task_B"
    task_complete(user=reviewer, task_id=task_b.pk, data={})
    assert _open(case) == []

    _fix(users, case, parts=5)
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    [task_a] = _open(case)
    assert task_a.bpmn_id == "Task_A"
    assert task_a.local_data == {"share": 2.0}
    task_complete(user=reviewer, task_id=task_a.pk, data={})
    case.refresh_from_db()
    assert case.status == "completed"


def test_a_failing_output_parameter_refuses_the_completion_until_the_data_is_fixed(
    users, reviewer
):
    """The output `ratio = ${share / parts}` divides by zero when the task
    completes. Camunda 7 maps outputs inside TaskService.complete, so the call
    fails and nothing changes: the person gets the reason (a 409 naming the
    parameter, over the API too), the task stays open, nothing the
    task set reaches the case, no incident. Once an admin fixes `parts`, the
    same completion goes through with the outputs mapped."""
    deploy(CONFORMANCE / "io_output_fails.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"],
        key="io_output_fails",
        data={"amount": 10, "parts": 0},
    )
    [task] = _open(case)
    answer = APIClient()
    answer.force_authenticate(reviewer)
    refused = answer.post(
        f"/api/v1/tasks/{task.pk}/complete/",
        {"data": {"approved": True}},
        format="json",
    )
    assert refused.status_code == 409, refused.content
    body = refused.json()
    assert body["code"] == "task_completion_failed"
    assert "output parameter 'ratio'" in body["message"]
    assert body["details"]["element"] == "Task_IO"
    assert [t.pk for t in _open(case)] == [task.pk]
    assert not Incident.objects.filter(case=case).exists()
    case.refresh_from_db()
    assert case.data == {"amount": 10, "parts": 0}

    _fix(users, case, parts=4)
    task_complete(user=reviewer, task_id=task.pk, data={"approved": True})
    assert _open(case) == []
    case.refresh_from_db()
    assert case.status == "completed"
    assert case.data == {"amount": 10, "parts": 4, "ratio": 2.5, "approved": True}


def test_the_form_shows_and_keeps_an_input_named_like_its_field(users):
    """Camunda 7's generated form reads each field's variable from the task's
    scope (FormFieldHandler: the local input `note` hides any case variable
    of its name) and a field left out of the submission keeps that variable:
    the form is prefilled with the input, the assignee `${reviewer}` is the
    input, and the output `noteOut` reads the local `note` the form left as
    it was; the inputs never reach the case."""
    bob = get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD)
    deploy(CONFORMANCE / "io_user_task.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"],
        key="io_user_task",
        data={"amount": 10, "boss": "bob", "reviewer": "carol", "note": "case"},
    )
    [task] = _open(case)
    assert task.assignee == bob
    assert task.local_data == {
        "reviewer": "bob",
        "amount": 20,
        "note": "fixed",
        "limit": 21,
    }
    assert task_form_initial(task=task) == {"note": "fixed"}
    api = APIClient()
    api.force_authenticate(bob)
    detail = api.get(f"/api/v1/tasks/{task.pk}/").json()
    assert detail["local_data"]["note"] == "fixed"
    assert detail["case_data"]["note"] == "case"

    task_complete(user=bob, task_id=task.pk, data={"approved": True})
    case.refresh_from_db()
    assert case.data == {
        "amount": 10,
        "boss": "bob",
        "reviewer": "carol",
        "note": "case",
        "approved": True,
        "fromListener": 20,
        "doubled": 20,
        "decision": True,
        "noteOut": "fixed",
        "limitOut": 121,
    }


def test_a_failing_input_on_one_instance_is_an_incident_retried_after_a_fix(
    users, reviewer
):
    """Two parallel instances of Task_Each map `share = ${amount /
    parts[loopCounter]}`: the second's `parts` entry is missing, so that
    instance fails where it starts (an incident on Task_Each naming the
    parameter) while the first is offered with its own share. Once an admin
    fixes `parts`, the retry maps the second instance's input, reading its
    own loopCounter again, and offers it."""
    deploy(CONFORMANCE / "io_mi_input_fails.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"],
        key="io_mi_input_fails",
        data={"items": ["a", "b"], "amount": 10, "parts": [2]},
    )
    incident = Incident.objects.get(case=case)
    assert (incident.bpmn_id, incident.status) == ("Task_Each", "open")
    assert "input parameter 'share'" in incident.message
    [first] = _open(case)
    assert first.local_data["share"] == 5

    _fix(users, case, parts=[2, 4])
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    first_again, second = sorted(_open(case), key=lambda t: t.created_at)
    assert first_again.pk == first.pk
    assert second.local_data["share"] == 2.5
    assert second.local_data["item"] == "b"
    for task in (first, second):
        task_complete(user=reviewer, task_id=task.pk, data={})
    case.refresh_from_db()
    assert case.status == "completed"
    assert "share" not in case.data


def test_a_call_activity_passes_its_input_to_the_called_process_after_a_fix(users):
    """Call_IO maps `reviewer = ${lead}` and passes it in (camunda:in): with no
    `lead` the call activity fails where it starts, an incident naming the
    parameter, and nothing is called. Once an admin sets `lead`, the retry
    maps the input and the called process's task is assigned to that person;
    the input never becomes a case variable."""
    bob = get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD)
    deploy(CONFORMANCE / "io_call_child.bpmn", users["analyst"])
    deploy(CONFORMANCE / "io_call_input_fails.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="io_call_input_fails", data={"amount": 1}
    )
    incident = Incident.objects.get(case=case)
    assert (incident.bpmn_id, incident.status) == ("Call_IO", "open")
    assert "input parameter 'reviewer'" in incident.message
    assert _open(case) == []

    _fix(users, case, lead="bob")
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    [child] = _open(case)
    assert (child.bpmn_id, child.assignee) == ("Task_Child", bob)
    task_complete(user=bob, task_id=child.pk, data={})
    case.refresh_from_db()
    assert case.status == "completed"
    assert case.data == {"amount": 1, "lead": "bob"}


def test_a_failing_call_activity_output_is_retried_over_what_came_back(users):
    """Call_IO's output `ratio = ${score / parts}` fails when the called
    process ends (parts is 0): an incident on Call_IO naming the parameter,
    nothing the call mapped out reaches the case. Once an admin fixes parts,
    the retry evaluates the output again over what camunda:out brought back;
    the called process does not run again."""
    deploy(CONFORMANCE / "call_data_callee.bpmn", users["analyst"])
    deploy(CONFORMANCE / "io_call_output_fails.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"],
        key="io_call_output_fails",
        data={"amount": 6, "parts": 0},
    )
    incident = Incident.objects.get(case=case)
    assert (incident.bpmn_id, incident.status) == ("Call_IO", "open")
    assert "output parameter 'ratio'" in incident.message
    case.refresh_from_db()
    assert case.data == {"amount": 6, "parts": 0}

    _fix(users, case, parts=4)
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    case.refresh_from_db()
    assert case.status == "completed"
    assert case.data == {"amount": 6, "parts": 4, "score": 12, "ratio": 3.0}


def test_a_waiting_receive_task_keeps_the_inputs_mapped_when_it_was_entered(
    users, reviewer
):
    """Camunda 7 maps the inputs once, when the activity is entered
    (PvmExecutionImpl.enterActivityInstance): a case variable changed while
    the receive task waits does not change its local `expected`, which the
    output reads when the message arrives (`expectedOut` = 10 * 3). Its
    manual task passes straight through (Camunda 7 ManualTaskActivityBehavior):
    the case waits at the receive task at once."""
    deploy(CONFORMANCE / "io_tasks.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key="io_tasks", data={"amount": 10})
    assert _open(case) == []
    _fix(users, case, amount=20)
    _deliver(users, "io_parcel", amount=20)
    case.refresh_from_db()
    assert case.status == "completed"
    assert case.data["expectedOut"] == 30
    assert "expected" not in case.data


def test_a_receive_task_whose_input_failed_waits_after_the_fix_and_retry(users):
    """The receive task's input `share = ${amount / parts}` divides by zero:
    an incident on the task, which does not wait for its message; with parts
    fixed, the retry maps the input and the task waits; the message then
    completes it, and the input never reaches the case."""
    case, incident = _share_fails(
        users, "io_receive_input_fails.bpmn", "io_receive_fails", "IoRf_Receive"
    )

    _fix(users, case, parts=5)
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    _deliver(users, "io_parcel_fails", amount=10)
    case.refresh_from_db()
    assert case.status == "completed"
    assert case.data == {"amount": 10, "parts": 5, "parcel": "box"}


@pytest.mark.parametrize(
    ("key", "bpmn_id", "after"),
    [
        ("io_probe_throw_fails", "IoPtf_Throw", ["IoPtf_After"]),
        ("io_probe_end_fails", "IoPef_End", []),
    ],
)
def test_a_throw_or_end_event_whose_input_failed_goes_on_after_the_fix_and_retry(
    users, key, bpmn_id, after
):
    """Camunda 7 maps a throw or end event's inputs when it is entered
    (InputOutputEventTest.testNoneThrowEvent / testMessageEndEvent); the input
    `share = ${amount * rate}` without `rate` fails there: an incident on the
    event, the path stops. With rate set, the retry maps the input (2 * 10)
    and the path goes on; the input never reaches the case, the intermediate
    throw's output does."""
    deploy(CONFORMANCE / "io_probe_throw_fails.bpmn", users["analyst"])
    case, _ = case_start(user=users["requester"], key=key, data={"amount": 10})
    incident = Incident.objects.get(case=case)
    assert (incident.bpmn_id, incident.status) == (bpmn_id, "open")
    assert "input parameter 'share'" in incident.message
    case.refresh_from_db()
    assert case.status == "running"

    _fix(users, case, rate=2)
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    case.refresh_from_db()
    assert [t.bpmn_id for t in _open(case)] == after
    if after:
        assert case.data == {"amount": 10, "rate": 2, "shareOut": 20}
    else:
        assert case.status == "completed"
        assert case.data == {"amount": 10, "rate": 2}


def test_a_message_throw_whose_input_failed_sends_once_after_the_fix_and_retry(users):
    """Camunda 7 maps the inputs before the throw sends (InputOutputEventTest.
    testMessageThrowEvent): the failing input `share = ${amount * rate}` is an
    incident on the throw and nothing is queued to send; with rate set, the
    retry maps it and sends the payload reading it ({"share": 20}), once."""
    from engine.models import MessageOutbox

    deploy(CONFORMANCE / "io_probe_message_throw_fails.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="io_probe_msgf_sender", data={"amount": 10}
    )
    incident = Incident.objects.get(case=case)
    assert incident.bpmn_id == "IoPmfs_Throw"
    assert not MessageOutbox.objects.filter(case=case).exists()

    _fix(users, case, rate=2)
    incident_retry(user=users["padmin"], incident_id=incident.pk)
    sent = MessageOutbox.objects.filter(case=case)
    assert [(m.bpmn_id, m.payload) for m in sent] == [("IoPmfs_Throw", {"share": 20})]
    case.refresh_from_db()
    assert case.status == "completed"
    assert "share" not in case.data
