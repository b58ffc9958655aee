"""API authentication and throttles: tokens expire and logging out revokes them.

API tokens expire API_TOKEN_TTL_SECONDS after they were issued; the token endpoint then
issues a new one. Throttles read their rates from settings at request time.
"""

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from common.sql import select_compiled

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


def token_with_user(key: str) -> Token | None:
    """Return the token `key` with its user (one statement), or None.

    DRF's `select_related("user").get(key=...)`, compiled once
    (common.sql.select_compiled): compiling it took longer than running it
    (issue #16). Nothing is cached but the SQL: a deleted token or a deactivated
    user is refused on the next request.
    """
    found = select_compiled(("token_with_user",), _token_of_key, str(key))
    return found[0] if found else None


def _token_of_key(key: str):
    return Token.objects.select_related("user").filter(key=key)


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
    """Requests per signed-in user.

    With a Redis cache the history is a sorted set of request times, trimmed,
    counted and added to by one script: one round trip per request where DRF
    reads and writes the pickled list (two). The window, the refusal and
    Retry-After are DRF's; the script is atomic, so concurrent requests of one
    user no longer overwrite each other's entries.
    """

    _log: tuple[int, float] | None = None  # requests in the window, the oldest
    num_requests: int  # DRF sets them from the rate
    duration: int

    def allow_request(self, request, view):
        client = _redis_client()
        if client is None or self.rate is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        allowed, count, oldest = _throttle_log(
            client,
            self.cache.make_and_validate_key(f"{self.key}:log"),
            [
                repr(self.now),
                self.duration,
                self.num_requests,
                f"{self.now!r}:{secrets.token_hex(4)}",
            ],
        )
        self._log = int(count), float(oldest)
        return bool(allowed) or self.throttle_failure()

    def wait(self):
        if self._log is None:
            return super().wait()
        count, oldest = self._log
        remaining = self.duration - (self.now - oldest) if count else self.duration
        available = self.num_requests - count + 1
        return remaining / float(available) if available > 0 else None


# KEYS[1]: the user's log; ARGV: now, duration (s), allowed requests, a member.
# Drops the times at or before now - duration (as DRF), refuses when as many as
# allowed remain, else adds now. Returns allowed?, the count before, the oldest.
_THROTTLE_LUA = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or '0'
if count >= tonumber(ARGV[3]) then
  return {0, count, oldest}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {1, count, oldest}
"""


def _redis_client() -> Any:
    """Return a client of the default cache's Redis, or None for another cache.

    Kept on the cache object (Django's are per thread): Django makes a new
    `redis.Redis` for every call, ~0.1 ms of Python each (its table of response
    callbacks); the connection pool under it is the cache's own, either way.
    """
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = getattr(backend, _CLIENT_ATTR, None)
    if client is None:
        # Django's own client of the cache's servers (a private attribute,
        # stable since Django 4.0); the script needs the connection, not the
        # cache API.
        client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
        setattr(backend, _CLIENT_ATTR, client)
    return client


_CLIENT_ATTR = "_laneway_throttle_client"


_scripts: list[Any] = []  # the registered script, run with each call's client


def _throttle_log(client: Any, key: str, args: list[Any]) -> Any:
    if not _scripts:
        _scripts.append(client.register_script(_THROTTLE_LUA))
    return _scripts[0](keys=[key], args=args, client=client)
