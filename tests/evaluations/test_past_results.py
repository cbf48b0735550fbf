"""import_results: the years graded before zonetracker, all or nothing, and the years after.

Five zones approved in 2019 and Late, approved in June 2021 (after the cut-off of 2021).
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluations import rules
from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    EvaluationStatus,
    Outcome,
    Recommendation,
)
from evaluations.services import cycle_open, cycle_publish
from registry.models import Zone, ZoneStatus
from tests.factories import make_batch, make_province, make_zone, score_all

NAMES = {
    "Alpha": "甲市",
    "Bravo": "乙市",
    "Charlie": "丙市",
    "Weakling": "弱市",
    "Slipping": "滑市",
}


@pytest.fixture
def register(db):
    province = make_province()
    old = make_batch(approved_on=datetime.date(2019, 12, 15))
    late = make_batch(approved_on=datetime.date(2021, 6, 1))
    zones = {
        name_en: make_zone(name_en=name_en, name_zh=name_zh, province=province, batch=old)
        for name_en, name_zh in NAMES.items()
    }
    zones["Late"] = make_zone(name_en="Late", name_zh="迟市", province=province, batch=late)
    return zones


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "results.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(year: int, path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_results", str(year), str(path), *args, stdout=out)
    return out.getvalue()


def refused(year: int, path: Path, *args: str) -> str:
    before = (
        Cycle.objects.count(),
        Evaluation.objects.count(),
        Decision.objects.count(),
        Evaluation.history.count(),
        list(Zone.objects.order_by("pk").values_list("status", flat=True)),
    )
    with pytest.raises(CommandError) as caught:
        run(year, path, *args)
    after = (
        Cycle.objects.count(),
        Evaluation.objects.count(),
        Decision.objects.count(),
        Evaluation.history.count(),
        list(Zone.objects.order_by("pk").values_list("status", flat=True)),
    )
    assert after == before, "a refused import wrote something"
    message = str(caught.value)
    assert message.startswith("Nothing was imported.")
    return message


GOOD_2021 = (
    "zone,grade,rank,total,decision,decided_on\n"
    "Alpha,1,1,92.5,,\n"
    "乙市,成效较好,2,80,,\n"
    "charlie,initial results,3,65.25,,\n"
    "Slipping,3,4,61,,\n"
    "weakling,4,5,40,warn,2022-04-20\n"
)


# --- what an import writes ----------------------------------------------------------------


def test_it_creates_the_year_as_a_published_cycle_of_imported_results(register, tmp_path):
    out = run(2021, write(tmp_path, GOOD_2021))

    cycle = Cycle.objects.get(year=2021)
    assert cycle.status == CycleStatus.PUBLISHED and cycle.imported
    assert cycle.cutoff == datetime.date(2020, 12, 31)
    assert not cycle.indicators.exists()
    results = {
        e.zone.name_en: (e.grade, e.rank, e.total, e.status)
        for e in cycle.evaluations.select_related("zone")
    }
    approved = EvaluationStatus.APPROVED
    assert results == {
        "Alpha": (1, 1, Decimal("92.50"), approved),
        "Bravo": (2, 2, Decimal("80.00"), approved),
        "Charlie": (3, 3, Decimal("65.25"), approved),
        "Slipping": (3, 4, Decimal("61.00"), approved),
        "Weakling": (4, 5, Decimal("40.00"), approved),
    }
    assert Evaluation.history.filter(cycle_id=cycle.pk).count() == 5
    assert "5 zones graded, 5 with a rank, 1 decisions recorded." in out
    assert "grades as published; no scores kept" in out


def test_an_imported_decision_sets_the_zone_status_as_a_recorded_decision_does(register, tmp_path):
    run(2021, write(tmp_path, GOOD_2021))

    weakling = Zone.objects.get(name_en="Weakling")
    assert weakling.status == ZoneStatus.ON_NOTICE
    assert weakling.status_changed_on == datetime.date(2022, 4, 20)
    decision = Decision.objects.get(zone=weakling)
    assert decision.outcome == Outcome.WARN
    assert decision.recommendation == Recommendation.WARN
    assert decision.decided_at.date() == datetime.date(2022, 4, 20)
    assert "2022-04-20" in decision.rationale
    # The decision keeps its link to the status change, as the decisions page makes it.
    assert decision.status_change == weakling.history.order_by("-history_id").first()
    assert decision.status_change.status == ZoneStatus.ON_NOTICE
    # Only the file's decisions: no recommendation waits for anyone on a past year.
    assert Decision.objects.count() == 1


def test_ranks_and_totals_may_be_left_out(register, tmp_path):
    path = write(tmp_path, "试验区,档次\n甲市,成效明显\n乙市,2\n丙市,4\n")
    run(2021, path)
    cycle = Cycle.objects.get(year=2021)
    assert set(cycle.evaluations.values_list("grade", "rank", "total")) == {
        (1, None, None),
        (2, None, None),
        (4, None, None),
    }


def test_chinese_headers_with_the_short_zone_header_gb18030_and_xlsx_are_read(register, tmp_path):
    text = (
        "综试区,档次,名次,总分,处理决定,决定日期\n"
        "甲市,成效明显,1,90,,\n"
        "弱市,尚在起步阶段,2,30,整改,2022年5月1日\n"
    )
    run(2021, write(tmp_path, text, encoding="gb18030"))
    assert Zone.objects.get(name_en="Weakling").status == ZoneStatus.ON_NOTICE

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["zone", "grade", "decision", "decided_on"])
    sheet.append(["Alpha", 1, "retain", datetime.date(2023, 3, 1)])
    sheet.append(["Late", 2, None, None])
    path = tmp_path / "results.xlsx"
    workbook.save(path)
    run(2022, path)
    assert dict(
        Evaluation.objects.filter(cycle__year=2022).values_list("zone__name_en", "grade")
    ) == {"Alpha": 1, "Late": 2}
    assert Decision.objects.get(cycle__year=2022).outcome == Outcome.RETAIN


def test_a_dry_run_checks_and_writes_nothing(register, tmp_path):
    out = run(2021, write(tmp_path, GOOD_2021), "--dry-run")
    assert "Dry run: nothing was written." in out
    assert not Cycle.objects.exists()
    assert Zone.objects.get(name_en="Weakling").status == ZoneStatus.ACTIVE


def test_it_names_the_eligible_zones_the_file_leaves_out(register, tmp_path):
    out = run(2021, write(tmp_path, "zone,grade\nAlpha,1\n"))
    assert "4 zones approved by the cut-off of 2021 are not in the file" in out
    assert "Bravo, Charlie, Slipping, Weakling" in out


# --- every refusal --------------------------------------------------------------------------


def test_it_refuses_a_year_that_exists(register, tmp_path):
    run(2021, write(tmp_path, "zone,grade\nAlpha,1\n"))
    message = refused(2021, write(tmp_path, "zone,grade\nBravo,2\n"))
    assert "The cycle of 2021 exists already" in message


def test_it_refuses_a_zone_not_in_the_register(register, tmp_path):
    message = refused(2021, write(tmp_path, "zone,grade\nAlpha,1\nAtlantis,2\n"))
    assert "row 3, column zone: no zone called “Atlantis” is in the register." in message


def test_it_refuses_a_zone_approved_after_the_cut_off(register, tmp_path):
    message = refused(2021, write(tmp_path, "zone,grade\nAlpha,1\nLate,2\n"))
    assert (
        "row 3, column zone: Late was approved on 2021-06-01, after the cut-off of 2021 "
        "(2020-12-31): it took no part in that year." in message
    )


@pytest.mark.parametrize("grade", ["0", "5", "A", "excellent", ""])
def test_it_refuses_a_grade_out_of_range(register, tmp_path, grade):
    message = refused(2021, write(tmp_path, f"zone,grade\nAlpha,1\nBravo,{grade}\n"))
    assert "row 3, column grade: " in message
    assert "row 2" not in message


def test_it_refuses_a_rank_that_contradicts_the_grades_order(register, tmp_path):
    path = write(tmp_path, "zone,grade,rank\nAlpha,1,1\nBravo,3,2\nCharlie,2,3\n")
    message = refused(2021, path)
    assert (
        "row 4, column rank: rank 3 at grade 2 comes after rank 2 at grade 3 on row 3: ranks "
        "must follow the grades' order." in message
    )


def test_it_refuses_a_shared_rank_at_two_grades(register, tmp_path):
    message = refused(2021, write(tmp_path, "zone,grade,rank\nAlpha,1,1\nBravo,2,1\n"))
    assert "row 3, column rank: rank 1 is also held at grade 1 on row 2" in message


def test_it_refuses_a_zone_listed_twice(register, tmp_path):
    message = refused(2021, write(tmp_path, "zone,grade\nAlpha,1\nBravo,2\n甲市,3\n"))
    assert "row 4, column zone: Alpha is also on row 2; a zone may appear only once." in message


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ("0,,", "row 2, column rank: “0” is not a rank"),
        (",101,", "row 2, column total: “101” is not a total"),
        (",80.125,", "row 2, column total: “80.125” is not a total"),
        (",,maybe", "row 2, column decision: “maybe” is not a decision"),
        (",,warn", "row 2, column decided_on: the date of the decision is missing."),
    ],
)
def test_it_refuses_bad_ranks_totals_and_decisions(register, tmp_path, cells, expected):
    path = write(tmp_path, f"zone,grade,rank,total,decision\nWeakling,4,{cells}\n")
    assert expected in refused(2021, path)


@pytest.mark.parametrize(
    ("decision", "date", "expected"),
    [
        ("", "2022-03-01", "column decision: a date is given without a decision"),
        ("warn", "2021-12-31", "a decision on the results of 2021 is taken after that year"),
        ("exit", "2999-01-01", "2999-01-01 is in the future."),
        ("warn", "01/02/2022", "is ambiguous"),
    ],
)
def test_it_refuses_decisions_dated_wrong(register, tmp_path, decision, date, expected):
    path = write(tmp_path, f"zone,grade,decision,decided_on\nWeakling,4,{decision},{date}\n")
    assert expected in refused(2021, path)


def test_it_refuses_a_decision_on_a_zone_that_has_exited(register, tmp_path):
    run(2021, write(tmp_path, "zone,grade,decision,decided_on\nWeakling,4,exit,2022-04-01\n"))
    path = write(tmp_path, "zone,grade,decision,decided_on\nWeakling,4,warn,2023-04-01\n")
    assert "Weakling has exited already" in refused(2022, path)


def test_it_refuses_a_file_without_the_grade_column_and_lists_every_problem(register, tmp_path):
    assert "the required column grade (档次) is missing" in refused(
        2021, write(tmp_path, "zone,rank\nAlpha,1\n")
    )
    message = refused(2021, write(tmp_path, "zone,grade\nAtlantis,1\nAlpha,9\nLate,2\n"))
    assert message.count("row ") == 3


def test_a_user_without_the_permission_is_refused(register, tmp_path, bob):
    with pytest.raises(CommandError, match=r"lacks the permission evaluations\.import_results"):
        run(2021, write(tmp_path, GOOD_2021), "--user", "bob")
    assert not Cycle.objects.exists()


def test_an_administrator_is_recorded_as_the_importer(register, tmp_path, alice):
    run(2021, write(tmp_path, GOOD_2021), "--user", "alice")
    cycle = Cycle.objects.get(year=2021)
    assert cycle.published_by == alice
    assert Decision.objects.get().decided_by == alice
    assert set(Evaluation.history.values_list("history_user__username", flat=True)) == {"alice"}


# --- the rules ------------------------------------------------------------------------------


def test_carries_ranks_needs_a_rank_for_every_entry():
    assert rules.carries_ranks([rules.CycleEntry(1, 1), rules.CycleEntry(4, 2)])
    assert not rules.carries_ranks([rules.CycleEntry(1, 1), rules.CycleEntry(4, None)])
    assert not rules.carries_ranks([])


# --- the years after --------------------------------------------------------------------------


@pytest.fixture
def framework(db):
    from evaluations.framework import framework_load

    framework_load()


def test_open_cycle_after_an_imported_year_copies_the_default_framework_and_says_so(
    register, framework, tmp_path
):
    run(2022, write(tmp_path, "zone,grade\nAlpha,1\n"))
    out = io.StringIO()
    call_command("open_cycle", "2023", stdout=out)
    assert (
        "The cycle of 2022 holds imported results (grades only, no framework): the default "
        "framework was copied." in out.getvalue()
    )
    cycle = Cycle.objects.get(year=2023)
    from evaluations.models import Indicator

    assert sorted(cycle.indicators.values_list("code", flat=True)) == sorted(
        Indicator.objects.default_framework().values_list("code", flat=True)
    )


def test_three_years_two_imported_one_entered_the_grade_run_rule_counts_them_all(
    register, framework, tmp_path
):
    """2021 and 2022 graded before zonetracker; 2023 entered and published in it.

    Weakling is at grade 4 in both imported years and again in 2023: recommended for exit.
    Slipping is at grade 4 in 2022 only, warned then, and recovers in 2023: its notice is
    lifted, as the rule says.
    """
    run(2021, write(tmp_path, GOOD_2021))
    run(
        2022,
        write(
            tmp_path,
            "zone,grade,decision,decided_on\n"
            "Alpha,1,,\nBravo,2,,\nCharlie,3,,\nLate,3,,\n"
            "Slipping,4,warn,2023-04-18\nWeakling,4,rectify,2023-04-18\n",
        ),
    )
    imported_2022 = Decision.objects.get(cycle__year=2022, zone__name_en="Weakling")
    # The rule read both imported years: by 2022 Weakling had two failing cycles in a row.
    assert (imported_2022.recommendation, imported_2022.failing_run) == (Recommendation.EXIT, 2)
    assert Zone.objects.get(name_en="Slipping").status == ZoneStatus.ON_NOTICE

    cycle = cycle_open(year=2023)
    Cycle.objects.filter(pk=cycle.pk).update(grade1_size=1)
    cycle.refresh_from_db()
    points = {"Alpha": 9, "Bravo": 8, "Charlie": 7, "Late": 8, "Slipping": 7, "Weakling": 1}
    score_all(cycle, points)
    cycle_publish(cycle=cycle)

    grades = dict(cycle.evaluations.values_list("zone__name_en", "grade"))
    assert grades["Weakling"] == 4 and grades["Slipping"] < 4
    advice = {
        d.zone.name_en: (d.recommendation, d.failing_run)
        for d in Decision.objects.filter(cycle=cycle).select_related("zone")
    }
    # Grade 4 in 2021 and 2022 (imported) and in 2023: a run of three, beyond the limit of two.
    assert advice == {"Weakling": (Recommendation.EXIT, 3), "Slipping": (Recommendation.LIFT, 0)}


def test_a_zone_at_grade_4_in_the_last_imported_year_only_is_warned_in_the_first_entered_one(
    register, framework, tmp_path
):
    run(2021, write(tmp_path, "zone,grade\nAlpha,1\nBravo,2\nCharlie,3\nSlipping,3\nWeakling,3\n"))
    run(2022, write(tmp_path, "zone,grade\nAlpha,1\nBravo,2\nCharlie,3\nSlipping,3\nWeakling,4\n"))
    cycle = cycle_open(year=2023)
    Cycle.objects.filter(pk=cycle.pk).update(grade1_size=1)
    cycle.refresh_from_db()
    points = {"Alpha": 9, "Bravo": 8, "Charlie": 7, "Late": 8, "Slipping": 1, "Weakling": 1}
    score_all(cycle, points)
    cycle_publish(cycle=cycle)
    advice = {
        d.zone.name_en: (d.recommendation, d.failing_run)
        for d in Decision.objects.filter(cycle=cycle).select_related("zone")
    }
    assert advice == {"Weakling": (Recommendation.EXIT, 2), "Slipping": (Recommendation.WARN, 1)}


def test_an_imported_decision_the_rule_had_no_advice_for_gives_no_reason(register, tmp_path):
    run(2021, write(tmp_path, "zone,grade,decision,decided_on\nAlpha,1,retain,2022-04-20\n"))
    decision = Decision.objects.get()
    assert (decision.recommendation, decision.outcome, decision.reason) == ("", "retain", "")
    assert Zone.objects.get(name_en="Alpha").status == ZoneStatus.ACTIVE


def test_it_refuses_a_decision_older_than_one_already_taken_on_the_zone(register, tmp_path):
    run(2022, write(tmp_path, "zone,grade,decision,decided_on\nWeakling,4,warn,2023-04-01\n"))
    path = write(tmp_path, "zone,grade,decision,decided_on\nWeakling,4,retain,2022-04-01\n")
    assert (
        "row 2, column decision: Weakling has a decision on the results of 2022 already: "
        "results are imported oldest first, and this decision would undo that one."
    ) in refused(2021, path)
    # Without the decision, the earlier year is imported: only statuses are at stake.
    run(2021, write(tmp_path, "zone,grade\nWeakling,4\n"))
    assert Zone.objects.get(name_en="Weakling").status == ZoneStatus.ON_NOTICE
