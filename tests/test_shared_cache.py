"""With a cache that every process shares (REDIS_URL): each user's unread count and the
sessions are kept there, so that a page from the cache costs no query for them, and both are
as current as the database (a notification written or read, a sign-out)."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations.notifications import notifications_mark_read, notify_published, unread_count
from tests.api_data import make_cycle

REDIS_URL = "redis://127.0.0.1:6379/9"


def queries_of(action) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        action()
    return [q["sql"] for q in queries]


@pytest.fixture
def shared(settings):
    settings.CACHE_SHARED = True
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def redis_sessions(settings):
    settings.CACHE_SHARED = True
    settings.SESSION_ENGINE = "zonetracker.sessions"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "zonetracker-tests",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


def test_the_unread_count_is_counted_once_then_kept(shared, bob):
    assert unread_count(bob) == 0
    assert queries_of(lambda: unread_count(bob)) == []


def test_a_notification_written_or_read_shows_in_the_count_at_once(shared, bob, carol):
    assert unread_count(bob) == 0 and unread_count(carol) == 0
    notify_published(cycle=make_cycle(2022), by=None)
    assert unread_count(bob) == 1 and unread_count(carol) == 1
    notifications_mark_read(user=bob)
    assert unread_count(bob) == 0 and unread_count(carol) == 1


def test_without_a_shared_cache_the_count_is_read_each_time(bob):
    unread_count(bob)
    assert len(queries_of(lambda: unread_count(bob))) == 1


def test_a_session_is_read_from_the_shared_cache(redis_sessions, bob):
    client = Client()
    client.force_login(bob)
    home = reverse("home")
    assert client.get(home).status_code == 200
    sql = queries_of(lambda: client.get(home))
    assert not any("django_session" in statement for statement in sql)


def test_a_sign_out_ends_the_session_everywhere(redis_sessions, bob):
    client = Client()
    client.force_login(bob)
    home = reverse("home")
    assert client.get(home).status_code == 200
    cookie = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    thief = Client()
    thief.cookies["sessionid"] = cookie
    response = thief.get(reverse("evaluations:notification_list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_cache_that_does_not_answer_keeps_everyone_signed_in(bob, settings, caplog):
    settings.CACHE_SHARED = True
    settings.SESSION_ENGINE = "zonetracker.sessions"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 1.
            "LOCATION": "redis://127.0.0.1:1/9",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    client = Client()
    client.force_login(bob)
    with caplog.at_level(logging.WARNING):
        response = client.get(reverse("evaluations:notification_list"))
    assert response.status_code == 200
    assert "could not be" in caplog.text
