"""API authentication and throttles: tokens expire and logging out revokes them.

API tokens expire API_TOKEN_TTL_SECONDS after they were issued; the token endpoint then
issues a new one. Throttles read their rates from settings at request time.
"""

import functools
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
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


@functools.cache
def _token_statement(vendor: str) -> tuple[str, int] | None:
    """Return the SQL reading a token with its user, and how many of its columns
    are the token's; None where the backend converts what it reads (SQLite).

    The ORM's statement (DRF's `select_related("user").get(key=...)`), compiled
    once per process and database kind: compiling it took longer than running it
    (issue #16).
    """
    query = Token.objects.select_related("user").filter(key=_KEY).query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    width = len(compiler.klass_info["select_fields"])
    plain = params == (_KEY,) and not compiler.get_converters(
        [column for column, _, _ in compiler.select]
    )
    shape = len(_TOKEN_FIELDS), len(_TOKEN_FIELDS) + len(_user_fields())
    return (sql, width) if plain and (width, len(compiler.select)) == shape else None


_KEY = "stand-in for the key"
_TOKEN_FIELDS = [f.attname for f in Token._meta.concrete_fields]


def token_with_user(key: str) -> Token | None:
    """Return the token `key` with its user (one statement), or None."""
    statement = _token_statement(connection.vendor)
    if statement is None:
        return Token.objects.select_related("user").filter(key=key).first()
    sql, width = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    token = Token.from_db(connection.alias, _TOKEN_FIELDS, row[:width])
    token.user = get_user_model().from_db(connection.alias, _user_fields(), row[width:])
    return token


def _user_fields() -> list[str]:
    return [f.attname for f in get_user_model()._meta.concrete_fields]


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused once the token has expired."""

    def authenticate_credentials(self, key):
        # DRF's checks and messages, the token read by token_with_user.
        token = token_with_user(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
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
