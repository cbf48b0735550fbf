"""The rankings page of a cycle through HTTP: who may read it, filters, movement, exports.

alice is an Administrator, bob an Approver, carol a Reviewer, dave a Viewer. Two cycles are
published (2021 and 2022) and one is open (2023):

    2021: Alpha 1, Bravo 2, Delta 3, Charlie 4
    2022: Bravo 1 (up 1), Alpha 2 (down 1), Delta 3 (same), Echo 4 (new), Charlie 5 (down 1)
    2023: Alpha 1, Echo 2, Bravo not ranked (a score is missing)

Alpha, Bravo and Echo are in an eastern province, Charlie and Delta in a western one; Alpha
and Charlie were approved in the first batch, the others in the second. Charlie exited after
2022; Delta was recommended a warning that nobody has decided yet.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    EvaluationStatus,
    Outcome,
    Recommendation,
)
from evaluations.services import cycle_publish
from registry.models import Batch, Province, Region, Zone, ZoneStatus
from tests.factories import make_batch, make_province, make_zone, score_all

# --- reading the page ----------------------------------------------------------------------


class _RankingRows(HTMLParser):
    """The text of each cell of the rankings table's body, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "table--rankings" in classes:
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@dataclass(frozen=True)
class Row:
    """One line of the rankings table, by column."""

    rank: str
    zone: str
    province: str
    region: str
    batch: str
    total: str
    grade: str
    movement: str
    recommendation: str
    decision: str


def table_rows(response) -> list[Row]:
    parser = _RankingRows()
    parser.feed(response.content.decode())
    return [Row(*cells) for cells in parser.rows]


def ranks_by_zone(response) -> dict[str, str]:
    """Each row's zone (its first name) and rank."""
    return {row.zone.split()[0]: row.rank for row in table_rows(response)}


def text(response) -> str:
    """What a reader sees of the page: its text, whitespace collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(unescape(body).split())


def rankings_url(year: int = 2022, **filters: object) -> str:
    url = reverse("evaluations:cycle_rankings", kwargs={"year": year})
    if filters:
        url += "?" + "&".join(f"{name}={value}" for name, value in filters.items())
    return url


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_rows(response) -> list[list[str]]:
    content = response.content
    assert content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(content[len(codecs.BOM_UTF8) :].decode("utf-8"))))


def xlsx_rows(response) -> list[tuple[object, ...]]:
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return [tuple(row) for row in workbook.active.iter_rows(values_only=True)]


# --- the cycles ----------------------------------------------------------------------------


def evaluate(cycle: Cycle, zone: Zone, rank: int | None, total: str | None, grade: int | None):
    return Evaluation.objects.create(
        cycle=cycle,
        zone=zone,
        status=EvaluationStatus.APPROVED if rank else EvaluationStatus.DRAFT,
        rank=rank,
        total=Decimal(total) if total else None,
        grade=grade,
    )


def make_cycle(year: int, *, published: bool = True, is_demo: bool = False) -> Cycle:
    return Cycle.objects.create(
        year=year,
        cutoff=Cycle.default_cutoff(year),
        status=CycleStatus.PUBLISHED if published else CycleStatus.OPEN,
        is_demo=is_demo,
    )


@dataclass(frozen=True)
class World:
    east: Province
    west: Province
    first: Batch
    second: Batch
    zones: dict[str, Zone]
    cycles: dict[int, Cycle]


@pytest.fixture
def world(db) -> World:
    east = make_province(name_en="Eastshire", name_zh="东省", region=Region.EAST)
    west = make_province(name_en="Westshire", name_zh="西省", region=Region.WEST)
    first = make_batch(approved_on=datetime.date(2016, 1, 6))
    second = make_batch(approved_on=datetime.date(2018, 7, 24))
    places = {
        "Alpha": ("甲市", east, first),
        "Bravo": ("乙市", east, second),
        "Charlie": ("丙市", west, first),
        "Delta": ("丁市", west, second),
        "Echo": ("戊市", east, second),
    }
    zones = {
        name: make_zone(name_en=name, name_zh=name_zh, province=province, batch=batch)
        for name, (name_zh, province, batch) in places.items()
    }
    c2021, c2022, c2023 = make_cycle(2021), make_cycle(2022), make_cycle(2023, published=False)
    for name, rank, total, grade in [
        ("Alpha", 1, "91.00", 1),
        ("Bravo", 2, "88.00", 2),
        ("Delta", 3, "70.00", 3),
        ("Charlie", 4, "50.00", 4),
    ]:
        evaluate(c2021, zones[name], rank, total, grade)
    for name, rank, total, grade in [
        ("Bravo", 1, "93.25", 1),
        ("Alpha", 2, "90.50", 2),
        ("Delta", 3, "66.00", 3),
        ("Echo", 4, "61.75", 3),
        ("Charlie", 5, "42.10", 4),
    ]:
        evaluate(c2022, zones[name], rank, total, grade)
    for name, rank, total, grade in [
        ("Alpha", 1, "95.00", 1),
        ("Echo", 2, "80.00", 2),
        ("Bravo", None, None, None),
    ]:
        evaluate(c2023, zones[name], rank, total, grade)
    Decision.objects.create(
        cycle=c2022,
        zone=zones["Charlie"],
        recommendation=Recommendation.EXIT,
        outcome=Outcome.EXIT,
        rationale="Graded 4 twice.",
    )
    Decision.objects.create(cycle=c2022, zone=zones["Delta"], recommendation=Recommendation.WARN)
    Zone.objects.filter(pk=zones["Charlie"].pk).update(status=ZoneStatus.EXITED)
    return World(
        east=east,
        west=west,
        first=first,
        second=second,
        zones=zones,
        cycles={2021: c2021, 2022: c2022, 2023: c2023},
    )


# --- who may read ----------------------------------------------------------------------------


def test_a_viewer_reads_the_published_rankings_in_rank_order(world, dave):
    response = login(dave).get(rankings_url(2022))
    assert response.status_code == 200
    assert [row.zone.split()[0] for row in table_rows(response)] == [
        "Bravo",
        "Alpha",
        "Delta",
        "Echo",
        "Charlie",
    ]
    assert "Provisional" not in text(response)


def test_a_viewer_may_not_read_a_cycle_that_is_not_published(world, dave):
    response = login(dave).get(rankings_url(2023))
    assert response.status_code == 403
    assert "not published" in text(response)


@pytest.mark.parametrize("who", ["carol", "bob", "alice"])
def test_those_who_work_on_evaluations_read_provisional_rankings_under_a_banner(
    world, who, request
):
    response = login(request.getfixturevalue(who)).get(rankings_url(2023))
    assert response.status_code == 200
    assert "Provisional: this cycle is not published; ranks may change" in text(response)
    assert ranks_by_zone(response) == {"Alpha": "1", "Echo": "2"}


def test_an_evaluation_missing_a_score_is_listed_apart_below_the_table(world, carol):
    response = login(carol).get(rankings_url(2023))
    page = text(response)
    assert "Bravo" not in ranks_by_zone(response)
    assert "Not ranked: a score is missing" in page
    assert page.index("Not ranked: a score is missing") < page.index("Bravo")


def test_a_long_list_of_unranked_evaluations_is_cut_and_counted(world, carol, monkeypatch):
    monkeypatch.setattr("evaluations.ranking_table.UNRANKED_LISTED", 1)
    evaluate(world.cycles[2023], world.zones["Delta"], None, None, None)
    evaluate(world.cycles[2023], world.zones["Charlie"], None, None, None)
    page = text(login(carol).get(rankings_url(2023)))
    unranked = page[page.index("Not ranked: a score is missing") :]
    # Listed by name: Bravo only; Charlie and Delta are counted.
    assert "Bravo" in unranked and "Charlie" not in unranked and "Delta" not in unranked
    assert "2 more evaluations are not ranked; the work queue lists them." in unranked


def test_a_page_beyond_the_first_shows_its_rows_and_the_same_charts(world, dave, monkeypatch):
    monkeypatch.setattr("evaluations.ranking_views.RANKINGS_PER_PAGE", 2)
    first = login(dave).get(rankings_url(2022))
    second = login(dave).get(rankings_url(2022, page=2))
    assert ranks_by_zone(first) == {"Bravo": "1", "Alpha": "2"}
    assert ranks_by_zone(second) == {"Delta": "3", "Echo": "4"}
    assert "5 zones ranked." in text(second)
    chart = re.compile(r'<svg[^>]*aria-labelledby="totals-chart-title.*?</svg>', re.S)
    assert chart.search(first.content.decode())[0] == chart.search(second.content.decode())[0]


def test_someone_not_signed_in_is_sent_to_sign_in(world):
    response = Client().get(rankings_url(2022))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={rankings_url(2022)}"


def test_public_rankings_are_readable_without_an_account_when_published(world, settings):
    settings.PUBLIC_RANKINGS = True
    assert Client().get(rankings_url(2022)).status_code == 200
    unpublished = Client().get(rankings_url(2023))
    assert unpublished.status_code == 302
    assert unpublished["Location"].startswith(reverse("login"))


def test_an_unknown_year_is_not_found(world, dave, settings):
    assert login(dave).get(rankings_url(1999)).status_code == 404
    settings.PUBLIC_RANKINGS = True
    assert Client().get(rankings_url(1999)).status_code == 404


def test_an_unknown_export_format_is_a_bad_request(world, dave):
    assert login(dave).get(rankings_url(2022, format="pdf")).status_code == 400


def test_the_rankings_link_leads_a_viewer_to_the_latest_published_cycle(world, dave):
    response = login(dave).get(reverse("evaluations:latest_rankings"))
    assert response.status_code == 302
    assert response["Location"] == rankings_url(2022)


def test_the_rankings_link_leads_a_reviewer_to_provisional_ranks_before_any_publication(
    db, carol, dave
):
    make_cycle(2023, published=False)
    assert login(carol).get(reverse("evaluations:latest_rankings"))["Location"] == (
        rankings_url(2023)
    )
    nothing = login(dave).get(reverse("evaluations:latest_rankings"), follow=True)
    assert "No rankings have been published yet." in text(nothing)


def test_public_rankings_lead_someone_without_an_account_to_the_latest_published(world, settings):
    settings.PUBLIC_RANKINGS = True
    response = Client().get(reverse("evaluations:latest_rankings"))
    assert response["Location"] == rankings_url(2022)


def test_the_work_queue_links_to_the_provisional_rankings(world, carol):
    response = login(carol).get(reverse("evaluations:cycle_evaluations", kwargs={"year": 2023}))
    assert f'href="{rankings_url(2023)}">See the provisional rankings</a>' in (
        response.content.decode()
    )


def test_home_links_to_the_rankings(world, dave):
    response = login(dave).get(reverse("home"))
    assert f'href="{reverse("evaluations:latest_rankings")}">Rankings</a>:' in (
        response.content.decode()
    )


def test_the_navigation_offers_the_rankings(world, dave):
    response = login(dave).get(rankings_url(2022))
    assert 'aria-current="page">Rankings</a>' in response.content.decode()


# --- what the page shows ---------------------------------------------------------------------


def test_demonstration_data_is_marked_as_not_official(world, dave):
    assert "Demonstration data" not in text(login(dave).get(rankings_url(2022)))
    Cycle.objects.filter(year=2022).update(is_demo=True)
    assert "Demonstration data, not official results" in text(login(dave).get(rankings_url(2022)))


def test_each_line_shows_province_region_batch_total_and_named_grade(world, dave):
    bravo = table_rows(login(dave).get(rankings_url(2022)))[0]
    assert bravo.zone.startswith("Bravo 乙市")
    assert (bravo.province, bravo.region) == ("Eastshire", "East")
    assert bravo.batch == f"{world.second.number} (2018)"
    assert bravo.total == "93.25"
    assert bravo.grade == "1 notable results"


def test_zone_names_link_to_the_zone_page(world, dave):
    response = login(dave).get(rankings_url(2022))
    assert f'href="{world.zones["Bravo"].get_absolute_url()}"' in response.content.decode()


def test_movement_since_the_previous_published_cycle_is_written_out(world, dave):
    response = login(dave).get(rankings_url(2022))
    movements = {row.zone.split()[0]: row.movement for row in table_rows(response)}
    assert movements == {
        "Bravo": "▲ up 1",
        "Alpha": "▼ down 1",
        "Delta": "= same",
        "Echo": "★ new",
        "Charlie": "▼ down 1",
    }
    assert "Since 2021" in text(response)


def test_the_arrow_is_hidden_from_screen_readers_which_read_the_words(world, dave):
    html = login(dave).get(rankings_url(2022)).content.decode()
    assert '<span class="movement__arrow" aria-hidden="true">▲</span> up 1' in html


def test_the_first_published_cycle_has_nothing_to_compare_with(world, dave):
    response = login(dave).get(rankings_url(2021))
    assert {row.movement for row in table_rows(response)} == {"—"}
    assert "No earlier published cycle to measure movement against." in text(response)


def test_provisional_ranks_move_against_the_latest_published_cycle(world, carol):
    response = login(carol).get(rankings_url(2023))
    assert [row.movement for row in table_rows(response)] == ["▲ up 1", "▲ up 2"]


def test_an_exited_zone_is_marked_exited(world, dave):
    rows = {row.zone.split()[0]: row for row in table_rows(login(dave).get(rankings_url(2022)))}
    assert rows["Charlie"].zone.endswith("exited")
    assert "exited" not in rows["Alpha"].zone


def test_recommendations_and_decisions_are_named(world, dave):
    rows = {row.zone.split()[0]: row for row in table_rows(login(dave).get(rankings_url(2022)))}
    assert (rows["Charlie"].recommendation, rows["Charlie"].decision) == ("exit", "exit")
    assert (rows["Delta"].recommendation, rows["Delta"].decision) == (
        "warn (on notice, must rectify)",
        "",
    )
    assert (rows["Alpha"].recommendation, rows["Alpha"].decision) == ("", "")


def test_the_chinese_page_names_zones_in_chinese_first(world, dave):
    client = login(dave)
    response = client.get(rankings_url(2022), HTTP_ACCEPT_LANGUAGE="zh-hans")
    bravo = table_rows(response)[0]
    assert bravo.zone.startswith("乙市 Bravo")
    assert bravo.province == "东省"
    assert '<html lang="zh-hans">' in response.content.decode()


def test_a_published_cycle_shows_what_the_rule_recommended_after_publication(cycle, dave, bob):
    # Through the services, as an administrator publishes: Charlie is graded 4 and warned.
    cycle.grade1_size = 1
    cycle.save()
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle)
    rows = {row.zone.split()[0]: row for row in table_rows(login(dave).get(rankings_url(2021)))}
    assert [rows[name].rank for name in ("Alpha", "Bravo", "Charlie")] == ["1", "2", "3"]
    assert rows["Charlie"].grade == "4 still at the starting stage"
    assert rows["Charlie"].recommendation == "warn (on notice, must rectify)"


# --- filters ---------------------------------------------------------------------------------


def test_filtering_by_region_keeps_the_cycles_ranks(world, dave):
    response = login(dave).get(rankings_url(2022, region="west"))
    assert ranks_by_zone(response) == {"Delta": "3", "Charlie": "5"}
    assert "the ranks are those of the whole cycle" in text(response)


def test_filtering_by_province_keeps_the_cycles_ranks(world, dave):
    response = login(dave).get(rankings_url(2022, province=world.east.pk))
    assert ranks_by_zone(response) == {"Bravo": "1", "Alpha": "2", "Echo": "4"}


def test_filtering_by_batch_keeps_the_cycles_ranks(world, dave):
    response = login(dave).get(rankings_url(2022, batch=world.first.pk))
    assert ranks_by_zone(response) == {"Alpha": "2", "Charlie": "5"}


def test_filtering_by_grade_keeps_the_cycles_ranks(world, dave):
    response = login(dave).get(rankings_url(2022, grade=3))
    assert ranks_by_zone(response) == {"Delta": "3", "Echo": "4"}


def test_a_filter_that_cannot_be_read_shows_nothing_rather_than_everything(world, dave):
    response = login(dave).get(rankings_url(2022, grade=9))
    assert table_rows(response) == []
    assert "Correct the filters above" in text(response)


def test_the_export_links_keep_the_filters(world, dave):
    html = login(dave).get(rankings_url(2022, region="west")).content.decode()
    assert 'href="?region=west&amp;format=csv"' in html
    assert 'href="?region=west&amp;format=xlsx"' in html


# --- the chart -------------------------------------------------------------------------------


def test_the_page_draws_its_charts_as_inline_svg_without_script_or_inline_style(world, dave):
    html = login(dave).get(rankings_url(2022)).content.decode()
    # The grade chart, the totals chart and the map of the provinces.
    assert html.count("<svg ") == 3
    assert '<title id="grade-chart-title">Zones by grade, 2022</title>' in html
    assert "grade 1, notable results: 1 zone;" in html  # the chart's description
    assert "<script" not in html
    assert "<style" not in html
    assert "style=" not in html


def test_the_charts_figures_are_also_given_as_a_table(world, dave):
    page = text(login(dave).get(rankings_url(2022)))
    assert "The figures as a table" in page
    assert "3 · initial results 2" in page
    assert "1. Bravo 93.25" in page


def test_the_grade_chart_counts_only_the_zones_shown(world, dave):
    html = login(dave).get(rankings_url(2022, region="west")).content.decode()
    assert "grade 3, initial results: 1 zone;" in html
    assert "grade 1, notable results: 0 zones" in html


# --- exports ---------------------------------------------------------------------------------


EXPORT_HEADER = [
    "Rank",
    "English name",
    "Chinese name",
    "Province",
    "Region",
    "Batch",
    "Total",
    "Grade",
    "Grade name",
    "Movement since 2021",
    "Recommendation",
    "Decision",
]


def test_the_csv_export_holds_exactly_the_filtered_rows_for_excel(world, dave):
    response = login(dave).get(rankings_url(2022, region="west", format="csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="zonetracker-rankings-2022.csv"'
    )
    second = str(world.second.number)
    first = str(world.first.number)
    assert csv_rows(response) == [
        EXPORT_HEADER,
        [
            "3",
            "Delta",
            "丁市",
            "Westshire",
            "West",
            second,
            "66.00",
            "3",
            "initial results",
            "same",
            "warn (on notice, must rectify)",
            "",
        ],
        [
            "5",
            "Charlie",
            "丙市",
            "Westshire",
            "West",
            first,
            "42.10",
            "4",
            "still at the starting stage",
            "down 1",
            "exit",
            "exit",
        ],
    ]


def test_the_xlsx_export_holds_the_same_rows_with_numbers_as_numbers(world, dave):
    response = login(dave).get(rankings_url(2022, region="west", format="xlsx"))
    assert response["Content-Disposition"] == (
        'attachment; filename="zonetracker-rankings-2022.xlsx"'
    )
    rows = xlsx_rows(response)
    assert list(rows[0]) == EXPORT_HEADER
    assert [row[:3] for row in rows[1:]] == [(3, "Delta", "丁市"), (5, "Charlie", "丙市")]
    assert rows[1][6] == pytest.approx(66.0)
    assert rows[2][9:] == ("down 1", "exit", "exit")


def test_a_provisional_export_says_so_in_its_name_and_lists_the_unranked_last(world, carol):
    response = login(carol).get(rankings_url(2023, format="csv"))
    assert 'filename="zonetracker-rankings-2023-provisional.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [row[1] for row in rows[1:]] == ["Alpha", "Echo", "Bravo"]
    assert rows[3][0] == rows[3][6] == rows[3][7] == ""


def test_a_viewer_cannot_export_a_cycle_that_is_not_published(world, dave):
    assert login(dave).get(rankings_url(2023, format="csv")).status_code == 403


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "@SUM(1)", "+1", "-1"]


@pytest.fixture
def formula_zones(world) -> None:
    cycle = world.cycles[2022]
    for index, name in enumerate(FORMULAS, start=6):
        zone = make_zone(name_en=name, name_zh=f"={index}", province=world.west, batch=world.first)
        evaluate(cycle, zone, index, "30.00", 4)


def test_the_csv_export_escapes_text_that_a_spreadsheet_would_run(formula_zones, dave):
    rows = csv_rows(login(dave).get(rankings_url(2022, format="csv")))
    names = {row[1]: row[2] for row in rows[6:]}
    assert names == {
        '\'=HYPERLINK("http://evil.example","x")': "'=6",
        "'@SUM(1)": "'=7",
        "'+1": "'=8",
        "'-1": "'=9",
    }


def test_the_xlsx_export_escapes_text_that_a_spreadsheet_would_run(formula_zones, dave):
    rows = xlsx_rows(login(dave).get(rankings_url(2022, format="xlsx")))
    assert [row[1] for row in rows[6:]] == [f"'{name}" for name in FORMULAS]
    assert [row[2] for row in rows[6:]] == ["'=6", "'=7", "'=8", "'=9"]


def test_the_page_shows_formula_like_names_as_they_are(formula_zones, dave):
    assert "@SUM(1)" in text(login(dave).get(rankings_url(2022)))


# --- bounded queries -------------------------------------------------------------------------


def add_ranked_zones(count: int, *, start: int, cycles: list[Cycle]) -> None:
    """``count`` more zones, ranked in each of ``cycles``, with a decision on every tenth."""
    province = Province.objects.order_by("pk").first()
    batch = Batch.objects.order_by("pk").first()
    zones = Zone.objects.bulk_create(
        Zone(
            name_en=f"Bulk zone {n:05d}",
            name_zh=f"批量{n:05d}",
            slug=f"bulk-zone-{n:05d}",
            province=province,
            batch=batch,
        )
        for n in range(start, start + count)
    )
    for cycle in cycles:
        Evaluation.objects.bulk_create(
            Evaluation(
                cycle=cycle,
                zone=zone,
                status=EvaluationStatus.APPROVED,
                rank=start + index,
                total=Decimal(max(1, 99 - (start + index) // 25)),
                grade=1 + min(3, (start + index) // 500),
            )
            for index, zone in enumerate(zones)
        )
    Decision.objects.bulk_create(
        Decision(cycle=cycles[-1], zone=zone, recommendation=Recommendation.WARN)
        for zone in zones[::10]
    )


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("export_format", ["", "csv", "xlsx"])
def test_the_page_and_its_exports_read_as_many_queries_for_2000_zones_as_for_20(
    db, dave, export_format, django_assert_max_num_queries
):
    make_zone()  # a province and a batch for the bulk zones
    cycles = [make_cycle(2021), make_cycle(2022)]
    client = login(dave)
    url = rankings_url(2022, format=export_format) if export_format else rankings_url(2022)
    add_ranked_zones(20, start=1, cycles=cycles)
    with_20 = queries_for(client, url)
    add_ranked_zones(1980, start=21, cycles=cycles)
    # Rows written in bulk into a published cycle bypass what gives its pages a new version:
    # the cache is emptied, so that the page is built again and its queries counted.
    cache.clear()
    with django_assert_max_num_queries(with_20):
        response = client.get(url)
    assert response.status_code == 200
    # Session, user, roles, cycle, previous cycle (twice), its ranks, decisions, evaluations;
    # the page adds the other years, the province and batch choices, the unread count and the
    # provinces of the map.
    assert with_20 <= (8 if export_format else 14)
    if export_format == "csv":
        assert len(csv_rows(response)) == 2001


def test_filters_add_at_most_the_queries_that_check_their_choices(
    world, dave, django_assert_max_num_queries
):
    client = login(dave)
    unfiltered = queries_for(client, rankings_url(2022))
    with django_assert_max_num_queries(unfiltered + 2):
        client.get(rankings_url(2022, province=world.east.pk, batch=world.first.pk))


def test_a_large_cycle_is_shown_a_hundred_zones_a_page_with_its_own_ranks(db, dave):
    make_zone()
    cycles = [make_cycle(2021), make_cycle(2022)]
    add_ranked_zones(250, start=1, cycles=cycles)
    client = login(dave)
    first = text(client.get(rankings_url(2022)))
    assert "Bulk zone 00100" in first and "Bulk zone 00101" not in first
    assert "Page 1 of 3" in first
    third = text(client.get(rankings_url(2022, page=3)))
    assert "Bulk zone 00201" in third and "Bulk zone 00200" not in third
    assert "250 zones ranked" in third
    assert len(csv_rows(client.get(rankings_url(2022, format="csv", page=3)))) == 251
