"""The management commands of evaluations on the real register."""

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluations.models import Cycle, Evaluation, Indicator


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_open_cycle_2021_on_the_real_register_gives_105_evaluations(register, framework):
    out = run("open_cycle", "2021")
    assert "105 evaluations" in out
    batches = set(
        Cycle.objects.get(year=2021).evaluations.values_list("zone__batch__number", flat=True)
    )
    assert batches == {1, 2, 3, 4, 5}


def test_open_cycle_with_a_later_cutoff_takes_in_the_sixth_batch(register, framework):
    out = run("open_cycle", "2022", "--cutoff", "2022-06-30")
    assert "132 evaluations" in out


def test_running_open_cycle_twice_is_an_error_that_changes_nothing(register, framework):
    run("open_cycle", "2021")
    with pytest.raises(CommandError, match="already exists"):
        run("open_cycle", "2021")
    assert Evaluation.objects.count() == 105


def test_open_cycle_refuses_a_bad_cutoff(register, framework):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("open_cycle", "2021", "--cutoff", "31/12/2020")
    assert not Cycle.objects.exists()


def test_load_framework_is_idempotent_and_keeps_edited_weights(db):
    assert "16 new" in run("load_framework")
    Indicator.objects.filter(code="R1").update(weight=30)
    assert "15 unchanged, 1 kept as edited" in run("load_framework")
    assert Indicator.objects.get(code="R1").weight == 30
    assert "1 updated" in run("load_framework", "--reset")
    assert Indicator.objects.get(code="R1").weight == 20


def test_load_framework_reads_xlsx_and_names_every_bad_cell_loading_nothing(db, tmp_path):
    import openpyxl

    from evaluations.framework import DEFAULT_FRAMEWORK

    rows = list(csv.reader(DEFAULT_FRAMEWORK.read_text(encoding="utf-8-sig").splitlines()))
    rows[1][rows[0].index("weight")] = "heavy"
    rows[2][rows[0].index("log_scale")] = "maybe"
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    path = tmp_path / "framework.xlsx"
    workbook.save(path)

    with pytest.raises(CommandError) as raised:
        run("load_framework", "--file", str(path))

    assert "row 2, column weight: 'heavy' is not a number" in str(raised.value)
    assert "row 3, column log_scale: expected yes or no, got 'maybe'" in str(raised.value)
    assert not Indicator.objects.exists()
