"""A score's value: one rule for what the column holds, on every path, on both databases.

Scores are at most 15 digits, 4 after the point: what SQLite's double gives back exactly. The
entry form, the admin, import_scores and the score writer itself refuse anything else with
the same message; repair_scores clears what was stored before.
"""

from __future__ import annotations

import importlib
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DataError, connection, transaction
from django.test import Client
from django.urls import reverse

from evaluations import importing
from evaluations.framework import framework_check
from evaluations.models import Cycle, Evaluation, EvaluationStatus, Indicator, Score
from evaluations.services import ScoreInput, evaluation_assign, evaluation_save, scores_write
from evaluations.values import (
    DOES_NOT_FIT as _DOES_NOT_FIT,
)
from evaluations.values import (
    VALUE_LARGEST,
    value_from_text,
    value_problem,
)
from tests.factories import PASSWORD
from zonetracker.tables import read_table

DOES_NOT_FIT = str(_DOES_NOT_FIT)
FIRST_TOO_LARGE = VALUE_LARGEST + Decimal("0.0001")  # 100000000000


@pytest.fixture
def alpha(cycle: Cycle, alice, carol) -> Evaluation:
    """Alpha's evaluation, assigned to carol, with R3 (a count) left without a highest value."""
    evaluation = cycle.evaluations.get(zone__name_en="Alpha")
    evaluation_assign(
        evaluations=Evaluation.objects.filter(pk=evaluation.pk), reviewer=carol, by=alice
    )
    cycle.indicators.filter(code="R3").update(min_value=None, max_value=None)
    return Evaluation.objects.select_related("cycle").get(pk=evaluation.pk)


def r3(evaluation: Evaluation) -> Indicator:
    return evaluation.cycle.indicators.get(code="R3")


def stored_r3(evaluation: Evaluation) -> Decimal | None:
    return Score.objects.get(evaluation=evaluation, indicator__code="R3").value


# --- the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("7", Decimal("7")),
        ("-12.5", Decimal("-12.5")),
        (" 0.0001 ", Decimal("0.0001")),
        ("１２．５", Decimal("12.5")),  # full-width, as a Chinese input method types it
        ("－３", Decimal("-3")),
        ("1e3", Decimal("1000")),
        (12.5, Decimal("12.5")),
        (7, Decimal("7")),
    ],
)
def test_a_value_is_read_from_plain_or_full_width_digits(text, value):
    assert value_from_text(text) == value


@pytest.mark.parametrize(
    "text",
    ["1,0", "1,234", "1,234,567.5", "１，０", "1 000", "NaN", "Infinity", "", "abc", "١٢", True],
)
def test_commas_separators_and_words_are_not_numbers(text):
    with pytest.raises(ValueError):
        value_from_text(text)


@pytest.mark.parametrize(
    "value",
    ["99999999999.9999", "-99999999999.9999", "12345678901.2345", "0.0001", "7.50000", "0"],
)
def test_values_of_at_most_11_and_4_digits_fit(value):
    assert value_problem(Decimal(value)) is None


@pytest.mark.parametrize(
    "value",
    ["100000000000", "-100000000000", "9999999999999999.5", "1e30", "1.23456", "1e-5", "NaN"],
)
def test_longer_values_do_not_fit(value):
    assert value_problem(Decimal(value)) is not None


# --- round trip, both databases ------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["12345678901.2345", str(VALUE_LARGEST), str(-VALUE_LARGEST), "0.0001", "-7.5"]
)
def test_every_admitted_value_comes_back_exactly(alpha, carol, value):
    evaluation_save(
        evaluation=alpha,
        by=carol,
        scores={r3(alpha).pk: ScoreInput(Decimal(value))},
        version=alpha.version,
    )
    assert stored_r3(alpha) == Decimal(value)
    assert Score.history.get(indicator__code="R3").value == Decimal(value)


def test_the_evaluation_page_shows_the_largest_value_as_entered(alpha, carol):
    client = Client()
    client.force_login(carol)
    url = reverse("evaluations:evaluation_detail", kwargs={"pk": alpha.pk})
    data = {"version": str(alpha.version)}
    for indicator in alpha.cycle.indicators.all():
        data[f"value_{indicator.pk}"] = "99999999999.9999" if indicator.code == "R3" else ""
        data[f"note_{indicator.pk}"] = ""
    assert client.post(url, data).status_code == 302
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="99999999999.9999"' in page.content.decode()


# --- the score writer: the last line of defence ----------------------------------------------


@pytest.mark.parametrize("value", [FIRST_TOO_LARGE, Decimal("1e30"), Decimal("1.23456")])
def test_the_score_writer_refuses_a_value_that_does_not_fit_and_writes_nothing(alpha, carol, value):
    with pytest.raises(ValidationError) as refused:
        scores_write(
            evaluation=alpha,
            by=carol,
            scores={r3(alpha).pk: ScoreInput(value)},
            version=alpha.version,
        )
    assert refused.value.message_dict == {"R3": [DOES_NOT_FIT]}
    assert not Score.objects.exists()
    assert Evaluation.objects.get(pk=alpha.pk).version == alpha.version


def test_the_score_writer_refuses_a_value_outside_the_indicators_range(alpha, carol):
    p1 = alpha.cycle.indicators.get(code="P1")
    with pytest.raises(ValidationError) as refused:
        scores_write(
            evaluation=alpha, by=carol, scores={p1.pk: ScoreInput(Decimal("11"))}, version=1
        )
    assert "above the highest valid value" in refused.value.message_dict["P1"][0]
    assert not Score.objects.exists()


# --- import_scores -------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scores.csv"
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_scores", "2021", str(path), *args, stdout=out)
    return out.getvalue()


def refused(path: Path) -> str:
    with pytest.raises(CommandError) as caught:
        run(path)
    assert "Nothing was imported." in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize(
    "value", ["100000000000", "9999999999999999.5", "1e30", "1.23456", "0.00001", "-1e12"]
)
def test_import_refuses_a_value_that_does_not_fit_with_the_same_message(alpha, tmp_path, value):
    path = write(tmp_path, f"zone,indicator,value\nBravo,P1,7\nAlpha,R3,{value}\n")
    assert f"row 3, column value: {DOES_NOT_FIT}" in refused(path)
    assert not Score.objects.exists()


@pytest.mark.parametrize("value", ['"1,0"', '"1,234"', '"1,234,567.5"', "１，０", '"10,5"'])
def test_import_refuses_any_comma_rather_than_guess_what_it_means(alpha, tmp_path, value):
    path = write(tmp_path, f"zone,indicator,value\nAlpha,R3,{value}\n")
    assert "has a comma: write numbers without thousands separators" in refused(path)
    assert not Score.objects.exists()


def test_import_reads_full_width_digits_and_point(alpha, tmp_path):
    run(write(tmp_path, "zone,indicator,value\nAlpha,R3,１２．５\n"))
    assert stored_r3(alpha) == Decimal("12.5")


def test_reimporting_a_file_with_trailing_zeros_is_unchanged(alpha, tmp_path):
    path = write(tmp_path, "zone,indicator,value\nAlpha,R3,12345678901.23450\n")
    assert "1 new" in run(path)
    assert "0 new, 0 updated, 1 unchanged" in run(path)
    assert stored_r3(alpha) == Decimal("12345678901.2345")


def test_import_refuses_a_spreadsheet_number_that_does_not_fit(alpha, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["zone", "indicator", "value"])
    workbook.active.append(["Alpha", "R3", 1e30])
    workbook.active.append(["Bravo", "R3", 0.00001])
    path = tmp_path / "scores.xlsx"
    workbook.save(path)
    message = refused(path)
    assert f"row 2, column value: {DOES_NOT_FIT}" in message
    assert f"row 3, column value: {DOES_NOT_FIT}" in message


def test_an_import_racing_a_reviewers_save_says_so_and_writes_nothing(
    alpha, carol, tmp_path, monkeypatch
):
    check = importing.scores_check

    def check_then_carol_saves(*args, **kwargs):
        checked = check(*args, **kwargs)
        # carol saves Alpha, which the file also changes, after the file was checked.
        evaluation_save(
            evaluation=Evaluation.objects.select_related("cycle").get(pk=alpha.pk),
            by=carol,
            scores={r3(alpha).pk: ScoreInput(Decimal("5"))},
            version=alpha.version,
        )
        return checked

    monkeypatch.setattr(importing, "scores_check", check_then_carol_saves)
    path = write(tmp_path, "zone,indicator,value\nBravo,R3,4\nAlpha,R3,7\n")
    message = refused(path)
    assert "The evaluation of Alpha was saved by someone else during the import" in message
    # Nothing of the file, Bravo's row included, was written. (carol's save ran inside the
    # import's transaction here, so it went too; saved from her own request, it stays.)
    assert not Score.objects.exists()


# --- the admin and the framework -------------------------------------------------------------


@pytest.fixture
def alice_client(client, alice):
    client.login(username="alice", password=PASSWORD)
    return client


def indicator_form(indicator: Indicator, **changes: str) -> dict[str, str]:
    data = {
        "code": indicator.code,
        "name_zh": indicator.name_zh,
        "name_en": indicator.name_en,
        "help_zh": indicator.help_zh,
        "help_en": indicator.help_en,
        "dimension": indicator.dimension,
        "kind": indicator.kind,
        "weight": str(indicator.weight),
        "max_points": "",
        "unit_zh": indicator.unit_zh,
        "unit_en": indicator.unit_en,
        "min_value": "0",
        "max_value": "",
        "higher_is_better": "on",
        "position": str(indicator.position),
    }
    return {**data, **changes}


@pytest.mark.parametrize("bound", ["100000000000", "1e30", "1.23456"])
def test_the_admin_refuses_a_bound_that_does_not_fit_with_the_same_message(
    alice_client, cycle, bound
):
    indicator = cycle.indicators.get(code="R3")
    url = reverse("admin:evaluations_indicator_change", args=[indicator.pk])
    response = alice_client.post(url, indicator_form(indicator, max_value=bound))
    assert response.status_code == 200
    assert DOES_NOT_FIT in response.content.decode()
    indicator.refresh_from_db()
    assert indicator.max_value == Decimal("100000")


def test_the_admin_keeps_the_largest_bound_exactly(alice_client, cycle):
    indicator = cycle.indicators.get(code="R3")
    url = reverse("admin:evaluations_indicator_change", args=[indicator.pk])
    response = alice_client.post(url, indicator_form(indicator, max_value="99999999999.9999"))
    assert response.status_code == 302
    indicator.refresh_from_db()
    assert indicator.max_value == VALUE_LARGEST


def test_scores_cannot_be_added_or_changed_in_the_admin(alice_client, alpha, carol):
    evaluation_save(
        evaluation=alpha, by=carol, scores={r3(alpha).pk: ScoreInput(Decimal(3))}, version=1
    )
    score = Score.objects.get()
    url = reverse("admin:evaluations_score_change", args=[score.pk])
    alice_client.post(url, {"value": "1e30", "note": ""})
    assert Score.objects.get().value == Decimal(3)
    assert alice_client.get(reverse("admin:evaluations_score_add")).status_code == 403


FRAMEWORK_HEADER = "code,dimension,kind,name_zh,name_en,weight,min_value,max_value\n"


@pytest.mark.parametrize(
    "bounds, message",
    [
        ("1e30,", DOES_NOT_FIT),
        (",100000000000", DOES_NOT_FIT),
        ("0.00001,", DOES_NOT_FIT),
        ('"1,0",', "is not a number"),
        ("10,5", "The highest valid value is below the lowest."),
    ],
)
def test_the_framework_check_refuses_a_range_the_column_cannot_hold(bounds, message):
    raw = f"{FRAMEWORK_HEADER}R9,results,measure,指标,Figure,5,{bounds}\n"
    from evaluations.framework import FRAMEWORK_FORMAT

    indicators, problems = framework_check(read_table(raw.encode(), table=FRAMEWORK_FORMAT))
    assert not indicators
    assert any(message in problem for problem in problems), problems


def test_every_measure_of_the_default_framework_has_a_range_that_a_new_cycle_copies(
    framework, zones
):
    measures = Indicator.objects.default_framework().filter(kind="measure")
    assert measures.exists()
    for measure in measures:
        assert measure.min_value is not None and measure.max_value is not None, measure.code
        assert measure.min_value < measure.max_value
    assert Indicator.objects.get(cycle=None, code="R2").min_value < 0  # growth can fall
    from evaluations.services import cycle_open

    first = cycle_open(year=2021)
    second = cycle_open(year=2022)
    for cycle in (first, second):
        assert {(i.code, i.min_value, i.max_value) for i in cycle.indicators.all()} == {
            (i.code, i.min_value, i.max_value) for i in Indicator.objects.default_framework()
        }


# --- repair_scores ----------------------------------------------------------------------------


def repair(*args: str) -> str:
    out = io.StringIO()
    call_command("repair_scores", *args, stdout=out)
    return out.getvalue()


def store_raw(score: Score, value: str) -> None:
    """Write a value the way an unchecked writer of old could, bypassing every check."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE evaluations_score SET value = %s WHERE id = %s", [value, score.pk])
        cursor.execute(
            "UPDATE evaluations_historicalscore SET value = %s WHERE id = %s", [value, score.pk]
        )


@pytest.fixture
def broken(alpha, carol) -> Score:
    """Alpha's R3 holding 9999999999999999.5 (SQLite only: PostgreSQL's column refuses it)."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses the value outright; see the test below")
    evaluation_save(
        evaluation=alpha,
        by=carol,
        scores={r3(alpha).pk: ScoreInput(Decimal(3), "counted in June")},
        version=1,
    )
    score = Score.objects.get()
    store_raw(score, "9999999999999999.5")
    return score


def test_a_value_that_does_not_fit_breaks_every_read_of_its_row(broken):
    with pytest.raises(InvalidOperation):
        Score.objects.get(pk=broken.pk)


def test_repair_scores_reports_and_clears_a_value_that_does_not_fit(broken, carol):
    out = repair()
    assert "Alpha, cycle 2021, indicator R3: 1" in out
    assert "score history record" in out
    assert "were cleared" in out

    score = Score.objects.get(pk=broken.pk)
    assert score.value is None
    assert score.note.startswith("counted in June\nThe stored value 1")
    assert "did not fit" in score.note
    latest = score.history.order_by("-history_id").first()
    assert latest.value is None
    assert "did not fit" in latest.history_change_reason
    # Every history record reads again, and the page opens; the value must be entered again.
    assert [r.value for r in Score.history.all()] == [None, None]
    client = Client()
    client.force_login(carol)
    url = reverse("evaluations:evaluation_detail", kwargs={"pk": broken.evaluation_id})
    assert client.get(url).status_code == 200
    assert "Nothing to repair" in repair()


def test_a_repaired_evaluation_that_was_submitted_returns_to_its_reviewer(broken):
    Evaluation.objects.filter(pk=broken.evaluation_id).update(status=EvaluationStatus.SUBMITTED)
    repair()
    evaluation = Evaluation.objects.get(pk=broken.evaluation_id)
    assert evaluation.status == EvaluationStatus.RETURNED
    assert "did not fit" in evaluation.return_reason


def test_a_dry_run_of_repair_scores_reports_and_changes_nothing(broken):
    out = repair("--dry-run")
    assert "Alpha, cycle 2021, indicator R3" in out
    assert "nothing was changed" in out
    with pytest.raises(InvalidOperation):
        Score.objects.get(pk=broken.pk)


def test_repair_scores_clears_an_indicator_bound_that_does_not_fit(alpha):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses the value outright")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE evaluations_indicator SET max_value = %s WHERE id = %s",
            ["1e30", r3(alpha).pk],
        )
    assert "indicator R3" in repair()
    assert Indicator.objects.get(pk=r3(alpha).pk).max_value is None


def test_repair_scores_has_nothing_to_repair_where_the_column_refuses_the_value(alpha, carol):
    evaluation_save(
        evaluation=alpha, by=carol, scores={r3(alpha).pk: ScoreInput(VALUE_LARGEST)}, version=1
    )
    if connection.vendor == "postgresql":
        with pytest.raises(DataError), transaction.atomic():
            store_raw(Score.objects.get(), "9999999999999999.5")
    assert "Nothing to repair: every stored value fits." in repair()
    assert Score.objects.get().value == VALUE_LARGEST


def test_the_narrowing_migration_stops_and_names_repair_scores_while_a_value_does_not_fit(
    broken,
):
    migration = importlib.import_module("evaluations.migrations.0009_score_values_fit_a_double")
    editor = SimpleNamespace(connection=connection)  # all the check uses of a schema editor
    with pytest.raises(RuntimeError, match=r"run `manage\.py repair_scores --dry-run`"):
        migration.refuse_values_that_do_not_fit(None, editor)
    repair()
    migration.refuse_values_that_do_not_fit(None, editor)
