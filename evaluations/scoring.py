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

import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
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


def complete_entries(entries: Sequence[Entry], indicators: Sequence[IndicatorSpec]) -> list[Entry]:
    """The entries with every value (``is_complete``), in their order."""
    keys = [spec.key for spec in indicators]
    return [e for e in entries if None not in list(map(e.values.get, keys))]


def cycle_measure_bounds(
    indicators: Sequence[IndicatorSpec], entries: Sequence[Entry]
) -> dict[Hashable, tuple[Decimal, Decimal]]:
    """Each measure's (worst, frontier) on its comparison scale, over the complete entries:
    what ``score_entries`` scores the cycle's figures against.
    """
    return _measure_bounds_of(indicators, complete_entries(entries, indicators))


def _measure_bounds_of(
    indicators: Sequence[IndicatorSpec], complete: Sequence[Entry]
) -> dict[Hashable, tuple[Decimal, Decimal]]:
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


class LazyScores(Mapping):
    """An entry's scores, worked out (in ``Decimal``, exactly) when first read.

    Ranking needs the totals alone; the scores are read by the pages that show them.
    """

    def __init__(self, work_out: Callable[[], dict[Hashable, Decimal]]) -> None:
        self._work_out: Callable[[], dict[Hashable, Decimal]] | None = work_out
        self._scores: dict[Hashable, Decimal] = {}

    def _all(self) -> dict[Hashable, Decimal]:
        if self._work_out is not None:
            self._scores, self._work_out = self._work_out(), None
        return self._scores

    def __getitem__(self, key: Hashable) -> Decimal:
        return self._all()[key]

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


# The relative error of one floating-point step (2⁻⁵²), generously.
_EPSILON = 1e-15


class _FloatTotals:
    """The totals of ``score_entries`` in floating point, each checked against an upper bound
    of its error: ``total(entry)`` gives the rounded total, equal to the one of
    ``weighted_total``, or None when that total might round otherwise (too near a half cent,
    or not above 0.01) and must be worked out in ``Decimal``.

    Rounding to cents needs far fewer digits than ``Decimal`` carries: the bound covers each
    conversion, logarithm and step, made larger by the spread of each measure's figures.
    """

    def __init__(
        self,
        indicators: Sequence[IndicatorSpec],
        complete: Sequence[Entry],
        bounds: Mapping[Hashable, tuple[Decimal, Decimal]],
    ) -> None:
        self.ok = bool(complete)
        weighted = [spec for spec in indicators if spec.kind != ADJUSTMENT]
        weight_sum = float(sum((spec.weight for spec in weighted), Decimal(0)))
        # (key, weight / Σ weight, log scale, a, b): a score is (x - a) × b, x on its
        # comparison scale; the measures that score 100 everywhere add up to ``constant``.
        self.plan: list[tuple[Hashable, float, bool, float, float]] = []
        self.constant = 0.0
        error = 0.0
        try:
            for spec in weighted:
                share = float(spec.weight) / weight_sum
                figures = [e.values[spec.key] for e in complete] if self.ok else []
                largest = max((abs(float(f)) for f in (min(figures), max(figures))), default=0.0)
                if spec.kind == "points":
                    scale = 100.0 / float(spec.max_points)
                    self.plan.append((spec.key, share, False, 0.0, scale))
                    error += share * (abs(scale) * largest + 1.0) * 8 * _EPSILON
                    continue
                worst, frontier = bounds[spec.key]
                if frontier == worst:
                    self.constant += share * 100.0
                    error += share * 100.0 * 4 * _EPSILON
                    continue
                spread = float(frontier) - float(worst)
                scale = 100.0 / spread
                self.plan.append((spec.key, share, spec.log_scale, float(worst), scale))
                reach = abs(float(worst)) + abs(float(frontier)) + 1.0
                if not spec.log_scale:
                    reach += largest
                error += share * (100.0 + abs(scale) * reach) * 16 * _EPSILON
        except (ArithmeticError, ValueError, ZeroDivisionError):
            self.ok = False
        # A hundredfold margin over the bound, in hundredths (the rounding's unit).
        self.margin = error * 100 * 100 + 1e-9
        self.ok = self.ok and self.margin < 1e-3

    def total(self, values: Mapping[Hashable, Decimal], adjustment: Decimal) -> Decimal | None:
        total = self.constant
        margin = self.margin
        try:
            for key, share, log_scale, origin, scale in self.plan:
                figure = float(values[key])
                if log_scale:
                    figure = math.log10(figure)
                total += share * (figure - origin) * scale
            if adjustment:
                total = min(max(total + float(adjustment), 0.0), 100.0)
                margin += (abs(float(adjustment)) + 100.0) * 100 * 100 * 4 * _EPSILON
        except (ArithmeticError, ValueError):
            return None
        hundredths = total * 100
        if not hundredths >= 1 + margin or math.isinf(hundredths):
            return None
        cents = math.floor(hundredths + 0.5)
        if abs(hundredths + 0.5 - cents) <= margin or abs(hundredths + 0.5 - cents - 1) <= margin:
            return None
        return Decimal(cents).scaleb(-2)


def score_entries(
    indicators: Sequence[IndicatorSpec], entries: Sequence[Entry], policy: Policy
) -> list[Result]:
    """Score, rank and grade a cycle: ranked results first in rank order, then the rest."""
    complete = complete_entries(entries, indicators)
    bounds = _measure_bounds_of(indicators, complete)
    weights = {spec.key: spec.weight for spec in indicators if spec.kind != ADJUSTMENT}
    if sum(weights.values(), Decimal(0)) <= 0:
        raise ValueError("the weights must add up to more than 0")
    # log10 of a Decimal is the slowest step of scoring (some 30 µs), and measure_score would
    # take it of every figure: it is taken once per distinct figure, when a score is read,
    # and measure_score works on the figures already on their comparison scale.
    logs: dict[Hashable, dict[Decimal, Decimal]] = {
        spec.key: {} for spec in indicators if spec.kind == "measure" and spec.log_scale
    }

    def scores_of(entry: Entry) -> dict[Hashable, Decimal]:
        scores = {}
        for spec in indicators:
            if spec.kind == ADJUSTMENT:
                continue
            value = entry.values[spec.key]
            if spec.kind == "points":
                scores[spec.key] = points_score(value, spec.max_points)
                continue
            worst, frontier = bounds[spec.key]
            if spec.log_scale:
                known = logs[spec.key]
                if value not in known:
                    known[value] = _scale(value, True)
                value = known[value]
            scores[spec.key] = measure_score(value, worst=worst, frontier=frontier, log_scale=False)
        return scores

    # Totals in floating point where that gives the same cents (nearly always), else in Decimal.
    fast = _FloatTotals(indicators, complete, bounds)
    adjusted = [spec.key for spec in indicators if spec.kind == ADJUSTMENT]
    no_adjustment = capped_adjustment((), policy.adjustment_cap)
    scored: dict[Hashable, tuple[Entry, Mapping[Hashable, Decimal], Decimal]] = {}
    for entry in complete:
        adjustment = (
            capped_adjustment((entry.values[key] for key in adjusted), policy.adjustment_cap)
            if adjusted
            else no_adjustment
        )
        total = fast.total(entry.values, adjustment) if fast.ok else None
        if total is None:
            scores = scores_of(entry)
            scored[entry.key] = (entry, scores, weighted_total(scores, weights, adjustment))
        else:
            scored[entry.key] = (entry, LazyScores(lambda entry=entry: scores_of(entry)), total)

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
