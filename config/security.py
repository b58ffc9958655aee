"""Sign-in protection: the lockout response and a logout that revokes the API token.

Failed sign-ins are counted by django-axes (per username and per client address, on the
login form and the token endpoint alike); `lockout_response` is what a locked-out client
gets (settings.AXES_LOCKOUT_CALLABLE).
"""

from datetime import timedelta

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from engine.json_safety import UNSTORABLE

from .authentication import token_revoke
from .errors import camunda_error_body, error_body, error_response, wants_json

LOCKED_OUT = "Too many failed sign-ins. Try again in {minutes} minutes."
NUL_MESSAGE = "Must not contain NUL characters (\\u0000)."


class LogoutView(auth_views.LogoutView):
    """Log out of the web session and revoke the user's API token with it."""

    def post(self, request, *args, **kwargs):
        token_revoke(user=request.user)
        return super().post(request, *args, **kwargs)


# --- lockout ------


def client_address(request: HttpRequest) -> str | None:
    """Return the client's address as the outermost trusted proxy saw it.

    Each proxy appends the address it received the request from to X-Forwarded-For,
    so of the last TRUSTED_PROXY_COUNT entries the first is the client; entries before
    it are whatever the client sent and prove nothing.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if count and len(hops) >= count:
        return hops[-count]
    return request.META.get("REMOTE_ADDR")


def lockout_message(request: HttpRequest) -> tuple[str, int]:
    """Return the lockout message and the seconds until the client may try again."""
    cool_off = get_cool_off(request) or timedelta(0)
    seconds = int(cool_off.total_seconds())
    return LOCKED_OUT.format(minutes=max(1, round(seconds / 60))), seconds


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """Answer a locked-out sign-in: 429 JSON for the API, the login page otherwise."""
    message, seconds = lockout_message(request)
    response: HttpResponse
    body = error_body("login_locked_out", message, {"retry_after": seconds})
    if request.path.startswith("/engine-rest/"):  # Camunda's clients read this shape
        response = JsonResponse(camunda_error_body(429, body), status=429)
    elif wants_json(request):
        response = JsonResponse(body, status=429)
    else:
        context = {"form": AuthenticationForm(request), "lockout": message}
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


# --- unstorable URLs ------------------------------------------------------------------


def unstorable_url_part(request: HttpRequest) -> str | None:
    """Return the name of the path or query parameter that holds a NUL, if any."""
    if UNSTORABLE.search(request.path):
        return "path"
    for name, values in request.GET.lists():
        if UNSTORABLE.search(name) or any(UNSTORABLE.search(v) for v in values):
            return name
    return None


class RejectUnstorableUrlMiddleware:
    """Answer 400 naming the part of the URL PostgreSQL could not compare (a NUL)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = unstorable_url_part(request)
        if field is None:
            return self.get_response(request)
        body = error_body("invalid", NUL_MESSAGE, {"fields": {field: [NUL_MESSAGE]}})
        return error_response(request, 400, body)
