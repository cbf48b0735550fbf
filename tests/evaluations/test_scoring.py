"""The scoring rules, checked by hand on worked examples and by invariants on random input."""

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluations.models import Grade
from evaluations.scoring import (
    Entry,
    IndicatorSpec,
    Policy,
    competition_ranks,
    cycle_measure_bounds,
    grade_for,
    measure_bounds,
    measure_score,
    points_score,
    points_to_next_grade,
    round_total,
    score_entries,
    weighted_total,
)

D = Decimal


# --- worked examples ---------------------------------------------------------------------


def test_points_are_a_share_of_the_maximum():
    assert points_score(D(7), D(10)) == D(70)
    assert points_score(D("2.5"), D(5)) == D(50)


def test_a_measure_scores_its_distance_from_the_worst_towards_the_frontier():
    worst, frontier = measure_bounds([D(10), D(20), D(50)], higher_is_better=True, log_scale=False)
    assert (worst, frontier) == (D(10), D(50))
    assert measure_score(D(20), worst=worst, frontier=frontier, log_scale=False) == D(25)
    assert measure_score(D(50), worst=worst, frontier=frontier, log_scale=False) == D(100)
    assert measure_score(D(10), worst=worst, frontier=frontier, log_scale=False) == D(0)


def test_when_lower_is_better_the_lowest_figure_is_the_frontier():
    worst, frontier = measure_bounds([D(10), D(20), D(50)], higher_is_better=False, log_scale=False)
    assert (worst, frontier) == (D(50), D(10))
    assert measure_score(D(20), worst=worst, frontier=frontier, log_scale=False) == D(75)


def test_a_log_scale_compares_orders_of_magnitude():
    worst, frontier = measure_bounds([D(1), D(10), D(1000)], higher_is_better=True, log_scale=True)
    assert (worst, frontier) == (D(0), D(3))
    assert measure_score(D(10), worst=worst, frontier=frontier, log_scale=True) == pytest.approx(
        D("33.33333"), abs=D("0.0001")
    )


def test_when_every_zone_has_the_same_figure_every_zone_scores_100():
    worst, frontier = measure_bounds([D(7), D(7)], higher_is_better=True, log_scale=False)
    assert measure_score(D(7), worst=worst, frontier=frontier, log_scale=False) == D(100)


def test_totals_are_weighted_and_rounded_half_up():
    assert weighted_total({"a": D(80), "b": D(60)}, {"a": D(3), "b": D(1)}) == D("75.00")
    assert round_total(D("74.995")) == D("75.00")
    assert round_total(D("74.994999")) == D("74.99")
    assert round_total(D("0.005")) == D("0.01")


def test_ranks_follow_standard_competition_ranking_and_ties_are_listed_by_name():
    ranks = competition_ranks(
        [("z", "Zhuhai", D(90)), ("a", "Anqing", D(80)), ("b", "Baotou", D(90)), ("c", "C", D(70))]
    )
    assert ranks == [("b", 1), ("z", 1), ("a", 3), ("c", 4)]


def test_grades_follow_the_policy():
    policy = Policy(grade1_size=2, grade2_threshold=D(75), grade3_threshold=D(60))
    assert grade_for(rank=2, total=D(50), policy=policy) == 1
    assert grade_for(rank=3, total=D(75), policy=policy) == 2
    assert grade_for(rank=3, total=D("74.99"), policy=policy) == 3
    assert grade_for(rank=3, total=D(60), policy=policy) == 3
    assert grade_for(rank=3, total=D("59.99"), policy=policy) == 4


def test_a_tie_at_the_edge_of_grade_1_puts_both_zones_in_grade_1():
    policy = Policy(grade1_size=1)
    assert grade_for(rank=1, total=D(90), policy=policy) == 1
    assert [r for _k, r in competition_ranks([("a", "A", D(90)), ("b", "B", D(90))])] == [1, 1]


FRAMEWORK = [
    IndicatorSpec("P1", D(1), "points", max_points=D(10)),
    IndicatorSpec("R1", D(1), "measure"),
]


def test_a_small_cycle_scored_by_hand():
    # P1: 10→100, 5→50, 0→0. R1 (10, 30, 20): 0, 100, 50. Totals: 50, 75, 25.
    entries = [
        Entry("a", "Anqing", {"P1": D(10), "R1": D(10)}),
        Entry("b", "Baotou", {"P1": D(5), "R1": D(30)}),
        Entry("c", "Chizhou", {"P1": D(0), "R1": D(20)}),
        Entry("d", "Dali", {"P1": D(10), "R1": None}),
    ]
    results = score_entries(FRAMEWORK, entries, Policy(grade1_size=1))
    assert [(r.key, r.total, r.rank, r.grade) for r in results] == [
        ("b", D("75.00"), 1, 1),
        ("a", D("50.00"), 2, 4),
        ("c", D("25.00"), 3, 4),
        ("d", None, None, None),
    ]


def test_an_incomplete_evaluation_does_not_move_the_frontier_of_the_others():
    base = [
        Entry("a", "A", {"P1": D(10), "R1": D(10)}),
        Entry("b", "B", {"P1": D(10), "R1": D(20)}),
    ]
    alone = score_entries(FRAMEWORK, base, Policy())
    with_incomplete = score_entries(
        FRAMEWORK, [*base, Entry("c", "C", {"P1": None, "R1": D(1000)})], Policy()
    )
    assert [r.total for r in alone] == [r.total for r in with_incomplete if r.ranked]


def test_points_to_the_next_grade():
    policy = Policy(grade1_size=10, grade2_threshold=D(75), grade3_threshold=D(60))
    assert points_to_next_grade(total=D(55), grade=4, policy=policy, grade1_cutoff_total=D(90)) == (
        D("5.00")
    )
    assert points_to_next_grade(
        total=D("70.5"), grade=3, policy=policy, grade1_cutoff_total=D(90)
    ) == D("4.50")
    assert points_to_next_grade(total=D(80), grade=2, policy=policy, grade1_cutoff_total=D(90)) == (
        D("10.00")
    )
    assert points_to_next_grade(total=D(95), grade=1, policy=policy, grade1_cutoff_total=D(90)) is (
        None
    )


# --- invariants --------------------------------------------------------------------------

values = st.decimals(min_value=0, max_value=10, places=2, allow_nan=False, allow_infinity=False)
figures = st.decimals(min_value="0.01", max_value=100000, places=2)


@st.composite
def cycles(draw):
    count = draw(st.integers(min_value=1, max_value=25))
    entries = [
        Entry(
            key=i,
            name=f"Zone {draw(st.integers(0, 30)):02d}-{i}",
            values={"P1": draw(values), "P2": draw(values), "R1": draw(figures)},
        )
        for i in range(count)
    ]
    framework = [
        IndicatorSpec("P1", draw(st.integers(1, 9)), "points", max_points=D(10)),
        IndicatorSpec("P2", draw(st.integers(1, 9)), "points", max_points=D(10)),
        IndicatorSpec("R1", draw(st.integers(1, 9)), "measure", log_scale=draw(st.booleans())),
    ]
    policy = Policy(
        grade1_size=draw(st.integers(0, 10)),
        grade2_threshold=D(draw(st.integers(50, 90))),
        grade3_threshold=D(draw(st.integers(0, 50))),
    )
    return framework, entries, policy


@settings(max_examples=150, deadline=None)
@given(cycles())
def test_ranks_are_a_competition_ranking_of_the_totals(cycle):
    framework, entries, policy = cycle
    results = score_entries(framework, entries, policy)
    for result in results:
        better = sum(1 for other in results if other.total > result.total)
        assert result.rank == better + 1
        assert D(0) <= result.total <= D(100)


@settings(max_examples=150, deadline=None)
@given(cycles())
def test_equal_totals_share_a_rank_and_are_listed_by_name(cycle):
    framework, entries, policy = cycle
    results = score_entries(framework, entries, policy)
    for first, second in itertools.pairwise(results):
        assert first.total >= second.total
        if first.total == second.total:
            assert first.rank == second.rank
            assert first.name <= second.name


@settings(max_examples=150, deadline=None)
@given(cycles())
def test_grades_are_monotone_in_rank(cycle):
    framework, entries, policy = cycle
    results = score_entries(framework, entries, policy)
    for first, second in itertools.pairwise(results):
        assert first.grade <= second.grade


@settings(max_examples=150, deadline=None)
@given(cycles(), st.data())
def test_raising_one_score_never_lowers_that_zones_total(cycle, data):
    framework, entries, policy = cycle
    target = data.draw(st.sampled_from(entries))
    code = data.draw(st.sampled_from(["P1", "P2", "R1"]))
    before = {r.key: r.total for r in score_entries(framework, entries, policy)}
    current = target.values[code]
    ceiling = D(10) if code != "R1" else D(100000)
    raised_value = data.draw(st.decimals(min_value=current, max_value=ceiling, places=2))
    raised = [
        Entry(e.key, e.name, {**e.values, code: raised_value}) if e.key == target.key else e
        for e in entries
    ]
    after = {r.key: r.total for r in score_entries(framework, raised, policy)}
    assert after[target.key] >= before[target.key]


def test_the_cycles_measure_bounds_are_taken_over_the_complete_entries_on_their_scale():
    trade = IndicatorSpec(key="trade", weight=Decimal(1), kind="measure", log_scale=True)
    debt = IndicatorSpec(key="debt", weight=Decimal(1), kind="measure", higher_is_better=False)
    entries = [
        Entry("a", "A", {"trade": Decimal(10), "debt": Decimal(5)}),
        Entry("b", "B", {"trade": Decimal(1000), "debt": Decimal(2)}),
        # Incomplete: not ranked, so its figures bound nothing.
        Entry("c", "C", {"trade": Decimal(100000), "debt": None}),
    ]

    bounds = cycle_measure_bounds([trade, debt], entries)

    assert bounds == {"trade": (Decimal(1), Decimal(3)), "debt": (Decimal(5), Decimal(2))}


def test_a_grade_is_named_and_no_grade_has_no_name():
    assert Grade.label_of(1) == "notable results"
    assert Grade.label_of(4) == "still at the starting stage"
    assert Grade.label_of(None) == ""


# --- adjustments: bonus and penalty points after the weighted mean ------------------------

ADJUSTED = [
    IndicatorSpec("p", D(1), "points", max_points=D(10)),
    IndicatorSpec("bonus", D(1), "adjustment"),
    IndicatorSpec("penalty", D(1), "adjustment"),
]


def _totals(values, policy=None):
    keys = ["p", "bonus", "penalty"]
    entries = [Entry(name, name, dict(zip(keys, v, strict=True))) for name, v in values]
    policy = policy or Policy()
    return {r.name: r.total for r in score_entries(ADJUSTED, entries, policy)}


def test_adjustments_are_added_after_the_weighted_mean_and_before_rounding():
    # 7.3333/10 = 73.333…, + 1.5 − 0.5 = 74.333… → 74.33; adjustments carry no weight.
    totals = _totals([("A", (D("7.3333"), D("1.5"), D("-0.5")))])
    assert totals["A"] == D("74.33")
    # Without the adjustments the points alone make the total.
    assert _totals([("A", (D("7.3333"), D(0), D(0)))])["A"] == D("73.33")


def test_the_sum_of_adjustments_is_capped_by_the_policy():
    totals = _totals([("A", (D(5), D(8), D(6))), ("B", (D(5), D(-9), D(-4)))])
    assert totals == {"A": D("60.00"), "B": D("40.00")}  # ±10 by default
    wide = Policy(adjustment_cap=D(20))
    assert _totals([("A", (D(5), D(8), D(6)))], wide)["A"] == D("64.00")


def test_an_adjusted_total_is_clamped_to_0_to_100():
    totals = _totals([("Top", (D(10), D(5), D(0))), ("Bottom", (D(0), D(0), D(-5)))])
    assert totals == {"Top": D("100.00"), "Bottom": D("0.00")}
