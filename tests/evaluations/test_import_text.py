"""Score files and framework files are read like every table: invisible characters refused."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluations.framework import DEFAULT_FRAMEWORK
from evaluations.models import Indicator, Score


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    return str(caught.value)


@pytest.mark.parametrize(
    ("cell", "named"),
    [("Alpha\u200b", "U+200B ZERO WIDTH SPACE"), ("Al\u202epha", "U+202E RIGHT-TO-LEFT OVERRIDE")],
)
def test_an_invisible_character_in_a_score_file_is_refused(cycle, tmp_path: Path, cell, named):
    path = tmp_path / "scores.csv"
    path.write_text(f"zone,indicator,value,note\n{cell},P1,7,\nBravo,P1,3,ok\n", encoding="utf-8")

    message = refused("import_scores", "2021", str(path))

    assert f"Row 2, column zone: the text holds {named}" in message
    assert not Score.objects.exists()


def test_a_line_break_inside_a_score_note_is_refused(cycle, tmp_path: Path):
    path = tmp_path / "scores.csv"
    path.write_text('zone,indicator,value,note\nAlpha,P1,7,"one\ntwo"\n', encoding="utf-8")

    assert "U+000A LINE FEED" in refused("import_scores", "2021", str(path))
    assert not Score.objects.exists()


def test_a_score_file_in_big5_is_refused(cycle, tmp_path: Path):
    path = tmp_path / "scores.csv"
    path.write_bytes("zone,indicator,value,note\n甲市,P1,7,優良\n".encode("big5"))

    assert "GB18030/GBK" in refused("import_scores", "2021", str(path))
    assert not Score.objects.exists()


def test_an_invisible_character_in_the_framework_file_is_refused(db, tmp_path: Path):
    rows = list(csv.reader(DEFAULT_FRAMEWORK.read_text(encoding="utf-8-sig").splitlines()))
    rows[1][rows[0].index("name_zh")] += "\u2066"
    path = tmp_path / "framework.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)

    message = refused("load_framework", "--file", str(path))

    assert "Row 2, column name_zh: the text holds U+2066 LEFT-TO-RIGHT ISOLATE" in message
    assert not Indicator.objects.exists()
