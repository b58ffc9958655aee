"""Who may deploy and read process definitions, and who may start a version."""

from typing import Any

from engine.spiff import ParsedProcess

DEPLOY = "processes.deploy_processversion"


def can_deploy(user: Any) -> bool:
    """Return whether the user may upload and deploy diagrams (analysts, superusers)."""
    return bool(user and user.is_active and user.has_perm(DEPLOY))


def starters_admit(user: Any, meta: ParsedProcess, *, by_lane: bool) -> bool:
    """Return whether the process's starters include the user (ARCHITECTURE §7).

    Its camunda:candidateStarterGroups and candidateStarterUsers, else (`by_lane`)
    the start event's lane, else everyone signed in; superusers always.
    engine.permissions.can_start and can_start_by_event ask this, and the
    version page (processes.staffing.version_start_offer) too.
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    groups = set(meta.candidate_starter_groups)
    users = set(meta.candidate_starter_users)
    lane = meta.start.lane if by_lane and meta.start is not None else None
    if lane and not (groups or users):
        groups = {lane.strip()}
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
