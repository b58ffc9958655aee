"""Read human tasks: the inbox and single tasks, permission-filtered."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib.auth.models import Group
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_group, get_objects_for_user

from engine.selectors import CaseCounts, case_counts_for_user
from engine.spec_cache import spec_for

from .errors import TaskNotFound
from .lifecycle import TaskAction, actions_allowed, separated
from .models import HumanTask
from .permissions import VIEW, WORK, can_view


def inbox_list_for_user(
    *,
    user: Any,
    case_id: str | None = None,
    assigned_to_me: bool = False,
    unclaimed: bool = False,
    group: str | None = None,
    overdue: bool = False,
) -> QuerySet[HumanTask]:
    """Return open tasks assigned to the user, or offered to them and unclaimed.

    Highest priority first, then the earliest due (tasks without a due date last).
    """
    offered = get_objects_for_user(
        user, WORK, klass=HumanTask, accept_global_perms=False, with_superuser=False
    ).values("pk")
    qs = (
        HumanTask.objects.filter(status=HumanTask.Status.OPEN)
        .filter(Q(assignee=user) | (Q(assignee__isnull=True) & Q(pk__in=offered)))
        .exclude(barred=user)
    )
    if assigned_to_me:
        qs = qs.filter(assignee=user)
    if unclaimed:
        qs = qs.filter(assignee__isnull=True)
    if overdue:
        qs = qs.filter(due_at__lt=timezone.now())
    if case_id:
        qs = qs.filter(case_id=case_id)
    if group:
        qs = qs.filter(pk__in=_offered_to_group(group))
    return qs.select_related(
        "case__version__definition", "case__started_by", "assignee"
    ).order_by("-priority", F("due_at").asc(nulls_last=True), "created_at")


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The dashboard's figures: the user's inbox, and the case counts."""

    assigned: int
    offered: int
    overdue: int
    cases: CaseCounts
    since: datetime


def dashboard_for_user(*, user: Any, days: int = 7) -> Dashboard:
    """Count the user's inbox (assigned, offered, overdue) and the recent cases."""
    now = timezone.now()
    tasks = inbox_list_for_user(user=user).aggregate(
        assigned=Count("pk", filter=Q(assignee=user)),
        offered=Count("pk", filter=Q(assignee__isnull=True)),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
    )
    since = now - timedelta(days=days)
    return Dashboard(
        assigned=tasks["assigned"],
        offered=tasks["offered"],
        overdue=tasks["overdue"],
        cases=case_counts_for_user(user=user, since=since),
        since=since,
    )


def _offered_to_group(name: str) -> QuerySet:
    group = Group.objects.filter(name=name).first()
    if group is None:
        return HumanTask.objects.none().values("pk")
    return get_objects_for_group(
        group, WORK, klass=HumanTask, accept_global_perms=False
    ).values("pk")


def task_get_for_user(*, user: Any, task_id: UUID | str) -> HumanTask:
    """Return a task the user may see.

    Raises:
        TaskNotFound: when it does not exist or the user may not see it.
    """
    try:
        task = HumanTask.objects.select_related(
            "case__version__definition", "case__started_by", "assignee", "completed_by"
        ).get(pk=task_id)
    except (HumanTask.DoesNotExist, ValueError):
        raise TaskNotFound("No such task.") from None
    if not can_view(user, task):
        raise TaskNotFound("No such task.")
    return task


def task_list_for_case(*, case: Any, user: Any) -> list[HumanTask]:
    """Return the case's tasks the user may see (open first).

    The case's starter sees every task of it (what the case waits for), without
    being able to open the ones offered to others.
    """
    tasks = case.human_tasks.select_related("assignee", "completed_by").order_by(
        "status", "-created_at"
    )
    if case.started_by_id == user.pk or user.has_perm(VIEW):
        return list(tasks)
    granted = (
        get_objects_for_user(
            user, VIEW, klass=HumanTask, accept_global_perms=False, with_superuser=False
        )
        .filter(case=case)
        .values("pk")
    )
    return list(tasks.filter(Q(assignee=user) | Q(pk__in=granted)))


@dataclass(frozen=True, slots=True)
class TaskActions:
    """What the user may do with a task now (for showing only usable buttons)."""

    complete: bool
    claim: bool
    release: bool
    separated: str  # why separation of duties bars the user, or ""


def task_actions_for_user(*, user: Any, task: HumanTask) -> TaskActions:
    """Return the buttons to show: lifecycle actions that would change the task."""
    allowed = actions_allowed(user=user, task=task)
    refusal = separated(user, task) if task.is_open else None
    return TaskActions(
        complete=TaskAction.COMPLETE in allowed,
        claim=TaskAction.CLAIM in allowed,
        release=TaskAction.RELEASE in allowed,
        separated=refusal.message if refusal else "",
    )


def task_form_initial(*, task: HumanTask) -> dict[str, Any]:
    """Return the values to prefill the task's form with.

    Fields that another form of the process also asks for (a request being
    revised) come from the case data, and a delegate's draft wins; this task's own
    earlier answers (a previous review round) are not offered again.
    """
    process = spec_for(task.case.version)
    shared: set[str] = set()
    for meta in (process.meta.start, *process.task_meta.values()):
        if meta is not None and meta.bpmn_id != task.bpmn_id:
            shared.update(field.id for field in meta.form)
    initial = {key: value for key, value in task.case.data.items() if key in shared}
    return {**initial, **(task.draft or {})}
