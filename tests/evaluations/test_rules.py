"""The survival-of-the-fittest rule, sequence by sequence."""

import pytest

from evaluations.rules import (
    EXIT,
    LIFT,
    REGION_AND_NATION_BOTTOM,
    REGION_BOTTOM,
    WARN,
    Advice,
    Placing,
    RulePolicy,
    Standing,
    applies_to,
    failing_run,
    in_bottom,
    recommend,
    recommend_all,
    standings,
)


def graded(grades):
    """A grade-run history: a standing per grade, None where the zone was not ranked."""
    return [None if grade is None else Standing(grade=grade) for grade in grades]


@pytest.mark.parametrize(
    ("grades", "on_notice", "expected"),
    [
        ([1], False, None),
        ([3], False, None),
        ([4], False, WARN),
        ([2, 4], False, WARN),
        ([4, 4], True, EXIT),
        ([4, 4], False, EXIT),
        ([4, 4, 4], True, EXIT),
        ([4, 3], True, LIFT),
        ([4, 1], True, LIFT),
        ([3, 3], False, None),
        ([4, None, 4], False, WARN),  # not evaluated in between: not consecutive
        ([4, None], True, None),  # not evaluated now: nothing to recommend
        ([None, 4], False, WARN),
        ([], False, None),
    ],
)
def test_each_sequence_of_grades_gets_its_recommendation(grades, on_notice, expected):
    assert recommend(graded(grades), on_notice=on_notice).recommendation == expected


def test_the_failing_grade_and_the_run_length_come_from_the_policy():
    strict = RulePolicy(failing_grade=3, exit_after=3)
    assert recommend(graded([3, 4]), on_notice=True, policy=strict).recommendation == WARN
    assert recommend(graded([3, 4, 3]), on_notice=True, policy=strict).recommendation == EXIT
    assert recommend(graded([4, 2]), on_notice=True, policy=strict).recommendation == LIFT
    immediate = RulePolicy(exit_after=1)
    assert recommend(graded([4]), on_notice=False, policy=immediate).recommendation == EXIT


def test_the_failing_run_counts_only_the_latest_consecutive_cycles():
    assert failing_run(graded([4, 4, 3, 4, 4]), RulePolicy()) == 2
    assert failing_run(graded([4, 4, None, 4]), RulePolicy()) == 1
    assert failing_run(graded([4, 4, 3]), RulePolicy()) == 0


# --- bottom K: competition ranks, ties included --------------------------------------------


def test_a_zone_tied_into_the_bottom_k_is_in_it():
    # Ten zones, the 5th and 6th tied at rank 5: both are in the bottom 5 (only four below).
    ranks = [1, 2, 3, 4, 5, 5, 7, 8, 9, 10]
    assert in_bottom(5, ranks, 5)
    assert in_bottom(10, ranks, 5)
    assert not in_bottom(4, ranks, 5)
    # Without the tie, the 5th is safe: five rank below it.
    assert not in_bottom(5, list(range(1, 11)), 5)


def test_in_a_region_smaller_than_k_every_zone_is_in_its_bottom():
    assert all(in_bottom(rank, [3, 8], 5) for rank in [3, 8])


def _cycle(ranks_by_region, grades=None):
    """Placings of one cycle: {zone: (rank, region)}; grade 4 for the ten worst ranks."""
    return {
        zone: Placing(rank, (grades or {}).get(zone, 4 if rank and rank > 10 else 2), region)
        if rank is not None
        else Placing(None, None, region)
        for zone, (rank, region) in ranks_by_region.items()
    }


def test_standings_read_the_national_ranks_within_each_region():
    # East: e1..e6 ranked 1, 2, 4, 6, 8, 10; west: w1..w4 ranked 3, 5, 7, 9; w5 not ranked.
    placings = _cycle(
        {
            "e1": (1, "east"),
            "e2": (2, "east"),
            "w1": (3, "west"),
            "e3": (4, "east"),
            "w2": (5, "west"),
            "e4": (6, "east"),
            "w3": (7, "west"),
            "e5": (8, "east"),
            "w4": (9, "west"),
            "e6": (10, "east"),
            "w5": (None, "west"),
        }
    )
    result = standings(placings, RulePolicy(bottom=2))
    assert {z for z, s in result.items() if s.region_bottom} == {"e5", "e6", "w3", "w4"}
    assert {z for z, s in result.items() if s.nation_bottom} == {"w4", "e6"}
    assert "w5" not in result


# --- region-bottom: N of the last M ranked cycles -----------------------------------------

NATIONAL_ECONOMIC_ZONES = RulePolicy(rule=REGION_BOTTOM, bottom=5, exit_after=2, within=3)


def bottom(region=True, nation=False):
    return Standing(grade=3, region_bottom=region, nation_bottom=nation)


SAFE = Standing(grade=1)


@pytest.mark.parametrize(
    ("history", "expected", "count"),
    [
        ([bottom()], WARN, 1),  # N−1 = 1 of them and in the bottom now
        ([SAFE], None, 0),
        ([bottom(), bottom()], EXIT, 2),  # twice within three
        ([bottom(), SAFE, bottom()], EXIT, 2),
        ([bottom(), SAFE, SAFE, bottom()], WARN, 1),  # the first is no longer among the 3
        ([bottom(), bottom(), SAFE], EXIT, 2),  # twice within the last three, not now
        ([bottom(), None, SAFE, bottom()], EXIT, 2),  # not ranked: not one of the M
        ([bottom(), None], None, 0),  # not ranked now: nothing to recommend
        ([SAFE, SAFE, bottom()], WARN, 1),
    ],
)
def test_region_bottom_counts_bottom_places_among_the_last_m_ranked_cycles(
    history, expected, count
):
    advice = recommend(history, on_notice=False, policy=NATIONAL_ECONOMIC_ZONES)
    assert (advice.recommendation, advice.failing_run) == (expected, count)


def test_region_bottom_warns_only_at_n_minus_one():
    three_of_five = RulePolicy(rule=REGION_BOTTOM, exit_after=3, within=5)
    assert recommend([bottom()], on_notice=False, policy=three_of_five).recommendation is None
    assert recommend(
        [bottom(), bottom()], on_notice=False, policy=three_of_five
    ).recommendation == (WARN)
    assert (
        recommend([bottom(), SAFE, bottom(), bottom()], on_notice=False, policy=three_of_five)
    ).recommendation == EXIT
    # On notice and out of the bottom: the notice is lifted.
    assert recommend([bottom(), SAFE], on_notice=True, policy=three_of_five).recommendation == LIFT


# --- region-and-nation-bottom: both, N consecutive cycles ---------------------------------

BONDED_ZONES = RulePolicy(rule=REGION_AND_NATION_BOTTOM, bottom=5, exit_after=2)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([bottom(nation=True)], WARN),
        ([bottom(nation=False)], None),  # bottom of its region only
        ([bottom(region=False, nation=True)], None),  # bottom nationally only
        ([bottom(nation=True), bottom(nation=True)], EXIT),
        ([bottom(nation=True), bottom(nation=False), bottom(nation=True)], WARN),
        ([bottom(nation=True), None, bottom(nation=True)], WARN),  # a gap breaks the run
        ([bottom(nation=True), bottom(nation=True), bottom(nation=True)], EXIT),
    ],
)
def test_region_and_nation_bottom_needs_both_in_consecutive_cycles(history, expected):
    assert recommend(history, on_notice=False, policy=BONDED_ZONES).recommendation == expected


def test_recommend_all_reads_each_cycle_with_ties_and_gaps():
    """Six zones of one region: bottom 2. Fox is missing from 2021; Echo ties into the
    bottom in 2022."""
    policy = RulePolicy(rule=REGION_BOTTOM, bottom=2, exit_after=2, within=3)
    y2020 = _cycle(
        {z: (r, "east") for z, r in [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5), ("f", 6)]}
    )
    y2021 = _cycle(
        {z: (r, "east") for z, r in [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)]}
        | {"f": (None, "east")}
    )
    y2022 = _cycle(
        {z: (r, "east") for z, r in [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5), ("f", 5)]}
    )
    advice = recommend_all([y2020, y2021, y2022], on_notice={"d"}, policy=policy)
    assert advice["f"].recommendation == EXIT  # 2020 and 2022; 2021 not one of the M
    assert advice["e"].recommendation == EXIT  # 2020, 2021 and, tied, 2022
    assert advice["d"].recommendation == LIFT  # in the bottom in 2021 only, on notice
    assert advice["c"].recommendation is None


def _imported(grades, ranks=None):
    """An imported year: grades as published, ranks only where given."""
    ranks = ranks or {}
    return {z: Placing(ranks.get(z), grade, "east") for z, grade in grades.items()}


def test_the_grade_rule_reads_an_imported_year_of_grades_alone():
    y2021 = _imported({"a": 1, "b": 4, "c": 3})
    y2022 = _imported({"a": 1, "b": 4, "c": 4})
    y2023 = {"a": Placing(1, 1, "east"), "b": Placing(3, 4, "east"), "c": Placing(2, 3, "east")}
    advice = recommend_all([y2021, y2022, y2023], on_notice={"c"}, policy=RulePolicy())
    assert advice["b"].recommendation == EXIT  # grade 4 in 2021, 2022 and 2023
    assert advice["b"].failing_run == 3
    assert advice["c"].recommendation == LIFT  # grade 4 in 2022 only, grade 3 now
    assert advice["a"].recommendation is None


def test_the_bottom_rules_cannot_apply_to_an_imported_year_without_ranks():
    """2022 was imported with grades alone: the bottom rules read it as a year in which no
    zone was ranked (not one of the M, a break in a run), whatever the grades say."""
    ranked = {z: (r, "east") for z, r in [("a", 1), ("b", 2), ("c", 3)]}
    y2021 = _cycle(ranked)
    y2022 = _imported({"a": 1, "b": 2, "c": 4}, ranks={"a": 1})  # not every rank given
    y2023 = _cycle(ranked)
    region = RulePolicy(rule=REGION_BOTTOM, bottom=1, exit_after=2, within=2)
    assert recommend_all([y2021, y2022, y2023], on_notice=(), policy=region)["c"] == Advice(
        EXIT, 2
    )  # its last 2 ranked years are 2021 and 2023
    both = RulePolicy(rule=REGION_AND_NATION_BOTTOM, bottom=1, exit_after=2)
    assert recommend_all([y2021, y2022, y2023], on_notice=(), policy=both)["c"] == Advice(
        WARN, 1
    )  # the run is broken by 2022
    assert not applies_to(y2022, region)
    assert applies_to(y2022, RulePolicy())
    assert applies_to(y2021, region)
    with_ranks = _imported({"a": 1, "b": 2, "c": 4}, ranks={"a": 1, "b": 2, "c": 3})
    assert applies_to(with_ranks, both)
    assert recommend_all([y2021, with_ranks, y2023], on_notice=(), policy=both)["c"] == Advice(
        EXIT, 3
    )
