"""score_entries works totals out in floating point where that gives the same cents, and in
Decimal where it might not: at a half cent, near 0, with figures barely apart. Each case here
must give what ``weighted_total`` gives, representation included."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from evaluations.scoring import (
    ADJUSTMENT,
    Entry,
    IndicatorSpec,
    Policy,
    capped_adjustment,
    measure_bounds,
    measure_score,
    points_score,
    score_entries,
    weighted_total,
)


def one_by_one(indicators, entries, policy):
    """Each entry's total from the public rules, one step at a time."""
    bounds = {
        spec.key: measure_bounds(
            [e.values[spec.key] for e in entries],
            higher_is_better=spec.higher_is_better,
            log_scale=spec.log_scale,
        )
        for spec in indicators
        if spec.kind == "measure"
    }
    totals = {}
    for entry in entries:
        scores = {}
        for spec in indicators:
            value = entry.values[spec.key]
            if spec.kind == "points":
                scores[spec.key] = points_score(value, spec.max_points)
            elif spec.kind == "measure":
                worst, frontier = bounds[spec.key]
                scores[spec.key] = measure_score(
                    value, worst=worst, frontier=frontier, log_scale=spec.log_scale
                )
        adjustment = capped_adjustment(
            [entry.values[s.key] for s in indicators if s.kind == ADJUSTMENT],
            policy.adjustment_cap,
        )
        weights = {s.key: s.weight for s in indicators if s.kind != ADJUSTMENT}
        totals[entry.key] = str(weighted_total(scores, weights, adjustment))
    return totals


def totals_of(indicators, entries, policy=None):
    return {r.key: str(r.total) for r in score_entries(indicators, entries, policy or Policy())}


POINTS = [
    IndicatorSpec(key="a", weight=Decimal(1), kind="points", max_points=Decimal(1000)),
    IndicatorSpec(key="b", weight=Decimal(1), kind="points", max_points=Decimal(1000)),
]


def test_a_total_at_exactly_half_a_cent_rounds_up_as_by_hand():
    # (749.95 + 749.95) / 2 / 1000 × 100 = 74.995, which is 74.99499… in floating point.
    entries = [
        Entry(1, "one", {"a": Decimal("749.95"), "b": Decimal("749.95")}),
        Entry(2, "two", {"a": Decimal("0.5"), "b": Decimal("0.4")}),
    ]
    totals = totals_of(POINTS, entries)
    assert totals == one_by_one(POINTS, entries, Policy())
    assert totals[1] == "75.00"


def test_totals_of_zero_and_below_a_cent_keep_their_representation():
    entries = [
        Entry(1, "one", {"a": Decimal("0"), "b": Decimal("0")}),
        Entry(2, "two", {"a": Decimal("0.01"), "b": Decimal("0")}),
        Entry(3, "three", {"a": Decimal("0.1"), "b": Decimal("0.05")}),
    ]
    assert totals_of(POINTS, entries) == one_by_one(POINTS, entries, Policy())


def test_figures_barely_apart_on_a_log_scale_give_the_decimal_totals():
    measure = [
        IndicatorSpec(key="m", weight=Decimal(3), kind="measure", log_scale=True),
        IndicatorSpec(key="p", weight=Decimal(1), kind="points", max_points=Decimal(10)),
    ]
    entries = [
        Entry(n, f"zone {n}", {"m": Decimal("99999.99") + Decimal(n) / 100, "p": Decimal(n)})
        for n in range(5)
    ]
    assert totals_of(measure, entries) == one_by_one(measure, entries, Policy())


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=10, places=1, allow_nan=False),
            st.decimals(min_value=Decimal("0.01"), max_value=100000, places=2, allow_nan=False),
            st.decimals(min_value=-100, max_value=1000, places=2, allow_nan=False),
            st.decimals(min_value=-20, max_value=20, places=1, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    ),
    st.decimals(min_value=0, max_value=15, places=0, allow_nan=False),
)
def test_every_total_is_the_decimal_one_with_adjustments_and_clamping(rows, cap):
    indicators = [
        IndicatorSpec(key="p", weight=Decimal(5), kind="points", max_points=Decimal(10)),
        IndicatorSpec(key="l", weight=Decimal(20), kind="measure", log_scale=True),
        IndicatorSpec(key="r", weight=Decimal(10), kind="measure", higher_is_better=False),
        IndicatorSpec(key="x", weight=Decimal(0), kind=ADJUSTMENT),
    ]
    entries = [
        Entry(n, f"zone {n:02d}", dict(zip(["p", "l", "r", "x"], row, strict=True)))
        for n, row in enumerate(rows)
    ]
    policy = Policy(adjustment_cap=cap)
    assert totals_of(indicators, entries, policy) == one_by_one(indicators, entries, policy)
