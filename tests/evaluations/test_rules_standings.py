"""``standings`` finds the bottom zones of a cycle all at once; each zone's flags must be what
``in_bottom`` says of it alone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from evaluations.rules import Placing, RulePolicy, in_bottom, standings


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 40), st.integers(1, 4), st.sampled_from(["east", "west", "mid"])),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 12),
)
def test_each_zones_bottom_flags_are_those_of_in_bottom(rows, bottom):
    placings = {
        n: Placing(rank=rank, grade=grade, region=region)
        for n, (rank, grade, region) in enumerate(rows)
    }
    policy = RulePolicy(bottom=bottom)
    found = standings(placings, policy)
    everyone = [p.rank for p in placings.values()]
    for key, placing in placings.items():
        region = [p.rank for p in placings.values() if p.region == placing.region]
        assert found[key].nation_bottom == in_bottom(placing.rank, everyone, bottom)
        assert found[key].region_bottom == in_bottom(placing.rank, region, bottom)
        assert found[key].grade == placing.grade
