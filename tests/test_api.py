"""The open-data API at /api/v1/: who may read it, what each endpoint returns, filters,
pages, caching, throttling, cross-origin reads and the schema.

dave is a Viewer with an account; programs hold API tokens that alice, an Administrator,
issued. See ``tests.api_data`` for the published world the endpoints read.
"""

from __future__ import annotations

import datetime
import html
import json
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evaluations.models import Decision, Outcome
from registry.models import Zone
from tests.api_data import World, build_world
from zonetracker.models import ApiToken

EXPORT_COLUMNS = [
    "rank",
    "zone",
    "name_zh",
    "province",
    "region",
    "batch",
    "total",
    "grade",
    "previous_rank",
    "recommendation",
    "decision",
]


@pytest.fixture(autouse=True)
def throttle_counts_cleared():
    """Each test starts with no request counted against any client."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def public(settings):
    settings.PUBLIC_RANKINGS = True


@pytest.fixture
def private(settings):
    settings.PUBLIC_RANKINGS = False


@pytest.fixture
def token_key(alice) -> str:
    _token, key = ApiToken.issue(name="Statistics bureau", by=alice)
    return key


def results_url(year: int = 2022, query: str = "") -> str:
    return reverse("api:cycle_results", kwargs={"year": year}) + (f"?{query}" if query else "")


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- who may read ------------------------------------------------------------------------


ENDPOINTS = [
    reverse("api:province_list"),
    reverse("api:batch_list"),
    reverse("api:zone_list"),
    "/api/v1/zones/alpha/",
    reverse("api:cycle_list"),
    "/api/v1/cycles/2022/",
    "/api/v1/cycles/2022/results/",
    reverse("api:decision_list"),
]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anyone_reads_every_endpoint_when_rankings_are_public(world, public, url):
    assert Client().get(url).status_code == 200


@pytest.mark.parametrize("url", ENDPOINTS)
def test_it_refuses_anonymous_readers_when_rankings_are_private(world, private, url):
    response = Client().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_signed_in_viewer_reads_every_endpoint(world, private, dave, url):
    client = Client()
    client.force_login(dave)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_program_reads_every_endpoint_with_its_token(world, private, token_key, url):
    response = Client().get(url, HTTP_AUTHORIZATION=f"Token {token_key}")
    assert response.status_code == 200


def test_a_bearer_token_is_read_as_well(world, private, token_key):
    response = Client().get(results_url(), HTTP_AUTHORIZATION=f"Bearer {token_key}")
    assert response.status_code == 200


def test_a_revoked_token_opens_nothing(world, private, token_key):
    ApiToken.objects.get().revoke()
    response = Client().get(results_url(), HTTP_AUTHORIZATION=f"Token {token_key}")
    assert response.status_code == 401


def test_an_unknown_token_is_refused_even_when_rankings_are_public(world, public):
    response = Client().get(results_url(), HTTP_AUTHORIZATION="Token zt_not-a-real-token")
    assert response.status_code == 401


def test_a_token_opens_the_api_and_not_the_site(world, private, token_key):
    response = Client().get(
        reverse("evaluations:cycle_rankings", kwargs={"year": 2022}),
        HTTP_AUTHORIZATION=f"Token {token_key}",
    )
    assert response.status_code == 302  # sent to sign in


def test_the_token_is_stored_only_as_its_digest(world, token_key):
    token = ApiToken.objects.get()
    assert token_key not in (token.digest, token.hint)
    assert token_key.startswith(token.hint)
    assert ApiToken.for_key(token_key) == token


def test_a_tokens_use_is_recorded_once_a_day(world, private, token_key):
    Client().get(results_url(), HTTP_AUTHORIZATION=f"Token {token_key}")
    assert ApiToken.objects.get().last_used_on == timezone.localdate()


def test_the_api_is_read_only(world, public, dave):
    client = Client()
    client.force_login(dave)
    response = client.post(results_url(), data={}, content_type="application/json")
    assert response.status_code in {403, 405}
    assert Client().delete("/api/v1/zones/alpha/").status_code in {401, 403, 405}
    assert Zone.objects.filter(slug="alpha").exists()


# --- results -----------------------------------------------------------------------------


def test_results_carry_the_columns_of_export_rankings_in_rank_order(world, public):
    results = rows(Client().get(results_url()))
    assert [row["zone"] for row in results] == ["Bravo", "Alpha", "Delta", "Echo", "Charlie"]
    assert all(set(EXPORT_COLUMNS) <= set(row) for row in results)
    bravo, _alpha, delta, echo, charlie = results
    assert {column: bravo[column] for column in EXPORT_COLUMNS} == {
        "rank": 1,
        "zone": "Bravo",
        "name_zh": "乙市",
        "province": "Eastshire",
        "region": "east",
        "batch": world.second.number,
        "total": 93.25,
        "grade": 1,
        "previous_rank": 2,
        "recommendation": "",
        "decision": "",
    }
    assert echo["previous_rank"] is None
    assert (delta["recommendation"], delta["decision"]) == ("warn", "")
    assert (charlie["recommendation"], charlie["decision"]) == ("exit", "exit")


def test_results_agree_with_export_rankings(world, public, capsys):
    call_command("export_rankings", "2022", "--format", "json")
    exported = json.loads(capsys.readouterr().out)
    results = rows(Client().get(results_url()))
    assert [{c: row[c] for c in EXPORT_COLUMNS} for row in results] == exported


def test_an_unpublished_year_is_not_found_for_everyone(world, public, alice):
    assert Client().get(results_url(2023)).status_code == 404
    client = Client()
    client.force_login(alice)
    assert client.get(results_url(2023)).status_code == 404
    assert client.get(results_url(1999)).status_code == 404
    assert client.get("/api/v1/cycles/2023/").status_code == 404


@pytest.mark.parametrize(
    ("query", "zones"),
    [
        ("region=west", ["Delta", "Charlie"]),
        ("province=Eastshire", ["Bravo", "Alpha", "Echo"]),
        ("province=西省", ["Delta", "Charlie"]),
        ("grade=3", ["Delta", "Echo"]),
        ("batch={first}", ["Alpha", "Charlie"]),
        ("region=east&grade=1", ["Bravo"]),
    ],
)
def test_results_filter_by_place_batch_and_grade(world, public, query, zones):
    query = query.format(first=world.first.number)
    assert [row["zone"] for row in rows(Client().get(results_url(query=query)))] == zones


def test_results_filter_by_province_code(world, public):
    results = rows(Client().get(results_url(query=f"province={world.west.code}")))
    assert [row["zone"] for row in results] == ["Delta", "Charlie"]


def test_a_filter_that_cannot_be_read_is_a_bad_request(world, public):
    assert Client().get(results_url(query="grade=9")).status_code == 400
    assert Client().get(results_url(query="region=north")).status_code == 400


def test_results_come_in_pages_when_asked(world, public):
    first = Client().get(results_url(query="page_size=2")).json()
    assert first["count"] == 5
    assert [row["zone"] for row in first["results"]] == ["Bravo", "Alpha"]
    third = Client().get(first["next"].replace("http://testserver", "")).json()
    third = Client().get(third["next"].replace("http://testserver", "")).json()
    assert [row["zone"] for row in third["results"]] == ["Charlie"]
    assert third["next"] is None


def test_results_of_demonstration_data_say_so(world, public):
    world.cycles[2021].__class__.objects.filter(pk=world.cycles[2021].pk).update(is_demo=True)
    assert all(row["demo"] for row in rows(Client().get(results_url(2021))))
    assert not any(row["demo"] for row in rows(Client().get(results_url(2022))))


def test_results_say_what_each_dimension_adds_to_the_total(db, public):
    """Scored through the framework and published as the Ministry does: the dimensions'
    points add up to each zone's total."""
    from decimal import Decimal

    from evaluations.framework import framework_load
    from evaluations.services import cycle_open, cycle_publish
    from tests.factories import make_batch, make_province, make_zone, score_all

    framework_load()
    province, batch = make_province(), make_batch(approved_on=datetime.date(2019, 1, 1))
    for name, name_zh in [("Alpha", "甲市"), ("Bravo", "乙市"), ("Charlie", "丙市")]:
        make_zone(name_en=name, name_zh=name_zh, province=province, batch=batch)
    cycle = cycle_open(year=2021)
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle)
    results = rows(Client().get(results_url(2021)))
    assert [row["zone"] for row in results] == ["Alpha", "Bravo", "Charlie"]
    for row in results:
        assert row["dimensions"]
        assert "results" in row["dimensions"]
        added = sum(Decimal(str(points)) for points in row["dimensions"].values())
        assert abs(added - Decimal(str(row["total"]))) <= Decimal("0.05")


# --- cycles, decisions, register ---------------------------------------------------------


def test_cycles_list_only_published_ones_with_policy_and_indicators(world, public):
    cycles = rows(Client().get(reverse("api:cycle_list")))
    assert [cycle["year"] for cycle in cycles] == [2022, 2021]
    assert cycles[0]["policy"]["grade1_size"] == 10
    assert cycles[0]["policy"]["grade2_threshold"] == 75.0
    assert cycles[0]["indicators"] == []
    assert [c["year"] for c in rows(Client().get(reverse("api:cycle_list") + "?year=2021"))] == [
        2021
    ]


def test_a_cycle_lists_its_indicators_with_weights(world, public):
    from evaluations.models import Indicator

    Indicator.objects.create(
        cycle=world.cycles[2022],
        code="R1",
        name_zh="跨境电商进出口额",
        name_en="Cross-border e-commerce trade",
        dimension="results",
        kind="measure",
        weight="12.50",
    )
    cycle = Client().get("/api/v1/cycles/2022/").json()
    assert cycle["indicators"][0]["code"] == "R1"
    assert cycle["indicators"][0]["weight"] == 12.5


def test_decisions_list_what_was_decided_and_hide_the_rationale_by_default(world, public):
    decisions = rows(Client().get(reverse("api:decision_list")))
    assert [(d["zone"], d["outcome"], d["year"]) for d in decisions] == [("Charlie", "exit", 2022)]
    assert decisions[0]["rationale"] is None
    assert decisions[0]["decided_on"] == timezone.localdate().isoformat()
    assert "decided_by" not in decisions[0]


def test_decisions_show_the_rationale_where_the_policy_makes_it_public(world, public):
    type(world.cycles[2022]).objects.filter(year=2022).update(rationale_public=True)
    decisions = rows(Client().get(reverse("api:decision_list")))
    assert decisions[0]["rationale"] == "Graded 4 twice."


def test_decisions_of_an_open_cycle_are_not_listed(world, public):
    Decision.objects.create(
        cycle=world.cycles[2023], zone=world.zones["Echo"], outcome=Outcome.RETAIN
    )
    decisions = rows(Client().get(reverse("api:decision_list")))
    assert {d["year"] for d in decisions} == {2022}


@pytest.mark.parametrize(
    ("query", "zones"),
    [("year=2022", ["Charlie"]), ("year=2021", []), ("region=east", []), ("grade=4", ["Charlie"])],
)
def test_decisions_filter_by_year_place_and_grade(world, public, query, zones):
    decisions = rows(Client().get(reverse("api:decision_list") + f"?{query}"))
    assert [d["zone"] for d in decisions] == zones


def test_zones_carry_status_and_history_of_status(world, public):
    from registry.models import ZoneStatus

    charlie = world.zones["Charlie"]
    charlie.status = ZoneStatus.EXITED
    charlie.status_changed_on = timezone.localdate()
    charlie.save()
    zone = Client().get("/api/v1/zones/charlie/").json()
    assert zone["status"] == "exited"
    assert [line["status"] for line in zone["status_history"]] == ["active", "exited"]
    assert zone["province"] == "Westshire"
    assert zone["batch"] == world.first.number


def test_zones_filter_by_province_region_batch_and_status(world, public):
    def names(query: str) -> list[str]:
        return [z["name_en"] for z in rows(Client().get(reverse("api:zone_list") + "?" + query))]

    assert names("region=west") == ["Charlie", "Delta"]
    assert names(f"batch={world.second.number}&province=Eastshire") == ["Bravo", "Echo"]
    assert names("status=exited") == []


def test_provinces_and_batches_count_their_zones(world, public):
    provinces = rows(Client().get(reverse("api:province_list")))
    assert {p["name_en"]: p["zone_count"] for p in provinces} == {"Eastshire": 3, "Westshire": 2}
    assert [p["name_en"] for p in rows(Client().get("/api/v1/provinces/?region=west"))] == [
        "Westshire"
    ]
    batches = rows(Client().get(reverse("api:batch_list")))
    assert [b["zone_count"] for b in batches] == [2, 3]


def test_no_endpoint_names_a_person(world, public, alice):
    for url in ENDPOINTS:
        assert "alice" not in Client().get(url).content.decode()


# --- caching -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ENDPOINTS)
def test_an_unchanged_answer_is_a_304(world, public, url):
    first = Client().get(url)
    assert first["ETag"] and first["Last-Modified"]
    again = Client().get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    since = Client().get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


def test_a_decision_changes_the_etag_of_the_results(world, public):
    first = Client().get(results_url())
    Decision.objects.filter(zone=world.zones["Delta"]).update(
        outcome=Outcome.WARN, decided_at=timezone.now() + timezone.timedelta(seconds=5)
    )
    again = Client().get(results_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert [r["decision"] for r in again.json()["results"] if r["zone"] == "Delta"] == ["warn"]


def test_another_filter_has_another_etag(world, public):
    assert Client().get(results_url())["ETag"] != Client().get(results_url(query="grade=1"))["ETag"]


def test_an_unpublished_year_is_not_found_even_with_an_etag(world, public):
    etag = Client().get(results_url())["ETag"]
    assert Client().get(results_url(2023), HTTP_IF_NONE_MATCH=etag).status_code == 404


# --- throttling --------------------------------------------------------------------------


def test_a_client_over_its_rate_gets_429_with_retry_after(world, public, settings):
    settings.API_RATE = "3/min"
    client = Client()
    for _ in range(3):
        assert client.get(results_url()).status_code == 200
    response = client.get(results_url())
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


def test_each_token_has_a_rate_of_its_own(world, private, settings, alice):
    settings.API_RATE = "2/min"
    _one, first_key = ApiToken.issue(name="one", by=alice)
    _two, second_key = ApiToken.issue(name="two", by=alice)
    for _ in range(2):
        Client().get(results_url(), HTTP_AUTHORIZATION=f"Token {first_key}")
    assert Client().get(results_url(), HTTP_AUTHORIZATION=f"Token {first_key}").status_code == 429
    assert Client().get(results_url(), HTTP_AUTHORIZATION=f"Token {second_key}").status_code == 200


# --- cross-origin reads ------------------------------------------------------------------


def test_no_cross_origin_reads_unless_a_setting_allows_them(world, public, settings):
    origin = "https://data.example.org"
    response = Client().get(results_url(), HTTP_ORIGIN=origin)
    assert "Access-Control-Allow-Origin" not in response
    settings.CORS_ALLOWED_ORIGINS = [origin]
    response = Client().get(results_url(), HTTP_ORIGIN=origin)
    assert response["Access-Control-Allow-Origin"] == origin
    # Only the API: the site's pages never answer another origin.
    page = Client().get(
        reverse("evaluations:cycle_rankings", kwargs={"year": 2022}), HTTP_ORIGIN=origin
    )
    assert "Access-Control-Allow-Origin" not in page


# --- query budgets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        (reverse("api:province_list"), 6),
        (reverse("api:batch_list"), 6),
        (reverse("api:zone_list"), 7),
        (reverse("api:cycle_list"), 7),
        ("/api/v1/cycles/2022/results/", 12),
        (reverse("api:decision_list"), 7),
    ],
)
def test_api_lists_cost_a_fixed_number_of_queries(
    world, public, django_assert_max_num_queries, url, budget
):
    from tests.factories import make_zone

    for n in range(30):
        make_zone(name_en=f"More {n}", name_zh=f"更多{n}", province=world.east)
    with django_assert_max_num_queries(budget):
        assert Client().get(url).status_code == 200


# --- the schema --------------------------------------------------------------------------


def test_the_schema_passes_drf_spectaculars_own_validation(tmp_path):
    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema))
    text = schema.read_text()
    assert "/api/v1/cycles/{year}/results/" in text
    for column in EXPORT_COLUMNS:
        assert f"\n        {column}:" in text


def _docs_sections(page: str) -> dict[str, str]:
    """The documentation page's endpoint sections, by their heading (``GET /api/v1/...``)."""
    sections = {}
    for part in page.split('<section class="api-endpoint"')[1:]:
        heading = re.search(r"<h2[^>]*><code>([^<]+)</code></h2>", part)
        sections[html.unescape(heading.group(1))] = part.split("</section>")[0]
    return sections


def test_the_schema_and_its_documentation_are_served(db, private):
    schema = Client().get(reverse("api:schema") + "?format=json")
    assert schema.status_code == 200
    document = schema.json()
    assert "/api/v1/cycles/{year}/results/" in document["paths"]
    docs = Client().get(reverse("api:docs"))
    assert docs.status_code == 200
    page = docs.content.decode()
    # Drawn on the server with the site's own layout: no script at all, no inline style.
    assert "<script" not in page and "<style" not in page and " style=" not in page
    assert "swagger" not in page.lower()
    assert 'class="site-header"' in page
    assert f'href="{reverse("api:schema")}?format=json"' in page
    sections = _docs_sections(page)
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) == 8
    # Every endpoint of the schema has its section, with every parameter and every field.
    assert set(sections) == {f"{method} {path}" for method, path, _ in operations}
    for method, path, operation in operations:
        section = sections[f"{method} {path}"]
        for parameter in operation.get("parameters", []):
            assert f'<th scope="row"><code>{parameter["name"]}</code></th>' in section, (
                path,
                parameter["name"],
            )
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        component = document["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]]
        for name in component["properties"]:
            assert f'<th scope="row"><code>{name}</code></th>' in section, (path, name)
        assert "curl " in section and "http://testserver/api/v1/" in section
    # The fields of a list's items, a nested object's and a list of objects', $ref resolved.
    results = sections["GET /api/v1/cycles/{year}/results/"]
    for column in EXPORT_COLUMNS:
        assert f"<code>results[].{column}</code>" in results
    cycle = sections["GET /api/v1/cycles/{year}/"]
    assert "<code>policy.rule</code>" in cycle and "<code>indicators[].weight</code>" in cycle
    assert "Zones approved on or before this date are evaluated." in cycle
    assert 'curl -H "Authorization: Token zt_…" "http://testserver/api/v1/cycles/YEAR/"' in cycle


def test_the_documentation_reads_no_data(db, private, django_assert_num_queries):
    # Drawn from the schema alone: no query of its own, whatever the register holds.
    with django_assert_num_queries(0):
        assert Client().get(reverse("api:docs")).status_code == 200


def test_the_documentation_says_who_may_read(db, settings):
    settings.PUBLIC_RANKINGS = True
    settings.CORS_ALLOWED_ORIGINS = ["https://data.example.org"]
    page = Client().get(reverse("api:docs")).content.decode()
    assert "everyone may read it" in page
    assert 'curl "http://testserver/api/v1/provinces/"' in page
    assert "https://data.example.org" in page
    settings.PUBLIC_RANKINGS = False
    page = Client().get(reverse("api:docs")).content.decode()
    assert "an API token that an Administrator issues" in page
    assert "Authorization: Token zt_…" in page and "429" in page and "Retry-After" in page


def test_the_documentation_is_in_chinese_too(db, private):
    page = Client(headers={"accept-language": "zh-hans"}).get(reverse("api:docs"))
    text = page.content.decode()
    assert '<html lang="zh-hans">' in text
    assert "开放数据接口" in text and "<code>GET /api/v1/zones/{slug}/</code>" in text
    assert "访问权限" in text and "/api/v1/zones/{slug}/ 响应的字段" in text
    from tests.test_chinese_text import ascii_marks_beside_chinese, visible_text

    assert ascii_marks_beside_chinese(visible_text(text)) == []


def test_the_documentation_lists_an_endpoint_the_schema_gains(db, private, monkeypatch):
    from zonetracker import api_docs

    real = api_docs.openapi_document

    def with_one_more():
        document = real()
        document["paths"]["/api/v1/extra/"] = {
            "get": {
                "operationId": "extra_list",
                "description": "One more.",
                "parameters": [{"name": "colour", "in": "query", "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}
                        }
                    }
                },
            }
        }
        return document

    monkeypatch.setattr(api_docs, "openapi_document", with_one_more)
    sections = _docs_sections(Client().get(reverse("api:docs")).content.decode())
    extra = sections["GET /api/v1/extra/"]
    assert "<code>colour</code>" in extra and "<code>zone_count</code>" in extra


# --- issuing tokens in the admin ---------------------------------------------------------


def test_an_administrator_issues_a_token_and_sees_it_once(world, alice, private):
    client = Client()
    client.force_login(alice)
    response = client.post(reverse("admin:zonetracker_apitoken_add"), {"name": "Press office"})
    assert response.status_code == 200
    token = ApiToken.objects.get(name="Press office")
    key = response.context["key"]
    assert key in response.content.decode()
    assert token.created_by == alice
    assert Client().get(results_url(), HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    change = client.get(reverse("admin:zonetracker_apitoken_change", args=[token.pk]))
    assert key not in change.content.decode()


def test_an_administrator_revokes_a_token(world, alice, private, token_key):
    client = Client()
    client.force_login(alice)
    token = ApiToken.objects.get()
    client.post(
        reverse("admin:zonetracker_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert ApiToken.objects.get().is_revoked
    assert Client().get(results_url(), HTTP_AUTHORIZATION=f"Token {token_key}").status_code == 401


def test_a_viewer_cannot_issue_tokens(world, dave):
    client = Client()
    client.force_login(dave)
    response = client.post(reverse("admin:zonetracker_apitoken_add"), {"name": "Mine"})
    assert response.status_code == 302  # the admin's sign-in
    assert not ApiToken.objects.exists()
