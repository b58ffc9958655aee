"""The production calls a scenario step makes, shared by pytest and the peer process.

`perform` takes a JSON-able command and answers a JSON-able result, so the same
code runs in the pytest process and in `peer.py` (a second, long-lived Django
process reading commands on stdin): completions of one case come from two
processes, each loading the case from the database as the web workers do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import close_old_connections

from engine.errors import EngineError
from engine.models import Incident, ReceiveWait, ServiceCall
from engine.services import (
    case_cancel,
    incident_retry,
    message_deliver,
    receive_signal,
)
from engine.services.external_tasks import (
    external_task_bpmn_error,
    external_task_complete,
    external_task_lock,
)
from engine.services.signals import signal_send
from engine.tasks import timers_fire_due_task
from tasks_app.errors import TaskError
from tasks_app.models import HumanTask
from tasks_app.permissions import can_work
from tasks_app.services import task_claim, task_complete

# alice and bob are in every group a deployed diagram names; carol in none.
CAST = ("alice", "bob", "carol")
# The external-task worker (group integrations) of `external` steps.
WORKER = "conformance-worker"


def _user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def _rank(task: HumanTask, username: str) -> int:
    """0 for the user's own task, 1 for an unassigned one, 2 for someone else's."""
    if task.assignee is None:
        return 1
    return 0 if task.assignee.get_username() == username else 2


def _open_task(case_id: str, bpmn_id: str, username: str | None) -> HumanTask | None:
    """Return the first open instance by creation; with a user, the first they hold.

    With `as`, an instance assigned to that user comes first, then an unassigned
    one (e.g. per-item assignees of a multi-instance task), then any.
    """
    tasks = list(
        HumanTask.objects.filter(case_id=case_id, bpmn_id=bpmn_id, status="open")
        .select_related("assignee", "case")
        .order_by("created_at", "pk")
    )
    if username:
        tasks.sort(key=lambda t: _rank(t, username))
    return tasks[0] if tasks else None


def _allowed(task: HumanTask, username: str) -> bool:
    """Return whether separation of duties lets `username` decide the task."""
    rules = set(task.separate_from)
    if "initiator" in rules and task.case.started_by.get_username() == username:
        return False
    others = rules - {"initiator"}
    return not (
        others
        and HumanTask.objects.filter(
            case=task.case, bpmn_id__in=others, completed_by__username=username
        ).exists()
    )


def _actor(task: HumanTask, requested: str | None) -> str:
    """Return who completes the task: as asked, else its assignee, else a candidate.

    The candidate is alice or bob (in every group), or a candidate user named
    on the task, whoever separation of duties allows first.
    """
    if requested:
        return requested
    if task.assignee is not None:
        return task.assignee.get_username()
    names = dict.fromkeys([*CAST[:2], *task.candidate_users])
    allowed = (u for u in names if can_work(_user(u), task) and _allowed(task, u))
    return next(allowed, CAST[0])


def _on_task(command: dict, act: Callable[[Any, HumanTask], object]) -> dict:
    """Act on an open task as asked, else as its first possible worker (`_actor`)."""
    task = _open_task(command["case"], command["target"], command.get("user"))
    if task is None:
        return {"ok": False, "code": "no_open_task", "message": command["target"]}
    user = _actor(task, command.get("user"))
    act(_user(user), task)
    return {"ok": True, "user": user}


def _complete(command: dict) -> dict:
    data = command.get("data") or {}
    return _on_task(
        command, lambda user, task: task_complete(user=user, task_id=task.pk, data=data)
    )


def _claim(command: dict) -> dict:
    return _on_task(command, lambda user, task: task_claim(user=user, task_id=task.pk))


def _message(command: dict) -> dict:
    result = message_deliver(
        user=_user(command.get("user") or CAST[0]),
        name=command["target"],
        correlation=command.get("correlation") or {},
        data=command.get("data") or {},
    )
    return {"ok": True, "delivered": [str(c) for c in result.delivered]}


def _timers(command: dict) -> dict:
    return {"ok": True, "fired": timers_fire_due_task()}


def _signal(command: dict) -> dict:
    result = signal_send(
        user=_user(command.get("user") or CAST[0]),
        name=command["target"],
        data=command.get("data") or {},
    )
    return {"ok": True, **result.as_dict()}


def _signal_receive(command: dict) -> dict:
    """Continue the case's oldest receive task without a message of this id
    (RuntimeService.signal(executionId)), as alice unless `as` says."""
    wait = (
        ReceiveWait.objects.filter(case_id=command["case"], bpmn_id=command["target"])
        .order_by("created_at", "pk")
        .first()
    )
    if wait is None:
        return {"ok": False, "code": "no_receive_wait", "message": command["target"]}
    receive_signal(
        user=_user(command.get("user") or CAST[0]),
        execution_id=wait.spiff_task_id,
        data=command.get("data") or {},
    )
    return {"ok": True}


def _retry_incident(command: dict) -> dict:
    """Retry the case's oldest open incident as alice (a message: re-send it)."""
    incident = (
        Incident.objects.filter(case_id=command["case"], status=Incident.Status.OPEN)
        .order_by("created_at")
        .first()
    )
    if incident is None:
        return {"ok": False, "code": "no_open_incident", "message": command["case"]}
    done = incident_retry(user=_user(CAST[0]), incident_id=incident.pk)
    return {"ok": True, "status": done.status}


def _external(command: dict) -> dict:
    """The worker locks the case's waiting external task of the topic and
    completes it with `data` (variables) and `local` (localVariables), as
    POST /engine-rest/external-task/{id}/lock and .../complete do; with
    `bpmn_error`, throws that BPMN error with `data` instead (.../bpmnError)."""
    call = (
        ServiceCall.objects.filter(
            case_id=command["case"],
            operation=command["target"],
            external=True,
            status__in=(ServiceCall.Status.PENDING, ServiceCall.Status.RUNNING),
        )
        .order_by("pk")
        .first()
    )
    if call is None:
        return {"ok": False, "code": "no_external_task", "message": command["target"]}
    user, task_id = _user(WORKER), str(call.pk)
    external_task_lock(user=user, task_id=task_id, worker_id=WORKER, lock_ms=60_000)
    if command.get("bpmn_error"):
        external_task_bpmn_error(
            user=user,
            task_id=task_id,
            worker_id=WORKER,
            error_code=command["bpmn_error"],
            error_message=f"{command['target']} failed",
            variables=command.get("data") or {},
        )
        return {"ok": True}
    external_task_complete(
        user=user,
        task_id=task_id,
        worker_id=WORKER,
        variables=command.get("data") or {},
        local_variables=command.get("local") or None,
    )
    return {"ok": True}


def _cancel(command: dict) -> dict:
    """Cancel the case as alice (its starter), running its end listeners
    unless the target says skip_custom_listeners (tasks_app's cancel form)."""
    case = case_cancel(
        user=_user(command.get("user") or CAST[0]),
        case_id=command["case"],
        skip_custom_listeners=command["target"] == "skip_custom_listeners",
    )
    return {"ok": True, "status": case.status}


_COMMANDS = {
    "complete": _complete,
    "claim": _claim,
    "message": _message,
    "timers": _timers,
    "signal": _signal,
    "signal_receive": _signal_receive,
    "retry_incident": _retry_incident,
    "external": _external,
    "cancel": _cancel,
}


def perform(command: dict) -> dict:
    """Run one step command; answer {"ok": False, code, message}."""
    close_old_connections()
    try:
        return _COMMANDS[command["kind"]](command)
    except (EngineError, TaskError) as exc:
        return {"ok": False, "code": exc.code, "message": str(exc)}
