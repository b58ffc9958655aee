"""Who may deploy and read process definitions."""

from typing import Any

DEPLOY = "processes.deploy_processversion"


def can_deploy(user: Any) -> bool:
    """Return whether the user may upload and deploy diagrams (analysts, superusers)."""
    return bool(user and user.is_active and user.has_perm(DEPLOY))
