"""The exit rules: from a zone's recent published standings to a recommendation.

A cycle's policy names one of three rules (``RulePolicy.rule``):

- ``grade-run``: at or below the failing grade (default 4) in N (``exit_after``, default 2)
  consecutive published cycles: exit; at the failing grade now: warn;
- ``region-bottom``: among the bottom K (``bottom``, default 5) of its region in at least N of
  its last M (``within``, default 3) ranked cycles: exit (whether or not it is in the bottom
  now); N−1 of them and in the bottom K now: warn;
- ``region-and-nation-bottom``: among the bottom K of its region and the bottom K of all
  ranked zones in N consecutive cycles: exit; in both now: warn.

Under every rule a zone on notice that is recommended nothing has its notice lifted.

"Bottom K" reads the cycle's competition ranks: a zone is in it when fewer than K ranked
zones (of its region, or of the whole cycle) rank below it, so a zone tied into the bottom K
is in it. A cycle in which a zone was not ranked breaks a run of consecutive cycles and is
not one of the M. Plain values in, plain values out: no database.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass

WARN = "warn"
EXIT = "exit"
LIFT = "lift"

GRADE_RUN = "grade-run"
REGION_BOTTOM = "region-bottom"
REGION_AND_NATION_BOTTOM = "region-and-nation-bottom"
RULES = (GRADE_RUN, REGION_BOTTOM, REGION_AND_NATION_BOTTOM)


@dataclass(frozen=True)
class RulePolicy:
    rule: str = GRADE_RUN
    failing_grade: int = 4
    exit_after: int = 2  # N: failing or bottom cycles that lead to exit
    within: int = 3  # M: the ranked cycles region-bottom looks back over
    bottom: int = 5  # K: the size of "the bottom"


@dataclass(frozen=True)
class Placing:
    """One zone in one cycle: its competition rank (None: not ranked), grade and region."""

    rank: int | None
    grade: int | None
    region: str


@dataclass(frozen=True)
class Standing:
    """What the rules read of a ranked zone in one cycle."""

    grade: int
    region_bottom: bool = False
    nation_bottom: bool = False
    # False in a cycle whose grades came without (every) rank: imported results. The bottom
    # rules cannot apply to such a cycle; the grade rule reads it like any other.
    ranked: bool = True


@dataclass(frozen=True)
class Advice:
    """A recommendation (warn, exit or lift; None for nothing to do) and why: ``failing_run``
    counts the cycles that led to it (the failing or bottom cycles the rule counts)."""

    recommendation: str | None
    failing_run: int

    @property
    def is_action(self) -> bool:
        return self.recommendation is not None


def in_bottom(rank: int, ranks: Sequence[int], bottom: int) -> bool:
    """Whether ``rank`` is among the bottom ``bottom`` of ``ranks`` (competition ranks, the
    zone's own included): fewer than ``bottom`` rank below it, so ties into it are in it."""
    return sum(1 for other in ranks if other > rank) < bottom


def standings(placings: Mapping[Hashable, Placing], policy: RulePolicy) -> dict[Hashable, Standing]:
    """Each ranked zone's standing in one cycle (zones not ranked are left out).

    In a cycle where some graded zone has no rank (imported results that gave grades alone),
    every graded zone stands by its grade only, marked not ranked."""
    graded = {key: p for key, p in placings.items() if p.grade is not None}
    if any(p.rank is None for p in graded.values()):
        return {key: Standing(grade=p.grade, ranked=False) for key, p in graded.items()}
    ranked = {key: p for key, p in placings.items() if p.rank is not None and p.grade is not None}
    # ``in_bottom`` for every zone at once: the ranks sorted, those below a rank found by
    # bisection (counting them zone by zone grew with the square of the register).
    everyone = sorted(p.rank for p in ranked.values())
    by_region: dict[str, list[int]] = {}
    for placing in ranked.values():
        by_region.setdefault(placing.region, []).append(placing.rank)
    for ranks in by_region.values():
        ranks.sort()

    def bottom(rank: int, ordered: list[int]) -> bool:
        return len(ordered) - bisect.bisect_right(ordered, rank) < policy.bottom

    return {
        key: Standing(
            grade=p.grade,
            region_bottom=bottom(p.rank, by_region[p.region]),
            nation_bottom=bottom(p.rank, everyone),
        )
        for key, p in ranked.items()
    }


def _failing(standing: Standing, policy: RulePolicy) -> bool:
    if policy.rule == REGION_BOTTOM:
        return standing.region_bottom
    if policy.rule == REGION_AND_NATION_BOTTOM:
        return standing.region_bottom and standing.nation_bottom
    return standing.grade >= policy.failing_grade


def failing_run(history: Sequence[Standing | None], policy: RulePolicy) -> int:
    """In how many of the latest consecutive cycles the zone failed the rule's test."""
    run = 0
    for standing in reversed(history):
        if standing is None or not _failing(standing, policy):
            break
        run += 1
    return run


def failing_within(history: Sequence[Standing | None], policy: RulePolicy) -> int:
    """In how many of its last M ranked cycles the zone failed the rule's test."""
    ranked = [s for s in history if s is not None][-policy.within :]
    return sum(1 for standing in ranked if _failing(standing, policy))


def recommend(
    history: Sequence[Standing | None], *, on_notice: bool, policy: RulePolicy = RulePolicy()
) -> Advice:
    """What the rule recommends after the latest of ``history`` (oldest first, one standing
    per published cycle, None where the zone was not ranked). The bottom rules read a cycle
    without ranks (imported grades alone) as one where the zone was not ranked."""
    if policy.rule != GRADE_RUN:
        history = [s if s is not None and s.ranked else None for s in history]
    if not history or history[-1] is None:
        return Advice(None, 0)
    failing_now = _failing(history[-1], policy)
    if policy.rule == REGION_BOTTOM:
        count = failing_within(history, policy)
        if count >= policy.exit_after:
            return Advice(EXIT, count)
        if failing_now and count == policy.exit_after - 1:
            return Advice(WARN, count)
    else:
        count = failing_run(history, policy)
        if count >= policy.exit_after:
            return Advice(EXIT, count)
        if count:
            return Advice(WARN, count)
    if on_notice:
        return Advice(LIFT, 0)
    return Advice(None, 0)


def recommend_all(
    cycles: Sequence[Mapping[Hashable, Placing]],
    *,
    on_notice: Collection[Hashable],
    policy: RulePolicy,
) -> dict[Hashable, Advice]:
    """The advice for every zone of the latest of ``cycles`` (oldest first, each a mapping
    of zone to its placing in that cycle)."""
    if not cycles:
        return {}
    per_cycle = [standings(placings, policy) for placings in cycles]
    return {
        zone: recommend(
            [cycle_standings.get(zone) for cycle_standings in per_cycle],
            on_notice=zone in on_notice,
            policy=policy,
        )
        for zone in cycles[-1]
    }


def applies_to(placings: Mapping[Hashable, Placing], policy: RulePolicy) -> bool:
    """Whether ``policy``'s rule can read a cycle placed as in ``placings``: the grade rule
    always; the bottom rules only where every graded zone has a rank."""
    if policy.rule == GRADE_RUN:
        return True
    return all(p.rank is not None for p in placings.values() if p.grade is not None)


# --- imported cycles ------------------------------------------------------------------------
# A year graded before zonetracker and imported (``import_results``) is a published cycle like
# any other for the rules: each zone's grade is always known, its rank only where the file
# gave one. Grade-based rules read it as they read any cycle; rules that read ranks (the
# bottom of a ranking) can apply to it only when every one of its zones has a rank.


@dataclass(frozen=True)
class CycleEntry:
    """What the rules read of one zone in one published cycle: its grade, and its rank where
    the cycle has one (an imported cycle may have none)."""

    grade: int | None
    rank: int | None = None


def carries_ranks(entries: Sequence[CycleEntry]) -> bool:
    """Whether a cycle's entries carry ranks: there are entries and every one has a rank.

    A cycle entered in zonetracker always does once published; an imported cycle does only
    when its file gave every zone a rank. Where it does not, a rule reading ranks says it
    cannot apply to that cycle rather than treating the missing ranks as the bottom.
    """
    return bool(entries) and all(entry.rank is not None for entry in entries)
