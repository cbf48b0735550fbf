"""zonetracker's settings, read from environment variables.

Embedded default: SQLite in the project folder, nothing to configure. Production: PostgreSQL
through ``DATABASE_URL``, ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS`` set, debug off.
"""

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no variable; anything but a recognised spelling is an error, not a guess."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Django's DATABASES entry for a ``postgres://user:password@host:port/name`` URL.

    dj-database-url reads the URL (percent-escapes, query options); zonetracker only runs on
    PostgreSQL, so any other scheme, or a URL naming no database, is refused at start-up
    rather than failing at the first query.
    """
    try:
        config = dj_database_url.parse(
            url,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    except ValueError as error:  # dj-database-url's UnknownSchemeError is a ValueError
        raise ImproperlyConfigured(f"DATABASE_URL must be a postgres:// URL; {error}") from None
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// URL; got {config['ENGINE']!r}."
        )
    if not config["NAME"]:
        raise ImproperlyConfigured("DATABASE_URL names no database.")
    return dict(config)


DEBUG = env_bool("DJANGO_DEBUG", False)


def _serving() -> bool:
    """Whether this process serves requests (gunicorn, runserver), not a one-off command."""
    program = Path(sys.argv[0]).name if sys.argv else ""
    if program == "manage.py":
        return len(sys.argv) > 1 and sys.argv[1] in {"runserver", "testserver"}
    return True


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "django-insecure-local-development-only-never-use-in-production"
    elif _serving():
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string in production, "
            "or set DJANGO_DEBUG=1 for local development."
        )
    else:
        # A one-off command (import_zones, export_rankings, migrate...) signs nothing that
        # outlives it: a key of its own, never shared with a server, is enough.
        SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "import_export",
    "simple_history",
    "axes",
    "csp",
    # Django REST framework runs without being an installed app: the API speaks JSON only, so
    # the browsable API's templates and assets are never served (nor collected).
    "drf_spectacular",
    "corsheaders",
    "registry",
    "evaluations",
    # The project's own: the accounts admin (who may grant what).
    "zonetracker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Answers cross-origin requests to /api/ only for the origins ZONETRACKER_API_CORS_ORIGINS
    # names; with none named (the default) it adds nothing.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # The per-object rules of zonetracker.permissions (assigned reviewer, four eyes).
    "rules.permissions.ObjectPermissionBackend",
]

ROOT_URLCONF = "zonetracker.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "evaluations.context_processors.notifications",
                "zonetracker.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "zonetracker.wsgi.application"

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # WAL lets readers work while one writer writes; IMMEDIATE makes concurrent
                # writers queue for the lock instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions live in the database so that several app processes or hosts share them.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Django's cache: published cycles' pages and API responses (evaluations.published_cache).
# Local memory by default, one per process; several processes or hosts share Redis through
# REDIS_URL (redis://host:6379/0). A cache that cannot be reached only makes pages slower.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "zonetracker",
            # A Redis that does not answer is given up on quickly: the page is built instead.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Whether every process and host reads the same cache: only then may it hold what one process
# changes and another must see at once (sessions, unread notifications).
CACHE_SHARED = bool(REDIS_URL)
if CACHE_SHARED:
    # The database stays the sessions' store; Redis keeps a copy that spares each request
    # its query (zonetracker.sessions).
    SESSION_ENGINE = "zonetracker.sessions"

# E-mail (notifications, reminders, password reset): written to the console unless an SMTP
# server is named. EMAIL_BACKEND may name another of Django's backends outright.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "zonetracker <noreply@localhost>")
# Where the app is reached, for the links in e-mails sent outside a request (reminders).
ZONETRACKER_SITE_URL = os.environ.get("ZONETRACKER_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Reminders go out this many days before a cycle's deadline, and every day after it.
ZONETRACKER_REMINDER_DAYS = env_int("ZONETRACKER_REMINDER_DAYS", 3)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
# zonetracker's own catalogue first; then django-filter's Chinese, which it ships for zh_CN only.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "django_filters"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Evidence files of the reporting chain go through Django's storage API: a local folder by
# default; with ZONETRACKER_FILE_STORAGE=s3, any S3-compatible store through django-storages
# (install django-storages[s3]; boto3 reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), so
# that several hosts serve the same files. They are only ever served through the download
# view, which checks who may read them, never from a public URL.
MEDIA_ROOT = Path(os.environ.get("ZONETRACKER_MEDIA_ROOT", BASE_DIR / "media"))
if os.environ.get("ZONETRACKER_FILE_STORAGE", "local") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["ZONETRACKER_S3_BUCKET"],
            "endpoint_url": os.environ.get("ZONETRACKER_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("ZONETRACKER_S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
EVIDENCE_MAX_BYTES = env_int("ZONETRACKER_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)

# Uploads: imports are capped by zonetracker itself (registry.importing); these keep Django's
# own request parsing bounded as well.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
IMPORT_MAX_BYTES = env_int("ZONETRACKER_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("ZONETRACKER_IMPORT_MAX_ROWS", 20_000)
# Every row read counts, blank or not. A row may hold at most IMPORT_MAX_COLUMNS cells and a
# cell at most IMPORT_MAX_CELL_CHARS characters. An XLSX workbook (a zip of XML) may unpack to
# at most IMPORT_MAX_XLSX_BYTES, which keeps a small file from unpacking into a huge one.
IMPORT_MAX_COLUMNS = env_int("ZONETRACKER_IMPORT_MAX_COLUMNS", 50)
IMPORT_MAX_CELL_CHARS = env_int("ZONETRACKER_IMPORT_MAX_CELL_CHARS", 500)
IMPORT_MAX_XLSX_BYTES = env_int("ZONETRACKER_IMPORT_MAX_XLSX_BYTES", 20 * 1024 * 1024)

# django-import-export: only holders of registry.import_zone may import; uploads waiting for
# confirmation are kept in the database, which every app process shares.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_TMP_STORAGE_CLASS = "registry.importing.DatabaseTmpStorage"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one user name from one
# address, that pair is locked for the cool-off period, not forever. Behind a proxy, set
# ZONETRACKER_PROXY_COUNT to the number of proxies so that the client's address is read from
# X-Forwarded-For; without it the header is ignored, since a client could forge it.
AXES_FAILURE_LIMIT = env_int("ZONETRACKER_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ZONETRACKER_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# A try during the lock does not restart the cool-off: the lock ends when the page says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "zonetracker.lockout.locked_out"
_PROXY_COUNT = env_int("ZONETRACKER_PROXY_COUNT", 0)
if _PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = _PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# Content-Security-Policy (django-csp 4): everything from this origin, no inline script or
# style, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Published rankings may be read without an account when this is on.
PUBLIC_RANKINGS = env_bool("ZONETRACKER_PUBLIC_RANKINGS", False)

# The open-data API at /api/v1/ (zonetracker.api): JSON only, read-only, published data only.
# Readers: everyone when PUBLIC_RANKINGS is on; else signed-in users and API tokens that an
# Administrator issues. Each client (token, account or address) may make
# ZONETRACKER_API_RATE requests ("120/min", "5000/day", ...) before a 429 with Retry-After.
API_RATE = os.environ.get("ZONETRACKER_API_RATE", "120/min")
API_PAGE_SIZE = 100
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "zonetracker.api.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["zonetracker.api.ReadsPublishedData"],
    "DEFAULT_THROTTLE_CLASSES": ["zonetracker.api.ApiClientThrottle"],
    "DEFAULT_PAGINATION_CLASS": "zonetracker.api.ApiPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The client's address for throttling: X-Forwarded-For only behind as many proxies as
    # ZONETRACKER_PROXY_COUNT says (0: REMOTE_ADDR), as for the login lock.
    "NUM_PROXIES": _PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "zonetracker open data",
    "DESCRIPTION": (
        "The published results of the yearly evaluation of China's cross-border e-commerce "
        "comprehensive pilot zones: provinces, batches, zones, cycles, results and decisions."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
}
# Cross-origin reads of the API (django-cors-headers): none unless origins are named.
CORS_ALLOWED_ORIGINS = env_list("ZONETRACKER_API_CORS_ORIGINS", [])
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After"]

# Security. Behind a TLS-terminating proxy set DJANGO_SECURE_PROXY_SSL_HEADER=1.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
