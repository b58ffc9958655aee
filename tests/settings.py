"""Test settings: the real PostgreSQL and Redis (scripts/test starts them)."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/laneway")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "laneway-tests-only")

# scripts/test runs the suite in two pytest-xdist processes. pytest-django gives each
# its own test database (test_<name>_gw0, _gw1); each gets its own Redis database here
# too, so one process's Celery worker never takes the other's tasks. Subprocesses
# (workers, beats, the conformance peer) inherit it. The shift is worked out from the
# URL the run was given (kept in LANEWAY_TESTS_REDIS_URL), so a subprocess inheriting
# the shifted URL and the worker name does not shift it again.
if (_xdist := os.environ.get("PYTEST_XDIST_WORKER", "")).startswith("gw"):
    _given = os.environ.setdefault("LANEWAY_TESTS_REDIS_URL", os.environ["REDIS_URL"])
    _base, _, _db = _given.rpartition("/")
    if not _db.isdigit():
        raise RuntimeError(f"REDIS_URL must end in a database number, not {_db!r}")
    os.environ["REDIS_URL"] = f"{_base}/{(int(_db) + int(_xdist[2:])) % 16}"

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ALLOWED_HOSTS = ["*"]
ENGINE_LOCK_TIMEOUT_MS = 5000
# Generous API throttles so the suite never trips them; tests of the throttles and of
# the sign-in lockout set their own limits with override_settings.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
}
