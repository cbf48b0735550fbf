"""Settings of the benchmark: production settings over plain HTTP, with a trivial view beside.

The database is chosen as in production: ``DATABASE_URL`` for PostgreSQL, otherwise SQLite at
``SQLITE_PATH`` (the bench points it at a file in a temporary folder).
"""

import os
import warnings

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-never-used-by-any-deployment")

from zonetracker.settings import *  # noqa: F403

DEBUG = False
# The URLs of the product plus /bench/ping/, the trivial view that timings are compared with.
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# The bench speaks plain HTTP to 127.0.0.1.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The bench signs its user in with Client.force_login, which gives django-axes no request.
AXES_ENABLED = False
# A run that serves with Redis writes its keys under a prefix of its own (bench.serve).
if os.environ.get("BENCH_CACHE_PREFIX") and REDIS_URL:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = os.environ["BENCH_CACHE_PREFIX"]  # noqa: F405
# No collectstatic before a bench run: pages name their static files without a manifest.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Warnings and errors only: a log line per request would be timed too.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
# WhiteNoise warns, once per process, that staticfiles/ does not exist: no collectstatic here.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
