"""Project READY human tasks into the inbox; claim, unclaim and complete them.

Lock order: the Case row first (engine.services.case_lock), then its HumanTask rows.
"""

from dataclasses import asdict
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from engine.forms import form_clean
from engine.services import case_complete_user_task, case_lock
from engine.spiff import (
    AdvanceOutcome,
    FormField,
    ReadyUserTask,
    resolve_candidates,
    resolve_due,
    resolve_priority,
)

from . import permissions
from .errors import (
    AssigneeInvalid,
    NotTaskCandidate,
    SeparationOfDuties,
    TaskAlreadyClaimed,
    TaskNotFound,
    TaskNotOpen,
)
from .models import HumanTask


def _audit(
    task: HumanTask, actor: Any, action: str, *, on_behalf_of: str = "", **payload: Any
) -> None:
    case = task.case
    audit_record(
        actor=actor,
        action=action,
        on_behalf_of=on_behalf_of,
        case_id=case.pk,
        process_key=case.version.definition.key,
        version_id=case.version_id,
        task_ref=f"{task.bpmn_id}:{task.pk}",
        payload={"task": str(task.pk), "name": task.name, **payload},
    )


def _create_task(case, ready: ReadyUserTask, data: dict) -> HumanTask:
    meta = ready.meta
    candidates = resolve_candidates(
        meta, data=data, initiator=case.started_by.get_username()
    )
    users, groups = permissions.principals_for(
        usernames=[
            *candidates.users,
            *([candidates.assignee] if candidates.assignee else []),
        ],
        group_names=candidates.groups,
    )
    assignee = next((u for u in users if u.get_username() == candidates.assignee), None)
    now = timezone.now()
    priority = resolve_priority(meta.priority, data=data)
    task = HumanTask.objects.create(
        due_at=resolve_due(meta.due_date, data=data, now=now),
        follow_up_at=resolve_due(meta.follow_up_date, data=data, now=now),
        priority=50 if priority is None else priority,
        case=case,
        spiff_task_id=ready.task_id,
        bpmn_id=ready.bpmn_id,
        name=ready.name,
        documentation=meta.documentation,
        lane=ready.lane or "",
        candidate_groups=list(candidates.groups),
        candidate_users=list(candidates.users),
        assignee=assignee,
        form=[asdict(f) for f in meta.form],
        separate_from=list(meta.separate_from),
    )
    permissions.grant_candidates(task, users=users, groups=groups)
    _audit(
        task,
        None,
        "task.created",
        lane=task.lane,
        candidate_groups=task.candidate_groups,
        candidate_users=task.candidate_users,
        assignee=candidates.assignee or None,
    )
    return task


def inbox_sync_for_case(
    *, case, outcome: AdvanceOutcome, actor: Any, completed_task_id: str | None = None
) -> None:
    """Open inbox tasks for newly READY human tasks and close the ones that left READY."""
    ready = {t.task_id: t for t in outcome.ready_user_tasks}
    open_tasks = list(
        case.human_tasks.select_for_update().filter(status=HumanTask.Status.OPEN)
    )
    now = timezone.now()
    for task in open_tasks:
        spiff_id = str(task.spiff_task_id)
        if spiff_id in ready:
            ready.pop(spiff_id)
        elif spiff_id == completed_task_id:
            task.status, task.completed_at, task.completed_by = (
                HumanTask.Status.COMPLETED,
                now,
                actor,
            )
            task.save(update_fields=["status", "completed_at", "completed_by"])
        else:
            task.status, task.completed_at = HumanTask.Status.CANCELLED, now
            task.save(update_fields=["status", "completed_at"])
            _audit(task, None, "task.cancelled")
    for item in ready.values():
        _create_task(case, item, outcome.data)


def _locked_task(*, user: Any, task_id: UUID | str) -> HumanTask:
    """Lock the task's case, then the task; check the user may see it."""
    try:
        case_id = HumanTask.objects.values_list("case_id", flat=True).get(pk=task_id)
    except (HumanTask.DoesNotExist, ValueError):
        raise TaskNotFound("No such task.") from None
    case = case_lock(case_id=case_id)
    task = HumanTask.objects.select_for_update().get(pk=task_id)
    task.case = case
    if not permissions.can_view(user, task):
        raise TaskNotFound("No such task.")
    return task


def _check_can_act(user: Any, task: HumanTask) -> None:
    if not permissions.can_work(user, task):
        raise NotTaskCandidate("You are not a candidate for this task.")
    if not task.is_open:
        raise TaskNotOpen(f"This task is already {task.get_status_display().lower()}.")
    if task.assignee_id is not None and task.assignee_id != user.pk:
        raise TaskAlreadyClaimed(
            f"This task is already claimed by {task.assignee.get_username()}.",
            details={"assignee": task.assignee.get_username()},
        )


def _claim(user: Any, task: HumanTask) -> None:
    if task.assignee_id is None:
        task.assignee = user
        task.save(update_fields=["assignee"])
        _audit(task, user, "task.claimed")


@transaction.atomic
def task_claim(*, user: Any, task_id: UUID | str) -> HumanTask:
    """Claim an open task for the user.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, TaskAlreadyClaimed, CaseBusy.
    """
    task = _locked_task(user=user, task_id=task_id)
    _check_can_act(user, task)
    _claim(user, task)
    return task


@transaction.atomic
def task_unclaim(*, user: Any, task_id: UUID | str) -> HumanTask:
    """Give a claimed task back to its candidates.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, TaskAlreadyClaimed, CaseBusy.
    """
    task = _locked_task(user=user, task_id=task_id)
    _check_can_act(user, task)
    if task.assignee_id is not None:
        if not (task.candidate_groups or task.candidate_users):
            raise TaskNotOpen(
                "This task is assigned to you personally and cannot be released."
            )
        task.assignee = None
        task.save(update_fields=["assignee"])
        _audit(task, user, "task.unclaimed")
    return task


def _check_separation(user: Any, task: HumanTask) -> None:
    rules = set(task.separate_from)
    if "initiator" in rules and task.case.started_by_id == user.pk:
        raise SeparationOfDuties(
            "You started this case, so someone else must decide this task."
        )
    others = rules - {"initiator"}
    if (
        others
        and HumanTask.objects.filter(
            case=task.case, bpmn_id__in=others, completed_by=user
        ).exists()
    ):
        raise SeparationOfDuties(
            "You completed an earlier step of this case, so someone "
            "else must decide this task."
        )


@transaction.atomic
def task_complete(*, user: Any, task_id: UUID | str, data: dict[str, Any]) -> HumanTask:
    """Complete a task with form data (claiming it first if unclaimed) and advance the case.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, TaskAlreadyClaimed, SeparationOfDuties,
        FormInvalid, CaseBusy, CaseNotRunning.
    """
    task = _locked_task(user=user, task_id=task_id)
    _check_can_act(user, task)
    _check_separation(user, task)
    cleaned = form_clean(
        [
            FormField(**{**f, "options": tuple(map(tuple, f["options"]))})
            for f in task.form
        ],
        data,
    )
    _claim(user, task)
    if task.owner_id is not None and task.owner_id != user.pk:
        return _resolve(user, task, cleaned)
    case_complete_user_task(
        case=task.case,
        spiff_task_id=str(task.spiff_task_id),
        data=cleaned,
        actor=user,
        task_ref=f"{task.bpmn_id}:{task.pk}",
    )
    task.refresh_from_db()
    return task


def _resolve(user: Any, task: HumanTask, data: dict[str, Any]) -> HumanTask:
    """A delegate's answer goes back to the owner, who completes the task."""
    task.draft, task.assignee, task.owner = data, task.owner, None
    task.save(update_fields=["draft", "assignee", "owner"])
    owner = task.assignee.get_username()
    _audit(task, user, "task.resolved", on_behalf_of=owner, data=data, owner=owner)
    return task


def _candidate_named(username: str, task: HumanTask) -> Any:
    target = get_user_model().objects.filter(username=username, is_active=True).first()
    if target is None:
        raise AssigneeInvalid(
            f"There is no active user '{username}'.",
            details={"fields": {"user": ["Unknown user."]}},
        )
    return target


@transaction.atomic
def task_assign(*, user: Any, task_id: UUID | str, assignee: str) -> HumanTask:
    """Assign an open task to one of its candidates.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, AssigneeInvalid, CaseBusy.
    """
    task = _locked_task(user=user, task_id=task_id)
    if not permissions.can_reassign(user, task):
        raise NotTaskCandidate(
            "Only a process admin or the task's assignee may assign it."
        )
    if not task.is_open:
        raise TaskNotOpen(f"This task is already {task.get_status_display().lower()}.")
    target = _candidate_named(assignee, task)
    if not permissions.can_work(target, task):
        raise AssigneeInvalid(
            f"{assignee} is not a candidate for this task.",
            details={"fields": {"user": ["Not a candidate for this task."]}},
        )
    previous = task.assignee.get_username() if task.assignee else None
    task.assignee, task.owner = target, None
    task.save(update_fields=["assignee", "owner"])
    _audit(task, user, "task.assigned", assignee=assignee, previous=previous)
    return task


@transaction.atomic
def task_delegate(*, user: Any, task_id: UUID | str, delegate: str) -> HumanTask:
    """Hand a task to someone else for an answer; it comes back to the user to complete.

    Raises:
        TaskNotFound, NotTaskCandidate, TaskNotOpen, TaskAlreadyClaimed, AssigneeInvalid.
    """
    task = _locked_task(user=user, task_id=task_id)
    _check_can_act(user, task)
    target = _candidate_named(delegate, task)
    if target.pk == user.pk:
        raise AssigneeInvalid(
            "Delegate to someone else.", details={"fields": {"user": ["That is you."]}}
        )
    task.owner, task.assignee = user, target
    task.save(update_fields=["owner", "assignee"])
    permissions.grant_candidates(task, users=[target], groups=[])
    _audit(task, user, "task.delegated", delegate=delegate)
    return task


def user_by_name(username: str) -> Any:
    """Return the active user with this username (for management commands)."""
    return get_user_model().objects.get(username=username, is_active=True)
