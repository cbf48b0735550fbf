"""score_entries agrees, to the last digit, with the public rules it is made of.

``score_entries`` takes short cuts for speed (each log10 once per distinct figure); whatever it
returns must equal what ``measure_bounds``, ``measure_score``, ``points_score`` and
``weighted_total`` give when applied one by one, representation included.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from evaluations.scoring import (
    Entry,
    IndicatorSpec,
    Policy,
    measure_bounds,
    measure_score,
    points_score,
    score_entries,
    weighted_total,
)

figures = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2, allow_nan=False
)
# Equal figures written differently ("10", "10.0", "10.00") must still score alike.
spellings = st.sampled_from(["10", "10.0", "10.00", "1", "1.000", "100"]).map(Decimal)

INDICATORS = [
    IndicatorSpec(key="p", weight=Decimal(5), kind="points", max_points=Decimal(10)),
    IndicatorSpec(key="m", weight=Decimal(10), kind="measure"),
    IndicatorSpec(key="l", weight=Decimal(20), kind="measure", log_scale=True),
    IndicatorSpec(key="r", weight=Decimal("2.5"), kind="measure", higher_is_better=False),
    IndicatorSpec(
        key="lr", weight=Decimal(1), kind="measure", log_scale=True, higher_is_better=False
    ),
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=10, places=1, allow_nan=False),
            figures | spellings,
            figures | spellings,
            figures | spellings,
            figures | spellings,
        ),
        min_size=1,
        max_size=25,
    )
)
def test_each_score_and_total_is_what_the_rules_give_one_by_one(rows):
    entries = [
        Entry(n, f"zone {n:02d}", dict(zip(["p", "m", "l", "r", "lr"], row, strict=True)))
        for n, row in enumerate(rows)
    ]

    results = {result.key: result for result in score_entries(INDICATORS, entries, Policy())}

    bounds = {
        spec.key: measure_bounds(
            [entry.values[spec.key] for entry in entries],
            higher_is_better=spec.higher_is_better,
            log_scale=spec.log_scale,
        )
        for spec in INDICATORS
        if spec.kind == "measure"
    }
    for entry in entries:
        expected = {}
        for spec in INDICATORS:
            value = entry.values[spec.key]
            if spec.kind == "points":
                expected[spec.key] = points_score(value, spec.max_points)
            else:
                worst, frontier = bounds[spec.key]
                expected[spec.key] = measure_score(
                    value, worst=worst, frontier=frontier, log_scale=spec.log_scale
                )
        result = results[entry.key]
        assert {k: str(v) for k, v in result.scores.items()} == {
            k: str(v) for k, v in expected.items()
        }
        total = weighted_total(expected, {spec.key: spec.weight for spec in INDICATORS})
        assert str(result.total) == str(total)
