"""The human-task lifecycle, declared once as a table of transitions (Viewflow's way).

A task is in one state (derived from its row); each `Transition` says which action
moves it from `source` to `target` and who may take it. The services check an
action here before they change anything, the task page shows the buttons of the
actions `actions_allowed` returns, and the API lists the same actions.

A "who may" predicate returns None when the user may act, or the error that says
why not (in the order the user would fix it: not a candidate, not open, claimed).
A delegation ends when the delegate answers, the owner hands the task on or
releases it, an admin assigns it, or the case moves on; every right it gave the
delegate goes with it (`permissions.revoke_personal`).

An action the user may take that has no row from the current state is accepted and
changes nothing (claiming a task you hold, releasing an unclaimed one).
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.models import Case

from . import permissions
from .errors import (
    NotTaskCandidate,
    SeparationOfDuties,
    TaskAlreadyClaimed,
    TaskError,
    TaskNotOpen,
)
from .models import HumanTask


class TaskState(StrEnum):
    """Where a task is in its lifecycle (derived from status, assignee and owner)."""

    OFFERED = "offered"  # open, offered to its candidates, unclaimed
    CLAIMED = "claimed"  # open, held by its assignee
    DELEGATED = "delegated"  # open, held by a delegate who answers to its owner
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskAction(StrEnum):
    """What can be done to a task (the names the pages and the API use)."""

    CLAIM = "claim"
    RELEASE = "release"
    COMPLETE = "complete"
    ASSIGN = "assign"
    DELEGATE = "delegate"
    CANCEL = "cancel"
    PLAN = "plan"  # set the due date and the priority


Who = Callable[[Any, HumanTask], TaskError | None]


def _not_open(task: HumanTask) -> TaskNotOpen:
    return TaskNotOpen(f"This task is already {task.get_status_display().lower()}.")


def separated(user: Any, task: HumanTask) -> SeparationOfDuties | None:
    """Refuse a user whom the task's `separateFrom` bars (Camunda's 4-eyes rule)."""
    if not permissions.is_barred(user, task):
        return None
    if "initiator" in task.separate_from and task.case.started_by_id == user.pk:
        return SeparationOfDuties(
            "You started this case, so someone else must decide this task."
        )
    return SeparationOfDuties(
        "You completed an earlier step of this case, so someone "
        "else must decide this task."
    )


def candidate(user: Any, task: HumanTask) -> TaskError | None:
    """A candidate (or assignee) of an open task, free or theirs, and not barred."""
    if not task.is_open and permissions.was_offered(user, task):
        return _not_open(task)  # its WORK rows went when it closed
    if not permissions.can_work(user, task):
        return NotTaskCandidate("You are not a candidate for this task.")
    if refusal := separated(user, task):
        return refusal
    if not task.is_open:
        return _not_open(task)
    holder = task.assignee if task.assignee_id not in (None, user.pk) else None
    if holder is not None:
        return TaskAlreadyClaimed(
            f"This task is already claimed by {holder.get_username()}.",
            details={"assignee": holder.get_username()},
        )
    return None


def releaser(user: Any, task: HumanTask) -> TaskError | None:
    """The assignee of a task that has candidates to give it back to."""
    refusal = candidate(user, task)
    if refusal is None and not (task.candidate_groups or task.candidate_users):
        return TaskNotOpen(
            "This task is assigned to you personally and cannot be released."
        )
    return refusal


def receiver(user: Any, task: HumanTask) -> TaskError | None:
    """Someone a task may be assigned or delegated to: active, not barred."""
    if not (user and user.is_active):
        return NotTaskCandidate("Only an active user may receive a task.")
    return separated(user, task)


def reassigner(user: Any, task: HumanTask) -> TaskError | None:
    """A process admin, a manager of its group, or the task's assignee."""
    if not permissions.can_reassign(user, task):
        return NotTaskCandidate(
            "Only a process admin, a manager of its group or the task's assignee "
            "may assign it."
        )
    return None if task.is_open else _not_open(task)


def owner(user: Any, task: HumanTask) -> TaskError | None:
    """The owner of a delegated task (the delegate may answer, not hand it on)."""
    if task.owner_id != user.pk:
        return NotTaskCandidate(
            "Only the one who delegated this task may hand it on or release it."
        )
    return None if task.is_open else _not_open(task)


def admin(user: Any, task: HumanTask) -> TaskError | None:
    """A process admin or a manager of its group (not the delegate)."""
    if not (permissions.can_reassign_any(user) or permissions.manages(user, task)):
        return NotTaskCandidate(
            "Only a process admin or a manager of its group may assign a "
            "delegated task."
        )
    return None if task.is_open else _not_open(task)


def planner(user: Any, task: HumanTask) -> TaskError | None:
    """A process admin, or the task's holder (assignee; a delegated task's owner)."""
    holder = task.owner_id or task.assignee_id
    if not (permissions.can_reassign_any(user) or holder == user.pk):
        return NotTaskCandidate(
            "Only a process admin or the task's assignee may change its "
            "due date or priority."
        )
    return None if task.is_open else _not_open(task)


def engine(user: Any, task: HumanTask) -> TaskError | None:
    """The engine itself (no user): the case moved on or ended."""
    if user is not None:
        return NotTaskCandidate("Only the engine cancels a task.")
    return None if task.is_open else _not_open(task)


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the lifecycle: `action` moves a task from `source` to `target`."""

    source: TaskState
    target: TaskState
    action: TaskAction
    who: Who


S, A = TaskState, TaskAction
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.OFFERED, S.CLAIMED, A.CLAIM, candidate),
    Transition(S.CLAIMED, S.OFFERED, A.RELEASE, releaser),
    Transition(S.DELEGATED, S.OFFERED, A.RELEASE, owner),
    Transition(S.OFFERED, S.COMPLETED, A.COMPLETE, candidate),
    Transition(S.CLAIMED, S.COMPLETED, A.COMPLETE, candidate),
    # The delegate's answer goes back to the owner, who completes the task.
    Transition(S.DELEGATED, S.CLAIMED, A.COMPLETE, candidate),
    Transition(S.OFFERED, S.DELEGATED, A.DELEGATE, candidate),
    Transition(S.CLAIMED, S.DELEGATED, A.DELEGATE, candidate),
    Transition(S.DELEGATED, S.DELEGATED, A.DELEGATE, owner),
    Transition(S.OFFERED, S.CLAIMED, A.ASSIGN, reassigner),
    Transition(S.CLAIMED, S.CLAIMED, A.ASSIGN, reassigner),
    Transition(S.DELEGATED, S.CLAIMED, A.ASSIGN, admin),
    Transition(S.OFFERED, S.OFFERED, A.PLAN, planner),
    Transition(S.CLAIMED, S.CLAIMED, A.PLAN, planner),
    Transition(S.DELEGATED, S.DELEGATED, A.PLAN, planner),
    Transition(S.OFFERED, S.CANCELLED, A.CANCEL, engine),
    Transition(S.CLAIMED, S.CANCELLED, A.CANCEL, engine),
    Transition(S.DELEGATED, S.CANCELLED, A.CANCEL, engine),
)
del S, A


def task_state(task: HumanTask) -> TaskState:
    """Return the lifecycle state of the task."""
    if task.status == HumanTask.Status.COMPLETED:
        return TaskState.COMPLETED
    if task.status == HumanTask.Status.CANCELLED:
        return TaskState.CANCELLED
    if task.assignee_id is None:
        return TaskState.OFFERED
    if task.owner_id is not None and task.owner_id != task.assignee_id:
        return TaskState.DELEGATED
    return TaskState.CLAIMED


def _row(task: HumanTask, action: TaskAction) -> Transition | None:
    state = task_state(task)
    return next(
        (t for t in TRANSITIONS if t.action is action and t.source is state), None
    )


def transition_check(
    *, user: Any, task: HumanTask, action: TaskAction
) -> Transition | None:
    """Return the transition the user may take, or None for an accepted no-op.

    Raises:
        NotTaskCandidate, TaskNotOpen, TaskAlreadyClaimed: the refusal of the
        action's "who may" predicate.
    """
    row = _row(task, action)
    who = row.who if row else next(t.who for t in TRANSITIONS if t.action is action)
    refusal = who(user, task)
    if refusal is not None:
        raise refusal
    return row


def actions_allowed(*, user: Any, task: HumanTask) -> list[TaskAction]:
    """Return the actions that would change the task if the user took them now.

    None while its case is suspended: every command on it answers 409 then.
    """
    if task.case.status == Case.Status.SUSPENDED:
        return []
    state = task_state(task)
    return list(
        dict.fromkeys(
            t.action
            for t in TRANSITIONS
            if t.source is state and t.action is not TaskAction.CANCEL
            if t.who(user, task) is None
        )
    )
