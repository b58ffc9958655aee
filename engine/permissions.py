"""Who may start, see and cancel cases."""

from typing import Any

from engine.spiff import CompiledProcess

from .models import Case

VIEW_CASE = "engine.view_case"
VIEW_ANY_CASE = "engine.view_any_case"
CANCEL_ANY_CASE = "engine.cancel_any_case"


def can_start(user: Any, process: CompiledProcess) -> bool:
    """Return whether the user may start a case of this process (ARCHITECTURE §7)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    meta = process.meta
    groups = set(meta.candidate_starter_groups)
    users = set(meta.candidate_starter_users)
    if meta.start is not None and meta.start.lane and not (groups or users):
        groups = {meta.start.lane.strip()}
    if not (groups or users):
        return True
    if user.get_username() in users:
        return True
    return not groups.isdisjoint(_group_names(user))


def _group_names(user: Any) -> frozenset[str]:
    # Cached on the user object for its lifetime (a request, a command), as Django
    # caches permissions, so listing startable processes is one query, not one each.
    names = getattr(user, "_laneway_group_names", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True))
        user._laneway_group_names = names
    return names


def can_view_case(user: Any, case: Case) -> bool:
    """Return whether the user may see the case.

    The starter, the participants, auditors and admins may.
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    return (
        case.started_by_id == user.pk
        or user.has_perm(VIEW_ANY_CASE)
        or user.has_perm(VIEW_CASE, case)
    )


def can_cancel_case(user: Any, case: Case) -> bool:
    """Return whether the user may cancel the case (its starter or process-admins)."""
    return case.started_by_id == user.pk or user.has_perm(CANCEL_ANY_CASE)
