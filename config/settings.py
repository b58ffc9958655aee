"""Laneway settings: every value comes from the environment (see .env.example)."""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "laneway-insecure-development-key"
ALLOWED_HOSTS = [
    h.strip()
    for h in (env("ALLOWED_HOSTS") or "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in (env("CSRF_TRUSTED_ORIGINS") or "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "guardian",
    "audit",
    "processes",
    "engine",
    "tasks_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.errors.DomainErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "engine.context_processors.incidents",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'laneway.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # The quick start runs a web server and a worker side by side on one file:
    # WAL lets them read while the other writes, IMMEDIATE takes the write lock
    # at BEGIN so two writers queue instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = (
    True  # serve app/static files without collectstatic (quick start)
)
STATICFILES_DIRS: list = [BASE_DIR / "static"]
# The BPMN diagram viewer, installed by npm (package.json); absent until `npm ci` ran.
_BPMN_JS = BASE_DIR / "node_modules" / "bpmn-js" / "dist"
if _BPMN_JS.is_dir():
    STATICFILES_DIRS.append(("vendor/bpmn-js", _BPMN_JS))

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.StorableJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Laneway API",
    "DESCRIPTION": "BPMN approval workflows: processes, cases, tasks, audit.",
    "VERSION": "1",
}

CELERY_BROKER_URL = env("REDIS_URL") or "redis://127.0.0.1:6379/0"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

ENGINE_OUTBOX_STALE_SECONDS = env_int("ENGINE_OUTBOX_STALE_SECONDS", 60)
ENGINE_SWEEP_SECONDS = env_int("ENGINE_SWEEP_SECONDS", 15)
# Service calls: attempts before an incident; backoff base in seconds
# (delay = base * 2**(attempt-1), capped); soft time limit of one call in seconds.
ENGINE_SERVICE_MAX_ATTEMPTS = env_int("ENGINE_SERVICE_MAX_ATTEMPTS", 3)
ENGINE_SERVICE_BACKOFF_SECONDS = float(env("ENGINE_SERVICE_BACKOFF_SECONDS") or 2)
ENGINE_SERVICE_BACKOFF_MAX_SECONDS = float(
    env("ENGINE_SERVICE_BACKOFF_MAX_SECONDS") or 3600
)
ENGINE_SERVICE_TIMEOUT_SECONDS = float(env("ENGINE_SERVICE_TIMEOUT_SECONDS") or 30)
AUDIT_CHECKPOINT_SECONDS = env_int("AUDIT_CHECKPOINT_SECONDS", 3600)
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "engine.outbox_sweep", "schedule": ENGINE_SWEEP_SECONDS},
    "timer-sweep": {"task": "engine.timers_fire_due", "schedule": ENGINE_SWEEP_SECONDS},
    "audit-checkpoint": {
        "task": "audit.checkpoint",
        "schedule": AUDIT_CHECKPOINT_SECONDS,
    },
}

# Service-task operations: {name used in diagrams: dotted path of the callable}.
# ENGINE_SERVICE_OPERATIONS='{"erp.create_po": "myapp.ops.create_po"}' (JSON) adds to the built-ins.
ENGINE_SERVICE_OPERATIONS = {
    "laneway.echo": "engine.operations.echo",
    **json.loads(env("ENGINE_SERVICE_OPERATIONS") or "{}"),
}

# Engine settings (validated by system checks).
ENGINE_LOCK_TIMEOUT_MS = env_int("ENGINE_LOCK_TIMEOUT_MS", 5000)
ENGINE_SCRIPT_TIME_LIMIT_MS = env_int("ENGINE_SCRIPT_TIME_LIMIT_MS", 1000)
PROCESSES_UPLOAD_MAX_BYTES = env_int("PROCESSES_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = PROCESSES_UPLOAD_MAX_BYTES + 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL") or "INFO"},
    # SpiffWorkflow logs every task state change at INFO.
    "loggers": {"spiff": {"level": "WARNING"}, "spiff.metrics": {"level": "WARNING"}},
}
