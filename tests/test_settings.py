"""Settings come from the environment and fail loudly on a bad or missing value."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from zonetracker.settings import database_from_url, env_bool

ROOT = Path(__file__).resolve().parent.parent


def run_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(env)
    code = "import zonetracker.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'])"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_a_missing_secret_key_is_a_clear_startup_error_in_production():
    result = run_settings()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_set_and_sqlite_is_the_default():
    result = run_settings(DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "django.db.backends.sqlite3"]


def test_local_development_needs_nothing_but_debug():
    result = run_settings(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "True"


def test_database_url_selects_postgresql():
    result = run_settings(DJANGO_SECRET_KEY="x" * 50, DATABASE_URL="postgres://u:p@db:5432/zt")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "django.db.backends.postgresql"


def test_database_url_is_parsed_into_its_parts():
    config = database_from_url("postgres://zt%40user:s3cr%2Ft@db.internal:6543/zonetracker")
    assert config["NAME"] == "zonetracker"
    assert config["USER"] == "zt@user"
    assert config["PASSWORD"] == "s3cr/t"
    assert (config["HOST"], config["PORT"]) == ("db.internal", 6543)


def test_postgresql_connections_are_kept_and_checked_before_reuse(monkeypatch):
    config = database_from_url("postgres://u@db/zt?sslmode=require")
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)
    assert config["OPTIONS"] == {"sslmode": "require"}
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "0")
    assert database_from_url("postgres://u@db/zt")["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/zt", "sqlite:///zt.sqlite3", "db.internal/zt"]
)
def test_a_database_url_that_is_not_postgres_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="postgres://"):
        database_from_url(url)


def test_a_database_url_that_names_no_database_is_refused():
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        database_from_url("postgres://u@db.internal:5432/")


def test_a_bad_database_url_stops_the_start_with_a_clear_error():
    result = run_settings(DJANGO_SECRET_KEY="x" * 50, DATABASE_URL="mysql://root@db/zt")
    assert result.returncode != 0
    assert "DATABASE_URL must be a postgres:// URL" in result.stderr


def test_a_yes_no_variable_with_a_bad_value_is_refused(monkeypatch):
    monkeypatch.setenv("ZT_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="ZT_FLAG"):
        env_bool("ZT_FLAG")


def run_manage(*args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_one_off_commands_run_without_any_configuration():
    result = run_manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr


def test_serving_without_a_secret_key_is_refused_with_a_clear_error():
    result = run_manage("runserver", "--noreload", "127.0.0.1:1")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def cache_backend(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))}
    clean.update(env, DJANGO_DEBUG="1")
    code = "import zonetracker.settings as s; print(s.CACHES['default']['BACKEND'])"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_cache_is_local_memory_unless_redis_is_named():
    assert cache_backend() == "django.core.cache.backends.locmem.LocMemCache"
    assert (
        cache_backend(REDIS_URL="redis://127.0.0.1:6379/4")
        == "django.core.cache.backends.redis.RedisCache"
    )
