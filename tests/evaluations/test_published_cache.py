"""Published rankings served from the cache: built once, and never older than what they show."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from evaluations.models import Cycle, Decision, Outcome
from evaluations.services import cycle_publish, decision_record
from tests.evaluations.test_rankings_page import login, make_cycle, rankings_url, table_rows, text

# The rankings tests' world: three cycles, five zones, decisions.
from tests.evaluations.test_rankings_page import world as world
from tests.factories import score_all

REDIS_URL = "redis://127.0.0.1:6379/4"


def evaluations_read(client, url: str) -> tuple[object, bool]:
    """The response, and whether building it read the evaluations table."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, any("evaluations_evaluation" in q["sql"] for q in queries)


def decisions_by_zone(response) -> dict[str, str]:
    return {row.zone.split()[0]: row.decision for row in table_rows(response)}


def test_a_published_page_is_built_once_then_served_from_the_cache(world, dave):
    client = login(dave)
    first, built = evaluations_read(client, rankings_url(2022))
    again, rebuilt = evaluations_read(client, rankings_url(2022))
    assert built and not rebuilt
    assert table_rows(again) == table_rows(first)
    # The header is drawn for each reader: another one sees their own name.
    assert "dave" in text(again)


def test_a_page_not_published_is_never_cached(world, carol):
    client = login(carol)
    evaluations_read(client, rankings_url(2023))
    _response, rebuilt = evaluations_read(client, rankings_url(2023))
    assert rebuilt


def test_each_query_string_is_a_page_of_its_own(world, dave):
    client = login(dave)
    client.get(rankings_url(2022))
    west = client.get(rankings_url(2022, region="west"))
    assert {row.zone.split()[0] for row in table_rows(west)} == {"Delta", "Charlie"}


def test_a_decision_shows_at_once_on_the_cached_page(world, dave, bob):
    client = login(dave)
    assert decisions_by_zone(client.get(rankings_url(2022)))["Delta"] == ""
    delta = Decision.objects.get(cycle=world.cycles[2022], zone=world.zones["Delta"])
    decision_record(decision=delta, outcome=Outcome.RECTIFY, rationale="Weak.", by=bob)
    assert decisions_by_zone(client.get(rankings_url(2022)))["Delta"] == str(Outcome.RECTIFY.label)


def test_a_zone_renamed_shows_at_once_on_the_cached_page(world, dave):
    client = login(dave)
    client.get(rankings_url(2022))
    alpha = world.zones["Alpha"]
    alpha.name_en = "Aleph"
    alpha.save()
    assert "Aleph" in decisions_by_zone(client.get(rankings_url(2022)))


def test_publishing_a_cycle_shows_on_the_cached_pages_of_the_others(cycle, dave):
    make_cycle(2020)
    client = login(dave)
    assert rankings_url(2021) not in client.get(rankings_url(2020)).content.decode()
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle)
    assert rankings_url(2021) in client.get(rankings_url(2020)).content.decode()


def test_each_language_is_cached_apart(world, dave):
    client = login(dave)
    english = client.get(rankings_url(2022))
    chinese = client.get(rankings_url(2022), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert table_rows(english)[0].zone.startswith("Bravo")
    assert table_rows(chinese)[0].zone.startswith("乙市 Bravo")
    assert table_rows(client.get(rankings_url(2022)))[0].zone.startswith("Bravo")


def test_each_role_is_cached_apart(world, dave, bob):
    work_queue = "/cycles/2022/evaluations/"
    assert work_queue in login(bob).get(rankings_url(2022)).content.decode()
    assert work_queue not in login(dave).get(rankings_url(2022)).content.decode()
    assert work_queue in login(bob).get(rankings_url(2022)).content.decode()


def test_a_browser_with_the_current_copy_is_told_not_modified(world, dave, bob):
    client = login(dave)
    client.get(rankings_url(2022))  # the first page sets the CSRF cookie its forms carry
    response = client.get(rankings_url(2022))
    assert response["Last-Modified"]
    etag = response["ETag"]
    assert client.get(rankings_url(2022), HTTP_IF_NONE_MATCH=etag).status_code == 304
    # Another reader's copy names another user: it is not theirs.
    assert login(bob).get(rankings_url(2022), HTTP_IF_NONE_MATCH=etag).status_code == 200
    delta = Decision.objects.get(cycle=world.cycles[2022], zone=world.zones["Delta"])
    decision_record(decision=delta, outcome=Outcome.WARN, rationale="Weak.", by=bob)
    assert client.get(rankings_url(2022), HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_an_export_of_a_published_cycle_is_cached_whole(world, dave):
    client = login(dave)
    first, built = evaluations_read(client, rankings_url(2022, format="csv"))
    again, rebuilt = evaluations_read(client, rankings_url(2022, format="csv"))
    assert built and not rebuilt
    assert again.content == first.content
    assert again["Content-Disposition"] == first["Content-Disposition"]


def test_a_change_in_another_transaction_that_fails_changes_nothing(world, dave):
    version = Cycle.objects.get(year=2022).content_version
    with pytest.raises(RuntimeError), transaction.atomic():
        world.zones["Alpha"].save()
        raise RuntimeError
    assert Cycle.objects.get(year=2022).content_version == version


# --- Redis ---------------------------------------------------------------------------------


@pytest.fixture
def redis_cache(settings):
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


def test_redis_serves_the_cached_page_and_its_invalidation(world, dave, bob, redis_cache):
    client = login(dave)
    _first, built = evaluations_read(client, rankings_url(2022))
    _again, rebuilt = evaluations_read(client, rankings_url(2022))
    assert built and not rebuilt
    assert any(key for key in redis_cache._cache.get_client().keys("zonetracker-tests:*"))
    delta = Decision.objects.get(cycle=world.cycles[2022], zone=world.zones["Delta"])
    decision_record(decision=delta, outcome=Outcome.WARN, rationale="Weak.", by=bob)
    assert decisions_by_zone(client.get(rankings_url(2022)))["Delta"] == str(Outcome.WARN.label)


def test_a_redis_that_does_not_answer_serves_the_page_uncached(world, dave, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 1.
            "LOCATION": "redis://127.0.0.1:1/4",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    client = login(dave)
    with caplog.at_level(logging.WARNING, logger="zonetracker.cache"):
        response = client.get(rankings_url(2022))
        csv = client.get(rankings_url(2022, format="csv"))
    assert response.status_code == 200 and csv.status_code == 200
    assert [row.zone.split()[0] for row in table_rows(response)][:2] == ["Bravo", "Alpha"]
    assert "could not be read" in caplog.text


def test_each_reader_gets_the_page_drawn_for_them(world, dave, bob):
    for _ in range(2):
        login(bob).get(rankings_url(2022))
    client = login(dave)
    client.get(rankings_url(2022))
    page = client.get(rankings_url(2022)).content.decode()
    assert '<span class="site-user">dave</span>' in page
    assert '<span class="site-user">bob</span>' not in page
