"""Scoring, ranking and grading: plain functions on plain values, no database.

The rules (DESIGN §3):
- points: score = points / max × 100;
- measure: score = (x − worst) / (frontier − worst) × 100, worst and frontier taken over the
  ranked evaluations of the cycle, reversed when lower is better, on log10(x) when the
  indicator is on a log scale; when every zone has the same figure every zone scores 100;
- total = Σ weight × score / Σ weight over the points and measures, plus the adjustments
  (bonus and penalty points, their sum capped at ± the policy's cap), clamped to 0..100,
  rounded half-up to 2 decimals;
- rank: standard competition ranking on the total (1, 2, 2, 4); equal totals are listed by
  name;
- grade 1 = ranks 1..N; then grade 2 when total ≥ its threshold, grade 3 likewise, else 4.
An evaluation with any value missing is neither scored nor ranked.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
ADJUSTMENT = "adjustment"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class IndicatorSpec:
    key: Hashable
    weight: Decimal
    kind: str  # "points", "measure" or "adjustment" (points added after the weighted mean)
    max_points: Decimal | None = None
    higher_is_better: bool = True
    log_scale: bool = False
    dimension: str = ""


@dataclass(frozen=True)
class Policy:
    grade1_size: int = 10
    grade2_threshold: Decimal = Decimal(75)
    grade3_threshold: Decimal = Decimal(60)
    adjustment_cap: Decimal = Decimal(10)


@dataclass(frozen=True)
class Entry:
    """One evaluation to score: its key, the name it is listed by, and its raw values."""

    key: Hashable
    name: str
    values: Mapping[Hashable, Decimal | None]


@dataclass(frozen=True)
class Result:
    key: Hashable
    name: str
    total: Decimal | None
    rank: int | None
    grade: int | None
    scores: Mapping[Hashable, Decimal] = field(default_factory=dict)

    @property
    def ranked(self) -> bool:
        return self.rank is not None


def round_total(value: Decimal) -> Decimal:
    """Half-up to two decimals (74.995 → 75.00), as people round by hand."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def points_score(value: Decimal, max_points: Decimal) -> Decimal:
    return value / max_points * HUNDRED


def _scale(value: Decimal, log_scale: bool) -> Decimal:
    if log_scale:
        if value <= 0:
            raise ValueError("a log-scale figure must be above 0")
        return value.log10()
    return value


def measure_bounds(
    values: Iterable[Decimal], *, higher_is_better: bool, log_scale: bool
) -> tuple[Decimal, Decimal]:
    """(worst, frontier) on the comparison scale."""
    scaled = [_scale(v, log_scale) for v in values]
    if not scaled:
        raise ValueError("no figures to compare")
    low, high = min(scaled), max(scaled)
    return (low, high) if higher_is_better else (high, low)


def measure_score(value: Decimal, *, worst: Decimal, frontier: Decimal, log_scale: bool) -> Decimal:
    """Distance from the worst figure towards the frontier, 0..100."""
    if frontier == worst:
        return HUNDRED
    return (_scale(value, log_scale) - worst) / (frontier - worst) * HUNDRED


def weighted_total(
    scores: Mapping[Hashable, Decimal],
    weights: Mapping[Hashable, Decimal],
    adjustment: Decimal = Decimal(0),
) -> Decimal:
    """The weighted mean of ``scores``, plus ``adjustment`` (already capped), clamped to
    0..100, then rounded."""
    weight_sum = sum(weights.values(), Decimal(0))
    if weight_sum <= 0:
        raise ValueError("the weights must add up to more than 0")
    total = sum((weights[k] * scores[k] for k in weights), Decimal(0)) / weight_sum
    if adjustment:
        total = min(max(total + adjustment, Decimal(0)), HUNDRED)
    return round_total(total)


def capped_adjustment(values: Iterable[Decimal], cap: Decimal) -> Decimal:
    """The sum of a zone's bonus and penalty points, within ± ``cap``."""
    total = sum(values, Decimal(0))
    return min(max(total, -cap), cap)


def competition_ranks(
    totals: Sequence[tuple[Hashable, str, Decimal]],
) -> list[tuple[Hashable, int]]:
    """Standard competition ranking (1, 2, 2, 4), best total first, equal totals by name."""
    ordered = sorted(totals, key=lambda item: (-item[2], item[1], str(item[0])))
    ranks: list[tuple[Hashable, int]] = []
    previous_total: Decimal | None = None
    rank = 0
    for position, (key, _name, total) in enumerate(ordered, start=1):
        if total != previous_total:
            rank, previous_total = position, total
        ranks.append((key, rank))
    return ranks


def grade_for(*, rank: int, total: Decimal, policy: Policy) -> int:
    if rank <= policy.grade1_size:
        return 1
    if total >= policy.grade2_threshold:
        return 2
    if total >= policy.grade3_threshold:
        return 3
    return 4


def _logs_of(figures: Iterable[Decimal]) -> dict[Decimal, Decimal]:
    """log10 of each distinct figure (equal figures have equal logarithms)."""
    logs: dict[Decimal, Decimal] = {}
    for figure in figures:
        if figure not in logs:
            logs[figure] = _scale(figure, True)
    return logs


def is_complete(entry: Entry, indicators: Sequence[IndicatorSpec]) -> bool:
    return all(entry.values.get(spec.key) is not None for spec in indicators)


def cycle_measure_bounds(
    indicators: Sequence[IndicatorSpec], entries: Sequence[Entry]
) -> dict[Hashable, tuple[Decimal, Decimal]]:
    """Each measure's (worst, frontier) on its comparison scale, over the complete entries:
    what ``score_entries`` scores the cycle's figures against.
    """
    complete = [e for e in entries if is_complete(e, indicators)]
    bounds: dict[Hashable, tuple[Decimal, Decimal]] = {}
    for spec in indicators:
        if spec.kind != "measure" or not complete:
            continue
        figures = [e.values[spec.key] for e in complete]
        # log10 keeps the order of the figures, so only the lowest and highest need it.
        bounds[spec.key] = measure_bounds(
            [min(figures), max(figures)],
            higher_is_better=spec.higher_is_better,
            log_scale=spec.log_scale,
        )
    return bounds


def score_entries(
    indicators: Sequence[IndicatorSpec], entries: Sequence[Entry], policy: Policy
) -> list[Result]:
    """Score, rank and grade a cycle: ranked results first in rank order, then the rest."""
    complete = [e for e in entries if is_complete(e, indicators)]
    # log10 of a Decimal is the slowest step of scoring (some 30 µs), and measure_score would
    # take it of every figure: it is taken once per distinct figure here, and measure_score
    # works on the figures already on their comparison scale.
    logs: dict[Hashable, dict[Decimal, Decimal]] = {
        spec.key: _logs_of(e.values[spec.key] for e in complete)
        for spec in indicators
        if spec.kind == "measure" and spec.log_scale
    }
    bounds = cycle_measure_bounds(indicators, complete)
    weights = {spec.key: spec.weight for spec in indicators if spec.kind != ADJUSTMENT}
    scored: dict[Hashable, tuple[Entry, dict[Hashable, Decimal], Decimal]] = {}
    for entry in complete:
        scores = {}
        adjustments = []
        for spec in indicators:
            value = entry.values[spec.key]
            if spec.kind == ADJUSTMENT:
                adjustments.append(value)
            elif spec.kind == "points":
                scores[spec.key] = points_score(value, spec.max_points)
            else:
                worst, frontier = bounds[spec.key]
                if spec.log_scale:
                    value = logs[spec.key][value]
                scores[spec.key] = measure_score(
                    value, worst=worst, frontier=frontier, log_scale=False
                )
        adjustment = capped_adjustment(adjustments, policy.adjustment_cap)
        scored[entry.key] = (entry, scores, weighted_total(scores, weights, adjustment))

    results = []
    ranking = competition_ranks([(key, e.name, total) for key, (e, _s, total) in scored.items()])
    for key, rank in ranking:
        entry, scores, total = scored[key]
        grade = grade_for(rank=rank, total=total, policy=policy)
        results.append(Result(entry.key, entry.name, total, rank, grade, scores))
    incomplete = sorted((e for e in entries if e.key not in scored), key=lambda e: e.name)
    results.extend(Result(e.key, e.name, None, None, None) for e in incomplete)
    return results


def points_to_next_grade(
    *, total: Decimal, grade: int, policy: Policy, grade1_cutoff_total: Decimal | None
) -> Decimal | None:
    """How many points of total a zone lacks to reach the next better grade (None at grade 1).

    For grade 2 the next grade is a place in the top N: the zone needs the total of the zone
    ranked N (``grade1_cutoff_total``), since equalling it shares rank N.
    """
    if grade == 1:
        return None
    if grade == 2:
        if grade1_cutoff_total is None:
            return None
        return max(round_total(grade1_cutoff_total - total), CENT)
    target = policy.grade2_threshold if grade == 3 else policy.grade3_threshold
    return max(round_total(target - total), CENT)
