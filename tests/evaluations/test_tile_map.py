"""The tile-grid map of the provinces: 31 equal tiles in their places, coloured by the chosen
measure, with the figures as a table, on the rankings page, the home page and the report."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from evaluations.models import Cycle, CycleStatus, Evaluation, EvaluationStatus
from evaluations.tile_map import (
    MEASURES,
    TILES,
    ProvinceFigures,
    level_of,
    measure_of,
    short_name_zh,
    tile_map,
)
from registry.models import Province, Zone


def test_the_grid_places_31_provinces_each_in_a_square_of_its_own():
    assert len(TILES) == 31
    places = {(column, row) for column, row, _abbreviation in TILES.values()}
    assert len(places) == 31
    assert len({abbreviation for *_place, abbreviation in TILES.values()}) == 31


def test_the_figures_of_a_province_for_each_measure():
    figures = ProvinceFigures(ranked=4, top=1, total_sum=Decimal("250.50"), warned=2)
    assert figures.value("share") == Decimal("25.0")
    assert figures.value("mean") == Decimal("62.63")
    assert figures.value("count") == 4
    assert figures.value("warned") == 2
    assert ProvinceFigures().value("mean") is None


def test_colour_steps_run_from_nothing_to_the_highest_figure():
    assert level_of(None, Decimal(10)) is None
    assert level_of(Decimal(0), Decimal(10)) == 0
    assert level_of(Decimal(1), Decimal(10)) == 1
    assert level_of(Decimal(10), Decimal(10)) == 5
    assert level_of(Decimal(6), Decimal(10)) == 3
    # Mean totals: from the lowest province's to the highest's.
    assert level_of(Decimal(60), Decimal(90), lowest=Decimal(60)) == 1
    assert level_of(Decimal(75), Decimal(90), lowest=Decimal(60)) == 3
    assert level_of(Decimal(90), Decimal(90), lowest=Decimal(60)) == 5


def test_short_chinese_names_drop_the_suffix():
    assert short_name_zh("浙江省") == "浙江"
    assert short_name_zh("新疆维吾尔自治区") == "新疆"
    assert short_name_zh("内蒙古自治区") == "内蒙古"
    assert short_name_zh("北京市") == "北京"


def test_an_unknown_measure_is_the_default():
    assert measure_of("nonsense") == MEASURES["share"]
    assert measure_of("mean") == MEASURES["mean"]


# --- on the pages --------------------------------------------------------------------------


@pytest.fixture
def published(register) -> Cycle:
    """A published cycle of the real register: every zone of Zhejiang in grade 1, all other
    zones in grade 3."""
    cycle = Cycle.objects.create(
        year=2021, cutoff=Cycle.default_cutoff(2021), status=CycleStatus.PUBLISHED
    )
    zones = Zone.objects.select_related("province").order_by("name_en")
    Evaluation.objects.bulk_create(
        Evaluation(
            cycle=cycle,
            zone=zone,
            status=EvaluationStatus.APPROVED,
            rank=n,
            total=Decimal(90) if zone.province.code == "33" else Decimal(65),
            grade=1 if zone.province.code == "33" else 3,
        )
        for n, zone in enumerate(zones, start=1)
    )
    return cycle


def svg_tiles(html: str) -> list[str]:
    drawing = re.search(r'<svg class="tile-map__drawing".*?</svg>', html, re.S).group(0)
    return re.findall(r"<rect [^>]*>", drawing)


def table_rows(html: str) -> list[str]:
    table = re.search(r'<table class="[^"]*tile-map__table.*?</table>', html, re.S).group(0)
    return re.findall(r"<tr><th scope=\"row\">(.*?)</th><td[^>]*>(.*?)</td></tr>", table, re.S)


def test_the_map_has_31_tiles_and_the_table_of_their_figures(published):
    drawing = tile_map(published, {}, MEASURES["share"])
    assert len(drawing.tiles) == 31
    sizes = {(tile.x % 60, tile.y % 60) for tile in drawing.tiles}
    assert sizes == {(0, 0)}  # every tile on the grid, all of one size


def test_the_rankings_page_shows_the_map_coloured_by_the_chosen_measure(published, dave):
    client = Client()
    client.force_login(dave)
    url = reverse("evaluations:cycle_rankings", kwargs={"year": 2021})
    html = client.get(url).content.decode()
    tiles = svg_tiles(html)
    assert len(tiles) == 31
    assert all("style=" not in tile for tile in tiles)
    rows = table_rows(html)
    assert len(rows) == 31
    zhejiang = Province.objects.get(code="33")
    figures = {re.sub(r"<[^>]+>", "", name): value for name, value in rows}
    assert figures["Zhejiang"] == "100.0%"
    assert figures["Jiangsu"] == "0.0%"
    assert f'href="/zones/?province={zhejiang.pk}"' in html
    mean = client.get(url + "?map=mean").content.decode()
    figures = {re.sub(r"<[^>]+>", "", name): value for name, value in table_rows(mean)}
    assert figures["Zhejiang"] == "90.00"
    assert figures["Jiangsu"] == "65.00"


def test_the_home_page_shows_the_map_of_the_latest_published_cycle(published, dave):
    client = Client()
    client.force_login(dave)
    html = client.get(reverse("home") + "?map=count").content.decode()
    assert len(svg_tiles(html)) == 31
    figures = {re.sub(r"<[^>]+>", "", name): value for name, value in table_rows(html)}
    assert figures["Zhejiang"] == str(Zone.objects.filter(province__code="33").count())
    assert reverse("evaluations:annual_report", kwargs={"year": 2021}) in html


def test_a_tile_is_labelled_in_chinese_on_a_chinese_page(published, dave):
    client = Client()
    client.force_login(dave)
    html = client.get(
        reverse("evaluations:cycle_rankings", kwargs={"year": 2021}),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert ">浙江</text>" in html
    assert ">内蒙古</text>" in html
