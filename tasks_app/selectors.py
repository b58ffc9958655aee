"""Read human tasks: the inbox and single tasks, permission-filtered."""

from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet
from django.contrib.auth.models import Group
from guardian.shortcuts import get_objects_for_group, get_objects_for_user

from .errors import TaskNotFound
from .models import HumanTask
from .permissions import WORK, can_view


def inbox_list_for_user(
    *, user: Any, case_id: str | None = None, assigned_to_me: bool = False,
    group: str | None = None,
) -> QuerySet[HumanTask]:
    """Return open tasks assigned to the user or offered to them and not claimed by another."""
    offered = get_objects_for_user(
        user, WORK, klass=HumanTask, accept_global_perms=False, with_superuser=False
    ).values("pk")
    qs = HumanTask.objects.filter(status=HumanTask.Status.OPEN).filter(
        Q(assignee=user) | (Q(assignee__isnull=True) & Q(pk__in=offered))
    )
    if assigned_to_me:
        qs = qs.filter(assignee=user)
    if case_id:
        qs = qs.filter(case_id=case_id)
    if group:
        qs = qs.filter(pk__in=_offered_to_group(group))
    return qs.select_related("case__version__definition", "case__started_by", "assignee").order_by(
        "-priority", "created_at"
    )


def _offered_to_group(name: str) -> QuerySet:
    group = Group.objects.filter(name=name).first()
    if group is None:
        return HumanTask.objects.none().values("pk")
    return get_objects_for_group(group, WORK, klass=HumanTask, accept_global_perms=False).values(
        "pk"
    )


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
    """Return the case's tasks the user may see (open first)."""
    tasks = case.human_tasks.select_related("assignee", "completed_by").order_by(
        "status", "-created_at"
    )
    return [t for t in tasks if can_view(user, t) or t.case.started_by_id == user.pk]
