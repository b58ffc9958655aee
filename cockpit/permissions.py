"""Who may look into the cockpit and who may repair cases.

The cockpit is for process owners (analysts, who deploy processes) and process
admins; repairs are for process admins only. Both are Django model permissions,
so superusers pass too.
"""

from typing import Any

VIEW_ANY_CASE = "engine.view_any_case"
DEPLOY_PROCESS = "processes.deploy_processversion"
# The permission that makes someone a process admin (cancel any case, ARCHITECTURE §7).
REPAIR_CASE = "engine.cancel_any_case"


def _active(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_view_cockpit(user: Any) -> bool:
    """Return whether the user may see process statistics and the dashboard."""
    return _active(user) and (
        user.has_perm(VIEW_ANY_CASE) or user.has_perm(DEPLOY_PROCESS)
    )


def can_repair_case(user: Any) -> bool:
    """Return whether the user may suspend, resume and edit cases (process admins)."""
    return _active(user) and user.has_perm(REPAIR_CASE)
