"""Who may start, see and cancel cases."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet
from guardian.shortcuts import get_objects_for_group

from engine.spiff import CompiledProcess
from processes.permissions import starters_admit

from .models import Case

VIEW_CASE = "engine.view_case"
VIEW_ANY_CASE = "engine.view_any_case"
CANCEL_ANY_CASE = "engine.cancel_any_case"
SIGNAL_RECEIVE = "engine.signal_receive"  # continue a receive task (an integration)


def can_start(user: Any, process: CompiledProcess) -> bool:
    """Return whether the user may start a case of this process (ARCHITECTURE §7)."""
    return starters_admit(user, process.meta, by_lane=True)


def can_start_by_event(user: Any, process: CompiledProcess) -> bool:
    """Return whether the user's message or signal may start a case of the process.

    The process's declared starters (camunda:candidateStarterGroups and
    candidateStarterUsers) decide, as for starting by hand (`can_start`), and
    superusers may. The start event's lane does not: the lane of a message or
    signal start event is who handles what arrives, not who sends it (the
    vendor's clerk receives the customer's order), and the sending system
    would otherwise have to join that group and be offered its tasks.
    """
    return starters_admit(user, process.meta, by_lane=False)


def manager_group_name(group: str) -> str:
    """Return the name of the group whose members manage `group` ("<group>-managers").

    Camunda has flat groups; Laneway reads a naming convention on top of them, so
    managers are set where groups are (the admin, an identity provider's sync):
    the members of "Manager-managers" manage the group "Manager".
    """
    return f"{group}{settings.TASKS_MANAGER_GROUP_SUFFIX}"


def managed_groups(user: Any) -> list[str]:
    """Return the names of the groups the user manages."""
    suffix = settings.TASKS_MANAGER_GROUP_SUFFIX
    names = user.groups.filter(name__endswith=suffix).values_list("name", flat=True)
    return sorted(name[: -len(suffix)] for name in names if name != suffix)


def managed_cases(user: Any) -> Q:
    """Return the cases the user sees as a group manager, as a filter on Case.

    Those where a group they manage was offered a task: the group holds
    VIEW_CASE on them from that offer (kept when the task closes, as its
    history), so the manager sees what they may act on.
    """
    where = Q(pk__in=[])
    for group in Group.objects.filter(name__in=managed_groups(user)):
        granted: QuerySet[Case] = get_objects_for_group(
            group, VIEW_CASE, klass=Case, accept_global_perms=False
        )
        where |= Q(pk__in=granted.values("pk"))
    return where


def can_view_case(user: Any, case: Case) -> bool:
    """Return whether the user may see the case.

    The starter, the participants, the managers of a group offered one of its
    tasks, auditors and admins may.
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    return (
        case.started_by_id == user.pk
        or user.has_perm(VIEW_ANY_CASE)
        or user.has_perm(VIEW_CASE, case)
        or Case.objects.filter(managed_cases(user), pk=case.pk).exists()
    )


def can_cancel_case(user: Any, case: Case) -> bool:
    """Return whether the user may cancel the case (its starter or process-admins)."""
    return case.started_by_id == user.pk or user.has_perm(CANCEL_ANY_CASE)
