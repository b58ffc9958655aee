"""Laneway settings: every value comes from the environment (see .env.example)."""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
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
    return int(value) if value else default


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
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "audit",
    "processes",
    "engine",
    "tasks_app",
    "cockpit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body: refuse one over DATA_UPLOAD_MAX_MEMORY_SIZE.
    "config.request_limits.RequestBodyLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security.RejectUnstorableUrlMiddleware",
    "config.errors.DomainErrorMiddleware",
    # Last: a sign-in refused by django-axes becomes config.security.lockout_response.
    "axes.middleware.AxesMiddleware",
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
        # Persistent connections: opening one costs more than a whole human step
        # (issue #16); the health check replaces a connection the server dropped.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
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
    # The inbox's covering index (`include=`) is PostgreSQL's; on the quick start's
    # SQLite it is a plain index, which is all it needs: no warning at every start.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out sign-ins
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Brute-force protection (django-axes): after LOGIN_FAILURE_LIMIT failed sign-ins for
# one username, or from one address, both the login form and POST /api/v1/auth/token/
# answer 429 for LOGIN_LOCKOUT_SECONDS, even with the right password.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("LOGIN_LOCKOUT_SECONDS", 900))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Failures expire after the cool-off; a success does not wipe them: axes would wipe
# every failure from the address too, so one valid account would reset the count of
# guesses at everyone else's.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
# The client address (for lockouts and throttles) is REMOTE_ADDR, or with
# TRUSTED_PROXY_COUNT proxies in front of Laneway the address the outermost one saw
# (config.security.client_address; DRF's NUM_PROXIES).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "config.security.client_address"

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
# The cockpit's charts (Chart.js, package.json), served the same way.
_CHART_JS = BASE_DIR / "node_modules" / "chart.js" / "dist"
if _CHART_JS.is_dir():
    STATICFILES_DIRS.append(("vendor/chart.js", _CHART_JS))
# Camunda Forms (form-js JSON) render with the form-js viewer, served the same way.
_FORM_JS = BASE_DIR / "node_modules" / "@bpmn-io" / "form-js" / "dist"
if _FORM_JS.is_dir():
    STATICFILES_DIRS.append(("vendor/form-js", _FORM_JS))

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "config.authentication.AnonThrottle",
        "config.authentication.UserThrottle",
    ],
    # Unset, DRF would key anonymous throttles on the whole X-Forwarded-For header,
    # which a client forges freely to get a fresh allowance per request.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON") or "60/minute",
        "user": env("API_THROTTLE_USER") or "1200/minute",
    },
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.schema.ErrorsAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# An API token expires this many seconds after it was issued (logging out revokes it).
API_TOKEN_TTL_SECONDS = env_int("API_TOKEN_TTL_SECONDS", 24 * 3600)
# How deeply a JSON request body may nest objects and arrays (deeper: 400, field named).
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 64)
# Start, task and message data (and a correlation): at most this many bytes of JSON.
ENGINE_MAX_DATA_BYTES = env_int("ENGINE_MAX_DATA_BYTES", 1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Laneway API",
    "DESCRIPTION": "BPMN approval workflows: processes, cases, tasks, audit.",
    "VERSION": "1",
    # Swagger UI from the drf-spectacular-sidecar package, served by whitenoise: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# With REDIS_URL set, Celery uses that Redis. Unset (the quick start), web, worker and
# beat exchange messages through files in ENGINE_BROKER_DIR (default: broker/ next to
# the SQLite file): a real worker and beat, no Redis server (config/broker.py).
if REDIS_URL := env("REDIS_URL"):
    CELERY_BROKER_URL = REDIS_URL
else:
    BROKER_DIR = Path(
        env("ENGINE_BROKER_DIR")
        or (
            Path(DATABASES["default"]["NAME"]).parent / "broker"
            if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
            else BASE_DIR / "var" / "broker"
        )
    )
    (BROKER_DIR / "queue").mkdir(parents=True, exist_ok=True)
    (BROKER_DIR / "control").mkdir(exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "polling_interval": 0.2,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

ENGINE_OUTBOX_STALE_SECONDS = env_int("ENGINE_OUTBOX_STALE_SECONDS", 60)
ENGINE_SWEEP_SECONDS = env_int("ENGINE_SWEEP_SECONDS", 15)
# A timer due within this many seconds gets a Celery task with its moment as eta, so
# it fires on time rather than at the next sweep (engine/services/timer_wake.py);
# 0: timers fire at the sweep only. Default: two sweep intervals.
ENGINE_TIMER_WAKE_SECONDS = env_int(
    "ENGINE_TIMER_WAKE_SECONDS", 2 * ENGINE_SWEEP_SECONDS
)
# Service calls: attempts before an incident; backoff base in seconds
# (delay = base * 2**(attempt-1), capped); soft time limit of one call in seconds.
ENGINE_SERVICE_MAX_ATTEMPTS = env_int("ENGINE_SERVICE_MAX_ATTEMPTS", 3)
ENGINE_SERVICE_BACKOFF_SECONDS = float(env("ENGINE_SERVICE_BACKOFF_SECONDS") or 2)
ENGINE_SERVICE_BACKOFF_MAX_SECONDS = float(
    env("ENGINE_SERVICE_BACKOFF_MAX_SECONDS") or 3600
)
ENGINE_SERVICE_TIMEOUT_SECONDS = float(env("ENGINE_SERVICE_TIMEOUT_SECONDS") or 30)
# External tasks (/engine-rest/external-task/fetchAndLock): the longest a long poll
# (asyncResponseTimeout) holds its request, and how often it looks for work meanwhile.
ENGINE_EXTERNAL_TASK_MAX_WAIT_SECONDS = float(
    env("ENGINE_EXTERNAL_TASK_MAX_WAIT_SECONDS") or 30
)
ENGINE_EXTERNAL_TASK_POLL_SECONDS = float(
    env("ENGINE_EXTERNAL_TASK_POLL_SECONDS") or 0.5
)
# Hard time limit of one call: the worker process running it is killed and the call
# counts as a technical failure (retried, then an incident). At least soft + 1 s.
ENGINE_SERVICE_HARD_TIMEOUT_SECONDS = float(
    env("ENGINE_SERVICE_HARD_TIMEOUT_SECONDS") or ENGINE_SERVICE_TIMEOUT_SECONDS + 15
)
AUDIT_CHECKPOINT_SECONDS = env_int("AUDIT_CHECKPOINT_SECONDS", 3600)
# The longest a message sent with "ttl_s" is kept for a case to wait for it.
ENGINE_MESSAGE_TTL_MAX_SECONDS = env_int(
    "ENGINE_MESSAGE_TTL_MAX_SECONDS", 7 * 24 * 3600
)
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "engine.outbox_sweep", "schedule": ENGINE_SWEEP_SECONDS},
    "migrations-sweep": {
        "task": "cockpit.migrations_sweep",
        "schedule": ENGINE_SWEEP_SECONDS,
    },
    "timer-sweep": {"task": "engine.timers_fire_due", "schedule": ENGINE_SWEEP_SECONDS},
    "message-expiry": {
        "task": "engine.message_buffers_expire",
        "schedule": ENGINE_SWEEP_SECONDS,
    },
    "tasks-overdue": {
        "task": "tasks_app.overdue_remind",
        "schedule": env_int("TASKS_OVERDUE_SWEEP_SECONDS", 300),
    },
    "audit-checkpoint": {
        "task": "audit.checkpoint",
        "schedule": AUDIT_CHECKPOINT_SECONDS,
    },
    "cockpit-rollup": {
        "task": "cockpit.rollup",
        "schedule": env_int("COCKPIT_ROLLUP_SECONDS", 60),
    },
}
# The cockpit's rollups (cockpit.rollups): rows timed at least this long ago are
# rolled up (and none from a transaction still open); a median or p90 is exact up
# to this many rows of an element in the range, within 0.99% above.
COCKPIT_ROLLUP_LAG_SECONDS = env_int("COCKPIT_ROLLUP_LAG_SECONDS", 60)
COCKPIT_EXACT_LIMIT = env_int("COCKPIT_EXACT_LIMIT", 2000)

# Service-task operations: {name used in diagrams: dotted path of the callable}.
# ENGINE_SERVICE_OPERATIONS='{"erp.create_po": "myapp.ops.create_po"}' (JSON) adds to
# the built-ins.
ENGINE_SERVICE_OPERATIONS = {
    "laneway.echo": "engine.operations.echo",
    # Built-ins (engine/connectors.py), also under Camunda's connector ids.
    "http_request": "engine.connectors.http_request",
    "http-connector": "engine.connectors.http_connector",
    "send_email": "engine.connectors.send_email",
    "mail-send": "engine.connectors.send_email",
    **json.loads(env("ENGINE_SERVICE_OPERATIONS") or "{}"),
}
# Named connections and secrets for service calls (engine/secrets.py): JSON objects,
# or {"connections": ..., "secrets": ...} in the JSON file ENGINE_SECRETS_FILE names.
# Diagrams reference them by name; the worker resolves them at call time.
ENGINE_CONNECTIONS = json.loads(env("ENGINE_CONNECTIONS") or "{}")
ENGINE_SECRETS = json.loads(env("ENGINE_SECRETS") or "{}")
ENGINE_SECRETS_FILE = env("ENGINE_SECRETS_FILE") or ""
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL") or "laneway@localhost"
EMAIL_HOST = env("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# SMTP when EMAIL_HOST is set (production), the console otherwise (the quick start).
EMAIL_BACKEND = env("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if env("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)

# Engine settings (validated by system checks).
ENGINE_LOCK_TIMEOUT_MS = env_int("ENGINE_LOCK_TIMEOUT_MS", 5000)
# Bounds handed to the SpiffWorkflow adapter (engine/limits.py; check engine.E010).
ENGINE_SCRIPT_TIME_LIMIT_MS = env_int("ENGINE_SCRIPT_TIME_LIMIT_MS", 1000)
ENGINE_EXPRESSION_TIME_LIMIT_MS = env_int("ENGINE_EXPRESSION_TIME_LIMIT_MS", 250)
ENGINE_SCRIPT_WORKERS = env_int("ENGINE_SCRIPT_WORKERS", 2)
ENGINE_SCRIPT_MEMORY_MB = env_int("ENGINE_SCRIPT_MEMORY_MB", 256)
# Script workers started as root drop to this account (README: Running unprivileged).
ENGINE_SCRIPT_USER = env("ENGINE_SCRIPT_USER") or "nobody"
ENGINE_MAX_TREE_DEPTH = env_int("ENGINE_MAX_TREE_DEPTH", 400)
ENGINE_MAX_TASKS_PER_ADVANCE = env_int("ENGINE_MAX_TASKS_PER_ADVANCE", 5000)
ENGINE_MAX_INSTANCES_PER_ADVANCE = env_int("ENGINE_MAX_INSTANCES_PER_ADVANCE", 2000)
PROCESSES_UPLOAD_MAX_BYTES = env_int("PROCESSES_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)

# Comments and attachments on cases and tasks (tasks_app/discussion.py).
TASKS_COMMENT_MAX_CHARS = env_int("TASKS_COMMENT_MAX_CHARS", 10_000)
TASKS_ATTACHMENT_MAX_BYTES = env_int("TASKS_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
# File name endings accepted for attachments (comma-separated, lower case).
TASKS_ATTACHMENT_TYPES = [
    ext.strip().lower().lstrip(".")
    for ext in (
        env("TASKS_ATTACHMENT_TYPES")
        or "pdf,png,jpg,jpeg,gif,txt,csv,xlsx,xls,docx,doc,odt,ods,eml,msg,zip"
    ).split(",")
    if ext.strip()
]
# Attachments go through Django's storage API: local files under MEDIA_ROOT by
# default; any django-storages backend by setting STORAGES["default"].
MEDIA_ROOT = Path(env("MEDIA_ROOT") or BASE_DIR / "var" / "media")
MEDIA_URL = "media/"  # never served directly: downloads go through a permission check
STORAGES = {
    "default": {
        "BACKEND": env("STORAGE_BACKEND")
        or "django.core.files.storage.FileSystemStorage"
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# E-mail notifications (tasks_app/notifications.py): the links in them start here.
TASKS_BASE_URL = (env("TASKS_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
# How often beat looks for tasks that became overdue (one reminder per task).
TASKS_OVERDUE_SWEEP_SECONDS = env_int("TASKS_OVERDUE_SWEEP_SECONDS", 300)
# The members of "<group><suffix>" manage the group: they may assign its tasks.
TASKS_MANAGER_GROUP_SUFFIX = env("TASKS_MANAGER_GROUP_SUFFIX") or "-managers"

DATA_UPLOAD_MAX_MEMORY_SIZE = (
    max(PROCESSES_UPLOAD_MAX_BYTES, TASKS_ATTACHMENT_MAX_BYTES) + 1024 * 1024
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL") or "INFO"},
    # SpiffWorkflow logs every task state change at INFO.
    "loggers": {"spiff": {"level": "WARNING"}, "spiff.metrics": {"level": "WARNING"}},
}

# Caches hold the API throttles' counters: share them between web workers in production.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        if (url := env("CACHE_URL"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}


def proxy_ssl_header(value: str | None) -> tuple[str, str] | None:
    """Parse SECURE_PROXY_SSL_HEADER, e.g. "HTTP_X_FORWARDED_PROTO,https"."""
    if not value:
        return None
    header, _, expected = value.partition(",")
    if not header.strip().startswith("HTTP_") or not expected.strip():
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO,https"
        )
    return header.strip(), expected.strip()


# HTTPS, cookies and headers: off by default for the http:// quick start; the
# production values are in .env.example (`manage.py check --deploy` is clean with them).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(env("SECURE_PROXY_SSL_HEADER"))
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env("SECURE_REFERRER_POLICY") or "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles, fonts and the diagram viewer
# (bpmn-js) are all served from Laneway itself; nothing inline runs.
_CSP_DIRECTIVES = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    "img-src": [SELF, "data:"],
    "font-src": [SELF, "data:"],
    "connect-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}
if report_uri := env("CSP_REPORT_URI"):
    _CSP_DIRECTIVES["report-uri"] = [report_uri]
if env_bool("CSP_REPORT_ONLY", False):  # try a policy out: report, do not block
    CONTENT_SECURITY_POLICY = None
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_DIRECTIVES}
