"""Each exit rule through the commands, over two and three cycles: cycle_policy sets the
policy, compute_rankings and publish_cycle apply it, export_rankings and what_if show it.

Eight zones: six in the east (Ash … Fir), two in the west (Gum, Hop). Each cycle gives each
zone a share of every indicator's range; a higher share ranks higher.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluations.models import Cycle, Decision, Evaluation, ExitRule
from registry.models import Region
from tests.factories import make_batch, make_province, make_zone, score_all

EAST = ["Ash", "Birch", "Cedar", "Dogwood", "Elm", "Fir"]
WEST = ["Gum", "Hop"]


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def rows(text: str) -> dict[str, dict[str, str]]:
    return {row["zone"]: row for row in csv.DictReader(io.StringIO(text))}


@pytest.fixture
def register(framework):
    east = make_province(region=Region.EAST)
    west = make_province(region=Region.WEST)
    batch = make_batch()
    for name in EAST:
        make_zone(name_en=name, name_zh=f"{name}市", province=east, batch=batch)
    for name in WEST:
        make_zone(name_en=name, name_zh=f"{name}市", province=west, batch=batch)


def publish(year: int, shares: dict[str, int], *policy_options: str) -> dict[str, dict]:
    """Open the cycle of ``year`` (its policy copied forward), apply ``policy_options``,
    score every zone (share of 10), rank, publish; returns export_rankings by zone."""
    run("open_cycle", str(year))
    if policy_options:
        run("cycle_policy", str(year), *policy_options)
    score_all(Cycle.objects.get(year=year), shares)
    run("compute_rankings", str(year))
    run("publish_cycle", str(year))
    return rows(run("export_rankings", str(year)))


def recommendations(export: dict[str, dict]) -> dict[str, str]:
    return {zone: row["recommendation"] for zone, row in export.items() if row["recommendation"]}


# Shares by default: the order of the names, best first; Hop is last.
ORDER = {name: 10 - i for i, name in enumerate([*EAST, *WEST])}


def test_cycle_policy_prints_the_policy_as_json_and_changes_it(register):
    run("open_cycle", "2021")
    policy = json.loads(run("cycle_policy", "2021"))
    assert policy == {
        "year": 2021,
        "status": "open",
        "rule": "grade-run",
        "failing_grade": 4,
        "bottom": 5,
        "times": 2,
        "within": 3,
        "grade1_size": 10,
        "grade2_threshold": 75,
        "grade3_threshold": 60,
        "adjustment_cap": 10,
    }
    changed = json.loads(
        run(
            "cycle_policy",
            "2021",
            "--rule",
            "region-bottom",
            "--bottom",
            "3",
            "--times",
            "2",
            "--within",
            "4",
            "--grade2-threshold",
            "72.5",
            "--adjustment-cap",
            "5",
        )
    )
    assert changed["rule"] == "region-bottom"
    assert (changed["bottom"], changed["times"], changed["within"]) == (3, 2, 4)
    assert changed["grade2_threshold"] == 72.5
    assert changed["adjustment_cap"] == 5
    cycle = Cycle.objects.get(year=2021)
    assert cycle.exit_rule == ExitRule.REGION_BOTTOM and cycle.exit_bottom == 3
    assert cycle.history.count() == 2  # the change is kept in the cycle's history


def test_cycle_policy_refuses_bad_values_and_changes_nothing(register):
    run("open_cycle", "2021")
    with pytest.raises(CommandError):
        run("cycle_policy", "2021", "--rule", "region-bottom", "--times", "4", "--within", "3")
    with pytest.raises(CommandError):
        run("cycle_policy", "2021", "--grade3-threshold", "80")
    assert Cycle.objects.get(year=2021).exit_rule == ExitRule.GRADE_RUN


def test_the_policy_is_frozen_once_published_and_copied_forward(register):
    publish(2021, ORDER, "--rule", "region-and-nation-bottom", "--bottom", "2")
    with pytest.raises(CommandError, match="published"):
        run("cycle_policy", "2021", "--bottom", "3")
    assert Cycle.objects.get(year=2021).exit_bottom == 2
    # Printing a published cycle's policy is allowed.
    assert json.loads(run("cycle_policy", "2021"))["status"] == "published"
    run("open_cycle", "2022")
    assert json.loads(run("cycle_policy", "2022"))["rule"] == "region-and-nation-bottom"
    assert json.loads(run("cycle_policy", "2022"))["bottom"] == 2


def test_cycle_policy_exits_with_status_1_on_a_published_cycle(register, monkeypatch):
    publish(2021, ORDER)
    from django.core.management import execute_from_command_line

    with pytest.raises(SystemExit) as stopped:
        execute_from_command_line(["manage.py", "cycle_policy", "2021", "--times", "3"])
    assert stopped.value.code == 1


def test_grade_run_over_two_cycles(register):
    """Hop far behind in both cycles: graded 4 twice, warned then recommended for exit."""
    shares = {**ORDER, "Hop": 1}
    first = publish(2021, shares, "--grade1-size", "1")
    assert first["Hop"]["grade"] == "4"
    assert recommendations(first) == {
        zone: "warn" for zone, row in first.items() if row["grade"] == "4"
    }
    second = publish(2022, shares)
    assert second["Hop"]["recommendation"] == "exit"
    decision = Decision.objects.get(cycle__year=2022, zone__name_en="Hop")
    assert decision.failing_run == 2
    assert "grade 4 or worse in 2 consecutive" in decision.reason


def test_region_bottom_over_three_cycles(register):
    """Bottom 2 of the region in 2 of the last 3: Fir is in the east's bottom two in 2021,
    out of it in 2022, in it again (tied) in 2023: warned, nothing, then exit."""
    options = ("--rule", "region-bottom", "--bottom", "2", "--times", "2", "--within", "3")
    first = publish(2021, ORDER, *options)
    # The east's bottom two: Elm and Fir; the west has two zones, both in its bottom two.
    assert recommendations(first) == {"Elm": "warn", "Fir": "warn", "Gum": "warn", "Hop": "warn"}
    second = publish(2022, {**ORDER, "Fir": 10, "Ash": 5})
    assert second["Fir"]["recommendation"] == ""
    assert recommendations(second)["Elm"] == "exit"
    # Fir ties Elm at the bottom of the east in 2023: both are in the bottom two.
    shares = {**ORDER, "Fir": ORDER["Elm"]}
    third = publish(2023, shares)
    assert third["Fir"]["rank"] == third["Elm"]["rank"]
    assert third["Fir"]["recommendation"] == "exit"
    assert Decision.objects.get(cycle__year=2023, zone__name_en="Fir").failing_run == 2


def test_region_and_nation_bottom_over_two_cycles(register):
    """Bottom 2 of the region and of the nation: Gum and Hop (the west's two, the nation's
    last two) in both; Fir is in the east's bottom two and 6th nationally, not in both."""
    options = ("--rule", "region-and-nation-bottom", "--bottom", "2", "--times", "2")
    first = publish(2021, ORDER, *options)
    assert recommendations(first) == {"Gum": "warn", "Hop": "warn"}
    second = publish(2022, {**ORDER, "Gum": 10, "Ash": 3})
    # Ash falls to tie Hop at the bottom of the nation and of the east: warned, its first.
    assert recommendations(second) == {"Ash": "warn", "Hop": "exit"}
    assert "bottom 2 of its region and nationally in 2 consecutive" in (
        Decision.objects.get(cycle__year=2022, zone__name_en="Hop").reason
    )


def test_what_if_shows_another_rule_without_writing(register):
    publish(2021, ORDER, "--grade1-size", "1")
    run("open_cycle", "2022")
    cycle = Cycle.objects.get(year=2022)
    score_all(cycle, ORDER)
    run("compute_rankings", "2022")
    before = list(Evaluation.objects.filter(cycle=cycle).values_list("zone_id", "rank", "grade"))
    history = Cycle.history.count(), Evaluation.history.count(), Decision.objects.count()

    text = run(
        "what_if", "2022", "--rule", "region-and-nation-bottom", "--bottom", "2", "--times", "2"
    )
    assert text.splitlines()[0] == (
        "zone,rank,grade,recommendation,trial_grade,trial_recommendation"
    )
    table = rows(text)
    assert set(table) == {*EAST, *WEST}
    # Now: grade-run (the grade 4 zones were warned in 2021, exit in 2022); the trial: only
    # Gum and Hop, at the bottom of the west and of the nation twice.
    now = {z: r["recommendation"] for z, r in table.items() if r["recommendation"]}
    assert now and set(now.values()) == {"exit"}
    trial = {z: r["trial_recommendation"] for z, r in table.items() if r["trial_recommendation"]}
    assert trial == {"Gum": "exit", "Hop": "exit"}
    assert all(r["grade"] == r["trial_grade"] for r in table.values())

    as_json = json.loads(run("what_if", "2022", "--grade1-size", "3", "--format", "json"))
    by_zone = {row["zone"]: row for row in as_json}
    assert [by_zone[z]["trial_grade"] for z in ["Ash", "Birch", "Cedar"]] == [1, 1, 1]
    assert by_zone["Birch"]["grade"] != 1
    assert by_zone["Ash"]["rank"] == 1

    assert (
        list(Evaluation.objects.filter(cycle=cycle).values_list("zone_id", "rank", "grade"))
        == before
    )
    assert (Cycle.history.count(), Evaluation.history.count(), Decision.objects.count()) == (
        history
    )
    assert Cycle.objects.get(year=2022).exit_rule == ExitRule.GRADE_RUN


def test_what_if_refuses_a_policy_that_cannot_be(register):
    run("open_cycle", "2021")
    with pytest.raises(CommandError):
        run("what_if", "2021", "--grade2-threshold", "50", "--grade3-threshold", "70")


def test_what_if_reads_a_published_cycle(register):
    publish(2021, ORDER, "--grade1-size", "1")
    table = rows(run("what_if", "2021", "--grade1-size", "2"))
    assert table["Birch"]["trial_grade"] == "1"
    assert table["Birch"]["grade"] != "1"


def test_adjustments_through_import_scores_move_the_total(register, tmp_path):
    from evaluations.models import Indicator, IndicatorKind

    run("open_cycle", "2021")
    cycle = Cycle.objects.get(year=2021)
    Indicator.objects.create(
        cycle=cycle,
        code="B1",
        name_zh="加分",
        name_en="Bonus",
        dimension="results",
        kind=IndicatorKind.ADJUSTMENT,
        weight=Decimal(1),
        min_value=Decimal(-5),
        max_value=Decimal(5),
        position=999,
    )
    score_all(cycle, ORDER)
    # score_all gave B1 a share like any measure; import_scores sets it for two zones.
    Evaluation.objects.filter(cycle=cycle).update(status="draft")
    from evaluations.models import Score

    Score.objects.filter(indicator__code="B1").update(value=0)
    run("compute_rankings", "2021")
    plain = dict(Evaluation.objects.filter(cycle=cycle).values_list("zone__name_en", "total"))
    scores = tmp_path / "scores.csv"
    scores.write_text("zone,indicator,value\nHop,B1,4.5\nAsh,B1,-3\n", encoding="utf-8")
    run("import_scores", "2021", str(scores))
    run("compute_rankings", "2021")
    adjusted = dict(Evaluation.objects.filter(cycle=cycle).values_list("zone__name_en", "total"))
    assert adjusted["Hop"] == plain["Hop"] + Decimal("4.5")
    assert adjusted["Ash"] == plain["Ash"] - 3
    assert adjusted["Elm"] == plain["Elm"]


def test_an_adjustment_indicator_needs_its_range(register):
    from django.core.exceptions import ValidationError

    from evaluations.models import Indicator, IndicatorKind

    run("open_cycle", "2021")
    bonus = Indicator(
        cycle=Cycle.objects.get(year=2021),
        code="B1",
        name_zh="加分",
        name_en="Bonus",
        dimension="results",
        kind=IndicatorKind.ADJUSTMENT,
        weight=Decimal(1),
    )
    with pytest.raises(ValidationError, match="need their range"):
        bonus.full_clean()
    bonus.min_value, bonus.max_value = Decimal(-5), Decimal(5)
    bonus.full_clean()
    with pytest.raises(ValidationError, match="above the highest valid value"):
        bonus.validate_value(Decimal(6))
