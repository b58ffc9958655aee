"""Know who acts during a request, for changes reported by signals (group members)."""

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def request_actor() -> Any:
    """Return the signed-in user of the current request, or None (the system)."""
    request = _request.get()
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class AuditActorMiddleware:
    """Make the signed-in user the actor of audited changes that have no explicit one.

    Signals such as m2m_changed (a user's groups edited in Django admin) do not know
    the request; they read the actor from here. Outside a request it is None (system).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)  # the user is read only when a change needs it
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
