"""Who may deploy and read process definitions."""

DEPLOY = "processes.deploy_processversion"


def can_deploy(user) -> bool:
    """Return whether the user may upload and deploy diagrams (analysts, superusers)."""
    return bool(user and user.is_active and user.has_perm(DEPLOY))
