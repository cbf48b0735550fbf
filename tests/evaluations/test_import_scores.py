"""import_scores: all or nothing, and every refused row says where and why."""

import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluations.models import CycleStatus, EvaluationStatus, Score


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "scores.csv"
    path.write_bytes(text.encode(encoding))
    return path


def run(cycle_year: int, path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_scores", str(cycle_year), str(path), *args, stdout=out)
    return out.getvalue()


def refused(cycle_year: int, path: Path, *args: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(cycle_year, path, *args)
    return str(caught.value)


def test_it_imports_scores_by_english_or_chinese_name_or_slug(cycle, tmp_path):
    path = write(
        tmp_path,
        "zone,indicator,value,note\nAlpha,P1,7,good\n乙市,p2,8.5,\ncharlie,R1,120.5,\n",
    )
    assert "3 new, 0 updated, 0 unchanged" in run(2021, path)
    values = {
        (s.evaluation.zone.name_en, s.indicator.code): (s.value, s.note)
        for s in Score.objects.select_related("evaluation__zone", "indicator")
    }
    assert values == {
        ("Alpha", "P1"): (Decimal("7"), "good"),
        ("Bravo", "P2"): (Decimal("8.5"), ""),
        ("Charlie", "R1"): (Decimal("120.5"), ""),
    }


def test_reimporting_the_same_file_changes_nothing_and_says_so(cycle, tmp_path):
    path = write(tmp_path, "zone,indicator,value\nAlpha,P1,7\nBravo,P1,3\n")
    run(2021, path)
    history = Score.history.count()
    assert "0 new, 0 updated, 2 unchanged" in run(2021, path)
    assert Score.history.count() == history


def test_chinese_headers_and_gb18030_are_read(cycle, tmp_path):
    path = write(tmp_path, "试验区,指标,数值,备注\n甲市,P1,6,较好\n", encoding="gb18030")
    run(2021, path)
    assert Score.objects.get().note == "较好"


def test_an_xlsx_file_is_read(cycle, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["zone", "indicator", "value"])
    workbook.active.append(["Alpha", "R2", -12.5])
    path = tmp_path / "scores.xlsx"
    workbook.save(path)
    run(2021, path)
    assert Score.objects.get().value == Decimal("-12.5")


def test_a_dry_run_writes_nothing(cycle, tmp_path):
    path = write(tmp_path, "zone,indicator,value\nAlpha,P1,7\n")
    out = run(2021, path, "--dry-run")
    assert "1 new" in out and "nothing was written" in out
    assert not Score.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Atlantis,P1,5", "row 3, column zone: no zone called “Atlantis” is evaluated in 2021."),
        ("Delta,P1,5", "row 3, column zone: no zone called “Delta” is evaluated in 2021."),
        ("Bravo,Q9,5", "row 3, column indicator: no indicator has the code “Q9” in 2021."),
        ("Bravo,P1,11", "row 3, column value: 11 is above the highest valid value, 10.00."),
        ("Bravo,P1,-1", "row 3, column value: -1 is below the lowest valid value, 0."),
        ("Bravo,P1,abc", "row 3, column value: “abc” is not a number."),
        ("Bravo,P1,NaN", "row 3, column value: “NaN” is not a number."),
        ("Bravo,P1,", "row 3, column value: the value is missing."),
        ("Bravo,R1,0", "row 3, column value: 0 is below the lowest valid value, 0.0100."),
        ("Alpha,P1,6", "row 3, column indicator: Alpha already has a value for P1 in row 2."),
    ],
)
def test_a_bad_row_is_refused_with_row_column_and_problem_and_nothing_changes(
    cycle, tmp_path, body, message
):
    path = write(tmp_path, f"zone,indicator,value\nAlpha,P1,7\n{body}\n")
    error = refused(2021, path)
    assert message in error
    assert "Nothing was imported." in error
    assert not Score.objects.exists()


def test_scores_of_an_approved_evaluation_are_refused(cycle, tmp_path):
    cycle.evaluations.filter(zone__name_en="Bravo").update(status=EvaluationStatus.APPROVED)
    path = write(tmp_path, "zone,indicator,value\nAlpha,P1,7\nBravo,P1,5\n")
    assert "row 3, column zone: the evaluation of Bravo is approved" in refused(2021, path)
    assert not Score.objects.exists()


def test_a_published_cycle_is_refused(cycle, tmp_path):
    cycle.status = CycleStatus.PUBLISHED
    cycle.save()
    path = write(tmp_path, "zone,indicator,value\nAlpha,P1,7\n")
    assert "scores can only be imported while it is open" in refused(2021, path)
    assert not Score.objects.exists()


def test_an_unknown_cycle_and_a_missing_file_are_clear_errors(cycle, tmp_path):
    assert "There is no cycle of 1999" in refused(1999, tmp_path / "x.csv")
    assert "No such file" in refused(2021, tmp_path / "missing.csv")


def test_a_missing_column_and_a_binary_file_are_refused(cycle, tmp_path):
    assert "the required column value" in refused(2021, write(tmp_path, "zone,indicator\nA,P1\n"))
    binary = tmp_path / "scores.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "neither a CSV text file" in refused(2021, binary)


def test_an_import_moves_the_version_so_an_open_form_is_not_silently_overwritten(cycle, tmp_path):
    evaluation = cycle.evaluations.get(zone__name_en="Alpha")
    before = evaluation.version
    run(2021, write(tmp_path, "zone,indicator,value\nAlpha,P1,7\n"))
    evaluation.refresh_from_db()
    assert evaluation.version == before + 1


def test_the_user_option_records_who_entered_the_scores(cycle, tmp_path, alice):
    run(2021, write(tmp_path, "zone,indicator,value\nAlpha,P1,7\n"), "--user", "alice")
    score = Score.objects.get()
    assert score.entered_by == alice
    assert score.history.first().history_user == alice


def test_only_an_administrator_may_be_named_as_the_importer(cycle, tmp_path, carol):
    error = refused(2021, write(tmp_path, "zone,indicator,value\nAlpha,P1,7\n"), "--user", "carol")
    assert "lacks the permission evaluations.import_scores" in error
    assert not Score.objects.exists()
