"""The cache (Redis) down: every page that uses it is served uncached, with a log line.

``REDIS_URL`` points at a port where nothing listens, as a stopped Redis leaves it: the
published rankings (tests/evaluations/test_published_cache.py reads its table), the open-data
API (its answers and its request counts live in the cache) and the admin's import, whose
checked preview is kept in the cache for a confirmation served by another process.
"""

from __future__ import annotations

import logging
import socket

import pytest
from django.contrib.auth.models import User
from django.test import Client

import registry.importing
from registry.models import PendingImport
from tests.evaluations.test_rankings_page import login, rankings_url, table_rows
from tests.evaluations.test_rankings_page import world as world
from tests.registry.batch_files import csv_file, register_counts, two_new_zones
from tests.registry.conftest import provinces as provinces
from tests.registry.test_admin_import import confirm, preview

pytestmark = pytest.mark.faults


def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    """Django's cache as settings.py builds it from a REDIS_URL where no Redis answers."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/11",
            "KEY_PREFIX": "zonetracker",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_published_pages_and_their_export_are_served_uncached(world, dave, redis_down, caplog):
    client = login(dave)
    with caplog.at_level(logging.WARNING, logger="zonetracker.cache"):
        pages = [client.get(rankings_url(2022)) for _ in range(2)]
        export = client.get(rankings_url(2022, format="csv"))
    assert [page.status_code for page in pages] == [200, 200] and export.status_code == 200
    assert table_rows(pages[1]) == table_rows(pages[0]) and table_rows(pages[0])
    assert "could not be read" in caplog.text and "could not be written" in caplog.text


def test_the_api_answers_uncounted_and_uncached(db, redis_down, settings, caplog):
    from tests.api_data import build_world

    build_world()
    settings.PUBLIC_RANKINGS = True
    client = Client()
    with caplog.at_level(logging.WARNING):
        answers = [
            client.get(url)
            for url in (
                "/api/v1/cycles/2022/results/",
                "/api/v1/cycles/2022/results/",
                "/api/v1/zones/",
                "/api/v1/cycles/",
            )
        ]
    assert [answer.status_code for answer in answers] == [200] * 4, answers[0].content[:500]
    assert answers[0].json()["results"] == answers[1].json()["results"]
    assert answers[0].json()["results"]
    assert "served unthrottled" in caplog.text


def test_the_admin_import_is_confirmed_by_another_process_without_its_kept_check(
    client: Client, alice: User, provinces, redis_down, caplog
):
    client.force_login(alice)
    with caplog.at_level(logging.WARNING, logger="zonetracker.cache"):
        previewed = preview(client, csv_file(two_new_zones()))
        assert previewed.status_code == 200 and "confirm_form" in previewed.context
        # Another process serves the confirmation: nothing kept in its memory, and the
        # cache that would hold the check cannot be read; the file is checked again.
        registry.importing._kept_checks.clear()
        other = Client()
        other.force_login(alice)
        confirmed = confirm(other, previewed)
    assert confirmed.status_code == 200
    assert [str(m) for m in confirmed.context["messages"]] == [
        "Import finished: 2 new, 0 updated, 0 unchanged."
    ]
    assert register_counts() == (2, 1)
    assert not PendingImport.objects.exists()
    assert "could not be written" in caplog.text and "could not be read" in caplog.text
