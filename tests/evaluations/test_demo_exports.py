"""Exports of demonstration data say so on every row, so they cannot pass for official results."""

from __future__ import annotations

import csv
import io
import json
from io import StringIO

import pytest
from django.core.management import call_command

from evaluations.rankings import EXPORT_COLUMNS
from tests.evaluations.test_rankings_page import (
    csv_rows,
    evaluate,
    login,
    make_cycle,
    rankings_url,
    xlsx_rows,
)
from tests.factories import make_zone

MARKER = "demonstration data, not official results"


@pytest.fixture(params=[True, False], ids=["demo", "official"])
def ranked(request, db):
    cycle = make_cycle(2022, is_demo=request.param)
    evaluate(cycle, make_zone(name_en="Alpha", name_zh="甲市"), 1, "91.00", 1)
    evaluate(cycle, make_zone(name_en="Bravo", name_zh="乙市"), 2, "80.00", 2)
    return cycle


def export(year: int, file_format: str) -> str:
    out = StringIO()
    call_command("export_rankings", str(year), "--format", file_format, stdout=out)
    return out.getvalue()


def test_export_rankings_csv_adds_a_final_demo_column_only_for_demonstration_data(ranked):
    rows = list(csv.reader(io.StringIO(export(2022, "csv"))))
    if ranked.is_demo:
        assert rows[0] == [*EXPORT_COLUMNS, "demo"]
        assert all(row[-1] == MARKER for row in rows[1:])
    else:
        assert rows[0] == EXPORT_COLUMNS
    assert [row[:2] for row in rows[1:]] == [["1", "Alpha"], ["2", "Bravo"]]


def test_export_rankings_json_carries_the_demo_field_only_for_demonstration_data(ranked):
    records = json.loads(export(2022, "json"))
    if ranked.is_demo:
        assert [r["demo"] for r in records] == [MARKER, MARKER]
    else:
        assert all("demo" not in r for r in records)
    assert [list(r)[: len(EXPORT_COLUMNS)] for r in records] == [EXPORT_COLUMNS] * 2


def test_the_rankings_page_exports_say_demonstration_in_both_languages(ranked, dave):
    client = login(dave)
    csv_file = csv_rows(client.get(rankings_url(2022, format="csv")))
    xlsx_file = xlsx_rows(client.get(rankings_url(2022, format="xlsx")))
    chinese = csv_rows(
        client.get(rankings_url(2022, format="csv"), headers={"accept-language": "zh-hans"})
    )
    if ranked.is_demo:
        assert csv_file[0][-1] == "Demonstration"
        assert [row[-1] for row in csv_file[1:]] == [MARKER, MARKER]
        assert [row[-1] for row in xlsx_file[1:]] == [MARKER, MARKER]
        assert [row[-1] for row in chinese[1:]] == ["演示数据，并非正式评估结果"] * 2
    else:
        assert "Demonstration" not in csv_file[0]
        assert all(MARKER not in row for row in csv_file + [list(r) for r in xlsx_file])
