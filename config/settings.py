"""The one settings module: every value comes from the environment through config.env.

Embedded default (no DATABASE_URL, no REDIS_URL): SQLite file and in-process
Celery tasks. With both set: PostgreSQL, Redis and real workers.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, env_url, redis_cache_url, redis_target

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = "insecure-dev-only-key-do-not-use-in-production-0123456789abcdef"
elif len(SECRET_KEY) < 32 and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "areas",
    "accounts",
    "teams",
    "members",
    "activities",
    "coverage",
    "demo",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.RejectNulInQuery",
    "config.middleware.JsonNotFoundUnderApi",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After a write, keep its user's reads on the primary until the replica has it (config.replica).
    "config.replica.RememberWrites",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes={"postgres", "postgresql", "sqlite"})
# PostgreSQL through config.postgresql: Django's backend with a health check that costs no round trip while the
# session is alive, and prepared statements for the statements compiled once per process (prepared_cursor).
# DB_PREPARED_STATEMENTS=false turns the latter off, for a pooler that cannot keep them (docs/operations.md).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)


def _postgres(url: str) -> dict:
    database = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["ENGINE"] = "config.postgresql"
        database["CONN_HEALTH_CHECKS"] = True
        # psycopg prepares on a server-binding cursor after this many runs; only prepared_cursor() makes those
        # cursors and it asks for each statement, so the count never decides (None would refuse every request).
        database.setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
    return database


if DATABASE_URL:
    DATABASES = {"default": _postgres(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "var" / "db.sqlite3",  # created by `make run`
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A streaming replica of the primary (PostgreSQL only): coverage reads may go there (config.replica). In tests
# the alias mirrors the primary; tests/replica builds a real replica and points it there.
DATABASE_REPLICA_URL = env_url("DATABASE_REPLICA_URL", schemes={"postgres", "postgresql"})
if DATABASE_REPLICA_URL:
    if not DATABASE_URL or not DATABASE_URL.startswith("postgres"):
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL (its primary)")
    DATABASES["replica"] = _postgres(DATABASE_REPLICA_URL)
    DATABASES["replica"].update(ATOMIC_REQUESTS=False, TEST={"MIRROR": "default"})
DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and Celery ----------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes={"redis", "rediss"})
EMBEDDED = DATABASE_URL is None and REDIS_URL is None

CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660, minimum=1)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_TIME_LIMIT must be longer than CELERY_TASK_SOFT_TIME_LIMIT")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the database connections around every task unless this is set; then only
# every 2 × this many tasks. config.celery closes what is broken or too old around each task instead.
CELERY_DB_REUSE_MAX = 500
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"
# Redis re-delivers an unacked task after the visibility timeout: it must exceed the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# The cache lives in its own Redis database (default: the broker's plus one), so that cache.clear() can
# never empty the task queue.
REDIS_CACHE_URL = env_url("REDIS_CACHE_URL", schemes={"redis", "rediss"})
if REDIS_URL:
    REDIS_CACHE_URL = REDIS_CACHE_URL or redis_cache_url(REDIS_URL)
    if redis_target(REDIS_CACHE_URL) == redis_target(REDIS_URL):
        raise ImproperlyConfigured("REDIS_CACHE_URL must not be the broker's database (REDIS_URL)")
    CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS_CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "phone"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["phone", "password", "username"]
AXES_USERNAME_CALLABLE = "accounts.phones.axes_username"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# The login API checks the lockout itself and answers a JSON 429 (accounts.apis), so axes'
# HTML middleware is not installed; lockout is per phone, not per IP, because a whole village
# shares one carrier NAT address. See docs/decisions.md.
SILENCED_SYSTEM_CHECKS = ["axes.W002", "axes.W006"]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=min(env_int("JWT_ACCESS_MINUTES", 15, minimum=1), 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "USER_ID_FIELD": "id",
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# --- Proxies ----------------------------------------------------------------------------
# How many reverse proxies (e.g. one TLS-terminating nginx) stand in front of gunicorn. 0: none, and no
# X-Forwarded-* header is believed; then HTTPS must end at gunicorn itself.
# (axes records REMOTE_ADDR on a failed login, its default; its lockout is per phone, not per address.)
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0, minimum=0)

# --- DRF --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.tokens.VersionedJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    # JSON only, in every mode: the browsable API is not served (Swagger UI at /api/docs/ is the explorer).
    "DEFAULT_RENDERER_CLASSES": ["config.inputs.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.inputs.JSONParser"],
    "EXCEPTION_HANDLER": "config.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["config.throttling.WriteRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "login": env_str("LOGIN_THROTTLE_RATE", "30/min"),
        "writes": env_str("WRITE_THROTTLE_RATE", "300/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # The client address that rate limits count is REMOTE_ADDR, unless the service runs behind this many
    # proxies that each append to X-Forwarded-For: then it is the address the outermost trusted one saw.
    # A header the client wrote is never believed (docs/security.md).
    "NUM_PROXIES": TRUSTED_PROXIES,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tổ Công nghệ số cộng đồng API",
    "DESCRIPTION": "Registry, activity log and coverage of Vietnam's Community Digital Technology Teams.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI is served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    # Show each operation's id: the name a generated client gives it.
    "SWAGGER_UI_SETTINGS": {"displayOperationId": True, "deepLinking": True},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The contract's house rules (operation names, tags, error envelope, strict 3.0 nullables): config/schema.py.
    # A nullable choice is its enum with null in it (config.schema), not oneOf [Enum, NullEnum]: strict 3.0.
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.postprocess"],
    "ENUM_NAME_OVERRIDES": {
        "ProvinceKindEnum": "areas.models.ProvinceKind",
        "CommuneKindEnum": "areas.models.CommuneKind",
        "HamletKindEnum": "areas.models.HamletKind",
    },
}

# --- I18n ---------------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Numbers grouped as the ministry writes them in Vietnamese: 81.415 (config/formats/vi).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# The dashboard's CSS comes from a pinned npm package (package-lock.json; `make install` runs npm ci), served
# as our own static files: no CDN, because government networks are often closed.
STATICFILES_DIRS = [("vendor/pico", BASE_DIR / "node_modules" / "@picocss" / "pico" / "css")]
# The quarterly report's PDF font (DejaVu Sans: every Vietnamese letter), from the pinned npm package.
REPORT_FONT_DIR = env_str("REPORT_FONT_DIR", str(BASE_DIR / "node_modules" / "dejavu-fonts-ttf" / "ttf"))
# Without collectstatic (the embedded run, the tests) whitenoise serves straight from the apps.
WHITENOISE_USE_FINDERS = True

# --- Security -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The dashboard's session (the API uses tokens): a working day, then the login page again.
SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 8, minimum=1) * 3600
LOGIN_URL = "web:login"
if not DEBUG:
    if TRUSTED_PROXIES:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)

# --- Logging: personal data never reaches the handlers (see config.logging) -----------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logging.RedactPersonalData"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Domain policy -------------------------------------------------------------------
TEAM_SIZE_MIN_DEFAULT = env_int("TEAM_SIZE_MIN_DEFAULT", 4, minimum=1)
TEAM_SIZE_MAX_DEFAULT = env_int("TEAM_SIZE_MAX_DEFAULT", 9, minimum=1)
ACTIVITY_MAX_AGE_DAYS = env_int("ACTIVITY_MAX_AGE_DAYS", 365, minimum=1)
ACTIVITY_EDIT_WINDOW_DAYS = env_int("ACTIVITY_EDIT_WINDOW_DAYS", 30, minimum=0)
SYNC_MAX_ITEMS = env_int("SYNC_MAX_ITEMS", 500, minimum=1)
SYNC_MAX_BYTES = env_int("SYNC_MAX_BYTES", 4 * 1024 * 1024, minimum=1024)
COVERAGE_KICK_DEBOUNCE_SECONDS = env_int("COVERAGE_KICK_DEBOUNCE_SECONDS", 1, minimum=0)
# How long a rendered coverage body stays in the cache (config.conditional body_cache). Its key holds what it
# depends on, so a change is a new key at once; this only bounds the memory that replaced bodies take.
BODY_CACHE_SECONDS = env_int("BODY_CACHE_SECONDS", 600, minimum=1)
# A nightly reconcile that finds another recompute running tries again after this many seconds, until it runs.
COVERAGE_RECONCILE_RETRY_SECONDS = env_int("COVERAGE_RECONCILE_RETRY_SECONDS", 30, minimum=1)

# --- Registry imports: limits (issue 11) ---
# An uploaded sheet is untrusted input: each limit is named, with its value, in the error that reports it
# (config.spreadsheets). The upload itself is at most 10 MB (members.registry_import.jobs.IMPORT_MAX_BYTES).
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50_000, minimum=1)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 50, minimum=1)
IMPORT_MAX_CELL_CHARS = env_int("IMPORT_MAX_CELL_CHARS", 1_000, minimum=1)
IMPORT_MAX_UNPACKED_MB = env_int("IMPORT_MAX_UNPACKED_MB", 50, minimum=1)
IMPORT_MAX_ZIP_PARTS = env_int("IMPORT_MAX_ZIP_PARTS", 1_000, minimum=1)
IMPORT_MAX_SECONDS = env_int("IMPORT_MAX_SECONDS", 120, minimum=1)
if IMPORT_MAX_SECONDS >= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("IMPORT_MAX_SECONDS must be shorter than CELERY_TASK_SOFT_TIME_LIMIT")
# The beat task members.fail_stuck_imports fails jobs unfinished this long after CELERY_TASK_TIME_LIMIT.
IMPORT_STUCK_MARGIN_SECONDS = env_int("IMPORT_STUCK_MARGIN_SECONDS", 300, minimum=0)
