"""A published cycle's results in the open-data API come from the published cache: built once
per version, language, query and host, with their ETag and Last-Modified; a publication or a
decision shows at once."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evaluations.models import CycleStatus, Decision, Outcome
from evaluations.services import decision_record
from tests.api_data import World, build_world

URL = "/api/v1/cycles/2022/results/"


@pytest.fixture(autouse=True)
def cache_cleared():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db, settings) -> World:
    settings.PUBLIC_RANKINGS = True
    return build_world()


def read(client: Client, url: str = URL, **headers) -> tuple[object, bool]:
    """The response, and whether answering read the evaluations table."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return response, any("evaluations_evaluation" in q["sql"] for q in queries)


def decisions(response) -> dict[str, str | None]:
    assert response.status_code == 200, response.content
    return {row["zone"]: row["decision"] for row in response.json()["results"]}


def test_the_results_are_built_once_then_served_from_the_cache(world):
    client = Client()
    first, built = read(client)
    again, rebuilt = read(client)
    assert built and not rebuilt
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"]
    assert again["Last-Modified"] == first["Last-Modified"]


def test_a_client_with_the_current_copy_is_told_not_modified(world):
    client = Client()
    first, _built = read(client)
    unchanged, _rebuilt = read(client, HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304


def test_each_query_and_language_is_cached_apart(world):
    client = Client()
    read(client)
    west, built = read(client, URL + "?region=west")
    assert built
    assert set(decisions(west)) == {"Charlie", "Delta"}
    chinese, built = read(client, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert built
    assert "丁市" in chinese.content.decode()


def test_a_decision_shows_at_once(world, bob):
    client = Client()
    assert decisions(read(client)[0])["Delta"] in (None, "")
    delta = Decision.objects.get(cycle=world.cycles[2022], zone=world.zones["Delta"])
    decision_record(decision=delta, outcome=Outcome.RECTIFY, rationale="Weak.", by=bob)
    after, rebuilt = read(client)
    assert rebuilt
    assert decisions(after)["Delta"] not in (None, "")


def test_a_publication_gives_every_cached_answer_a_new_version(world):
    client = Client()
    read(client)
    assert read(client, "/api/v1/cycles/2023/results/")[0].status_code == 404
    cycle = world.cycles[2023]
    cycle.status, cycle.published_at = CycleStatus.PUBLISHED, timezone.now()
    cycle.save()
    _again, rebuilt = read(client)
    assert rebuilt
    assert read(client, "/api/v1/cycles/2023/results/")[0].status_code == 200


def test_json_is_kept_as_written_with_the_headers_of_a_built_answer(world):
    client = Client()
    first, _built = read(client)
    again, rebuilt = read(client)
    assert not rebuilt
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert "Accept" in again["Vary"]
    assert [row["zone"] for row in again.json()["results"]] == [
        row["zone"] for row in first.json()["results"]
    ]
