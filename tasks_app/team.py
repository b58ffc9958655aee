"""The team view of group managers: the open tasks of the groups they manage.

The members of "<group>-managers" (TASKS_MANAGER_GROUP_SUFFIX) manage "<group>":
they see its open tasks here and may assign them to its members
(permissions.manages), as process admins may for every task.
"""

from typing import Any

from django.contrib.auth.models import Group
from django.db.models import F, Q, QuerySet
from guardian.shortcuts import get_objects_for_group

from engine.permissions import managed_groups

from .models import HumanTask
from .permissions import WORK

_URGENT = (F("priority").desc(), F("due_at").asc(nulls_last=True), "created_at")


def team_list_for_manager(*, user: Any) -> QuerySet[HumanTask]:
    """Return the open tasks offered to the groups the user manages, urgent first."""
    offered = Q(pk__in=[])
    for group in Group.objects.filter(name__in=managed_groups(user)):
        tasks = get_objects_for_group(
            group, WORK, klass=HumanTask, accept_global_perms=False
        )
        offered |= Q(pk__in=tasks.values("pk"))
    return (
        HumanTask.objects.filter(offered, status=HumanTask.Status.OPEN)
        .select_related("case__version__definition", "case__started_by", "assignee")
        .defer("form", "draft", "local_data", "documentation", "case__data")
        .order_by(*_URGENT)
    )
