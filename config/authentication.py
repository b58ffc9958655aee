"""API authentication and throttles: tokens expire and logging out revokes them.

API tokens expire API_TOKEN_TTL_SECONDS after they were issued; the token endpoint then
issues a new one. Throttles read their rates from settings at request time.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

# --- tokens ------


def token_expired(token: Token) -> bool:
    """Return whether `token` is older than API_TOKEN_TTL_SECONDS."""
    ttl = timedelta(seconds=settings.API_TOKEN_TTL_SECONDS)
    return token.created <= timezone.now() - ttl


def token_issue(*, user) -> Token:
    """Return the user's live API token, replacing an expired one."""
    token = Token.objects.filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def token_revoke(*, user) -> None:
    """Delete the user's API token: a client holding it gets 401 from now on."""
    if user.is_authenticated:
        Token.objects.filter(user=user).delete()


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused once the token has expired."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed("The token has expired.")
        return user, token


class BearerTokenAuthentication(ExpiringTokenAuthentication):
    """`Authorization: Bearer <key>` with a Laneway API token (Camunda clients'
    bearer option)."""

    keyword = "Bearer"


class ThrottledBasicAuthentication(BasicAuthentication):
    """HTTP basic auth (what Camunda's clients send), counted like the login.

    The password is checked through Django's `authenticate` on the Django request,
    so django-axes counts failures and locks the username or address out as it
    does for the login form and the token endpoint (429, config.security).
    """

    def authenticate_credentials(self, userid, password, request=None):
        django_request = getattr(request, "_request", request)
        user = authenticate(django_request, username=userid, password=password)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        return user, None


# --- throttles ------


class _SettingsRate:
    # DRF binds THROTTLE_RATES when the module is imported; read the rate at
    # request time so the environment's (and a test's) setting applies.
    scope: str | None

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    """Requests per client address before authentication (the token endpoint)."""


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Requests per signed-in user."""
