"""Template context for every page: the open-incident count in the top bar."""

from typing import Any

from django.http import HttpRequest

from . import selectors


def incidents(request: HttpRequest) -> dict[str, Any]:
    """Offer process admins the open-incident count (counted only if shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if not user.has_perm("engine.view_incident"):
        return {}
    return {"open_incident_count": lambda: selectors.incident_open_count(user=user)}
