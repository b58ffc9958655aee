"""Where an external task's localVariables land, as Camunda 7 puts them.

Camunda 7's ExternalTaskEntity.complete calls `setVariablesLocal` on the
task's execution. A task that is a scope of its own (camunda:inputOutput, a
boundary event) or an instance of a parallel multi-instance activity (its own
concurrent execution) keeps them until it ends; a task running in the process
instance's execution sets process variables; one running in an embedded
sub-process's execution sets the sub-process's. Where the execution is a
parallel branch's or a sequential multi-instance activity's, Laneway refuses
them (400) and changes nothing.

Through /engine-rest/external-task as a worker sends it; the scenarios in
tests/conformance/scenarios/vars_external_local_* run the same rules through
the services.
"""

import base64

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from engine.models import Case, ServiceCall
from engine.services import case_start
from tests.conftest import BPMN_DIR, PASSWORD, deploy

BASE = "/engine-rest/external-task"
CONFORMANCE = BPMN_DIR.parent / "conformance" / "bpmn"


@pytest.fixture
def worker(users):
    user = get_user_model().objects.create_user("erp", "erp@example.com", PASSWORD)
    user.groups.add(Group.objects.get(name="integrations"))
    token = base64.b64encode(f"erp:{PASSWORD}".encode()).decode()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def _start(users, path, key, **data) -> Case:
    deploy(path, users["analyst"])
    case, _ = case_start(user=users["requester"], key=key, data=data)
    return case


def _lock(client, topic: str) -> list[str]:
    body = {
        "workerId": "w1",
        "maxTasks": 5,
        "topics": [{"topicName": topic, "lockDuration": 60_000}],
    }
    answer = client.post(f"{BASE}/fetchAndLock", body, format="json")
    assert answer.status_code == 200, answer.content
    return [task["id"] for task in answer.json()]


def _complete(client, task_id: str, variables=None, local=None):
    body = {"workerId": "w1"}
    if variables is not None:
        body["variables"] = {k: {"value": v} for k, v in variables.items()}
    if local is not None:
        body["localVariables"] = {k: {"value": v} for k, v in local.items()}
    return client.post(f"{BASE}/{task_id}/complete", body, format="json")


def test_local_variables_of_a_task_in_the_process_instance_are_case_variables(
    users, worker
):
    case = _start(
        users, CONFORMANCE / "vars_external_local.bpmn", "vars_ext_local", score=0
    )
    [task_id] = _lock(worker, "conformance.local")
    answer = _complete(worker, task_id, {"score": 1}, {"score": 5, "scratch": "x"})
    assert answer.status_code == 204, answer.content
    case.refresh_from_db()
    # Set after the variables, on the process instance: the next task sees them.
    assert case.data == {"score": 5, "scratch": "x"}


@pytest.mark.parametrize(
    ("diagram", "key", "topic", "why"),
    [
        (
            CONFORMANCE / "vars_external_local_branch.bpmn",
            "vars_ext_branch",
            "conformance.branch",
            "parallel branch",
        ),
        (
            BPMN_DIR / "scope_sub_parallel.bpmn",
            "scope_sub_parallel",
            "scope.subpar",
            "parallel branch",
        ),
    ],
)
def test_local_variables_camunda_keeps_on_a_branch_are_refused(
    users, worker, diagram, key, topic, why
):
    case = _start(users, diagram, key, amount=3)
    revision = case.revision
    [task_id] = _lock(worker, topic)
    answer = _complete(worker, task_id, {"approved": True}, {"scratch": "x"})
    assert answer.status_code == 400, answer.content
    assert why in answer.json()["message"]
    assert "localVariables" in answer.json()["message"]
    case.refresh_from_db()
    assert (case.revision, case.data) == (revision, {"amount": 3})
    call = ServiceCall.objects.get(pk=task_id)
    assert (call.status, call.worker_id) == (ServiceCall.Status.RUNNING, "w1")
    # The worker, told why, completes with variables only.
    assert _complete(worker, task_id, {"approved": True}).status_code == 204
    case.refresh_from_db()
    assert case.data == {"amount": 3, "approved": True}


def test_local_variables_of_a_sequential_multi_instance_are_refused(users, worker):
    case = _start(users, BPMN_DIR / "scope_mi_sequential.bpmn", "scope_mi_sequential")
    [task_id] = _lock(worker, "scope.each")
    answer = _complete(worker, task_id, {"seen": 1}, {"scratch": "x"})
    assert answer.status_code == 400, answer.content
    assert "sequential multi-instance" in answer.json()["message"]
    case.refresh_from_db()
    assert "seen" not in case.data


def test_local_variables_of_a_parallel_instance_end_with_the_instance(users, worker):
    case = _start(users, BPMN_DIR / "scope_mi_parallel.bpmn", "scope_mi_parallel")
    first, second = _lock(worker, "scope.each")
    assert _complete(worker, first, {"seen": 1}, {"scratch": "x"}).status_code == 204
    assert _complete(worker, second, {"seen": 2}, {"scratch": "y"}).status_code == 204
    case.refresh_from_db()
    assert case.data == {"seen": 2}


def test_local_variables_of_a_task_with_a_boundary_event_end_with_it(users, worker):
    case = _start(
        users,
        CONFORMANCE / "vars_external_local_boundary.bpmn",
        "vars_ext_boundary",
        amount=3,
    )
    [task_id] = _lock(worker, "conformance.timed")
    answer = _complete(worker, task_id, {"approved": True}, {"amount": 100})
    assert answer.status_code == 204, answer.content
    case.refresh_from_db()
    assert case.data == {"amount": 3, "approved": True}


def test_once_the_other_branch_ended_local_variables_are_case_variables(users, worker):
    # Camunda 7 prunes the last concurrent execution into the process instance
    # when its sibling ends (no join waits), so the task runs there again.
    case = _start(users, BPMN_DIR / "scope_branch_ended.bpmn", "scope_branch_ended")
    [task_id] = _lock(worker, "scope.solo")
    answer = _complete(worker, task_id, {"approved": True}, {"scratch": "x"})
    assert answer.status_code == 204, answer.content
    case.refresh_from_db()
    assert case.data == {"other": 2, "approved": True, "scratch": "x"}


def test_bpmn_error_variables_named_like_an_input_parameter_stay_in_the_task(
    users, worker
):
    # Camunda 7 sets them on the task's execution before the error leaves it:
    # `limit` is the task's input parameter, local there, and ends with it.
    case = _start(
        users, BPMN_DIR / "scope_bpmn_error.bpmn", "scope_bpmn_error", amount=3
    )
    [task_id] = _lock(worker, "scope.err")
    answer = worker.post(
        f"{BASE}/{task_id}/bpmnError",
        {
            "workerId": "w1",
            "errorCode": "rejected",
            "variables": {"limit": {"value": 1}, "reason": {"value": "late"}},
        },
        format="json",
    )
    assert answer.status_code == 204, answer.content
    case.refresh_from_db()
    assert case.active_elements == ["Task_Rejected"]
    assert case.data == {"amount": 3, "reason": "late"}


def test_local_variables_in_a_sub_process_are_each_instance_s_own(users, worker):
    # Each instance of a multi-instance sub-process is a scope of its own:
    # its script reads its own scratch; none reaches the case.
    case = _start(users, BPMN_DIR / "scope_sub_mi.bpmn", "scope_sub_mi", seen=[])
    first, second = _lock(worker, "scope.subeach")
    assert _complete(worker, first, {}, {"scratch": "a"}).status_code == 204
    assert _complete(worker, second, {}, {"scratch": "b"}).status_code == 204
    case.refresh_from_db()
    assert case.active_elements == ["Task_After"]
    assert case.data == {"seen": ["a", "b"]}
