"""Reading a cycle's rankings: rows with movement, recommendation and decision, and exports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import tablib
from django.db.models import F, QuerySet

from evaluations import rules, scoring
from evaluations.models import (
    Cycle,
    Decision,
    Dimension,
    Evaluation,
    IndicatorKind,
    Recommendation,
    Score,
)
from zonetracker.tables import demo_marked

# The columns of export_rankings (DESIGN §5); other programs rely on them.
EXPORT_COLUMNS = [
    "rank",
    "zone",
    "name_zh",
    "province",
    "region",
    "batch",
    "total",
    "grade",
    "previous_rank",
    "recommendation",
    "decision",
]

# Recommendations that the export names; lifting a notice is shown as none.
_EXPORTED_RECOMMENDATIONS = {Recommendation.WARN, Recommendation.EXIT}


@dataclass(frozen=True)
class RankingRow:
    evaluation: Evaluation
    previous_rank: int | None
    recommendation: str
    decision: str
    # Whether the previous published cycle carries ranks to measure movement against: one of
    # imported results may have none (``rules.carries_ranks``).
    compared: bool = True

    @property
    def zone(self):
        return self.evaluation.zone

    @property
    def movement(self) -> int | None:
        """Places gained since the previous cycle (negative: lost); None when not comparable."""
        if not self.compared or self.evaluation.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.evaluation.rank

    @property
    def is_new(self) -> bool:
        """Ranked now, not ranked in the previous published cycle (which carries ranks)."""
        return self.compared and self.evaluation.rank is not None and self.previous_rank is None

    def export_record(self) -> dict[str, object]:
        evaluation, zone = self.evaluation, self.evaluation.zone
        return {
            "rank": evaluation.rank,
            "zone": zone.name_en,
            "name_zh": zone.name_zh,
            "province": zone.province.name_en,
            "region": zone.province.region,
            "batch": zone.batch.number,
            "total": evaluation.total,
            "grade": evaluation.grade,
            "previous_rank": self.previous_rank,
            "recommendation": (
                self.recommendation if self.recommendation in _EXPORTED_RECOMMENDATIONS else ""
            ),
            "decision": self.decision,
        }


def previous_published_cycle(cycle: Cycle) -> Cycle | None:
    return cycle.previous_published


def ranking_rows(cycle: Cycle, evaluations: QuerySet[Evaluation] | None = None) -> list[RankingRow]:
    """The cycle's evaluations in rank order (unranked last, by name), in four queries.

    A cycle of imported results may give ranks to some zones or none: its zones without a
    rank follow by grade, then by name.
    """
    queryset = evaluations if evaluations is not None else cycle.evaluations.all()
    order = [F("rank").asc(nulls_last=True), "zone__name_en", "pk"]
    if cycle.imported:
        order.insert(1, "grade")
    # Only what the rows show: the zone with its province and batch.
    queryset = queryset.select_related("cycle", "zone__province", "zone__batch").order_by(*order)
    previous = previous_published_cycle(cycle)
    previous_entries = (
        {
            zone_id: rules.CycleEntry(grade=grade, rank=rank)
            for zone_id, grade, rank in previous.evaluations.values_list("zone_id", "grade", "rank")
        }
        if previous
        else {}
    )
    previous_ranks = {zone_id: entry.rank for zone_id, entry in previous_entries.items()}
    compared = rules.carries_ranks(list(previous_entries.values()))
    decisions = {
        d.zone_id: d
        for d in Decision.objects.filter(cycle=cycle).only("zone_id", "recommendation", "outcome")
    }
    rows = []
    for evaluation in queryset:
        decision = decisions.get(evaluation.zone_id)
        rows.append(
            RankingRow(
                evaluation=evaluation,
                previous_rank=previous_ranks.get(evaluation.zone_id),
                recommendation=decision.recommendation if decision else "",
                decision=decision.outcome if decision else "",
                compared=compared,
            )
        )
    return rows


def export_value(value: object) -> object:
    """A cell of a rankings export: totals with their two decimal places, as stored."""
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return value


def rankings_dataset(rows: Iterable[RankingRow]) -> tablib.Dataset:
    """The rows in the columns of ``export_rankings`` (DESIGN §5), for every export format;
    rows of a demonstration cycle have one more, final column ``demo``."""
    dataset = tablib.Dataset(headers=EXPORT_COLUMNS)
    demo = False
    for row in rows:
        record = row.export_record()
        dataset.append([export_value(record[column]) for column in EXPORT_COLUMNS])
        demo = demo or row.evaluation.cycle.is_demo
    # Demonstration data says so on every row, in a final ``demo`` column; official results
    # keep exactly the documented columns.
    return demo_marked(dataset) if demo else dataset


@dataclass(frozen=True)
class DimensionShare:
    """One dimension's part in a total: its weight share, average score and points."""

    dimension: str
    label: str
    weight_share: Decimal  # percent of all weight
    score: Decimal  # weighted average score of its indicators, 0..100
    points: Decimal  # what it adds to the total


@dataclass(frozen=True)
class AdjustmentLine:
    """One bonus or penalty indicator's points in a total."""

    label: str
    points: Decimal


@dataclass(frozen=True)
class Explanation:
    evaluation: Evaluation
    dimensions: list[DimensionShare]
    points_to_next_grade: Decimal | None
    # Bonus and penalty, apart from the weighted dimensions: each indicator's points, and
    # what they add together within the policy's cap.
    adjustments: list[AdjustmentLine] = field(default_factory=list)
    adjustment_total: Decimal = Decimal(0)


def explain(evaluation: Evaluation) -> Explanation | None:
    """Why an evaluation has its total: each dimension's contribution, the bonus and penalty
    points added after them, and what the zone lacks for the next grade.

    Each score is worked out by ``scoring``'s functions against the measure bounds stored when
    the rankings were computed, so explaining one zone does not score the whole cycle again.
    Where that no longer adds up to the stored total (a score changed since the ranks were
    computed), there is nothing to explain until they are computed again.
    """
    from evaluations.services import cycle_policy, indicator_spec

    if evaluation.rank is None or evaluation.total is None:
        return None
    cycle = evaluation.cycle
    stored = list(cycle.indicators.in_order())
    names = {i.pk: i.name for i in stored}
    indicators, adjusting = _weighted_and_adjusting([indicator_spec(i) for i in stored])
    values = dict(evaluation.scores.values_list("indicator_id", "value"))
    policy = cycle_policy(cycle)
    worked = _worked_total(indicators, adjusting, values, _measure_bounds(cycle), policy)
    if worked is None or worked[0] != evaluation.total:
        return None
    _total, scores, adjustment = worked
    # The total of the zone ranked last within grade 1.
    cutoff_total = (
        cycle.evaluations.filter(rank__lte=policy.grade1_size)
        .order_by("-rank")
        .values_list("total", flat=True)
        .first()
    )
    return Explanation(
        evaluation=evaluation,
        dimensions=dimension_shares(indicators, scores),
        points_to_next_grade=scoring.points_to_next_grade(
            total=evaluation.total,
            grade=evaluation.grade,
            policy=policy,
            grade1_cutoff_total=cutoff_total,
        ),
        adjustments=[
            AdjustmentLine(label=names[i.key], points=scoring.round_total(values[i.key]))
            for i in adjusting
        ],
        adjustment_total=scoring.round_total(adjustment),
    )


def _weighted_and_adjusting(
    specs: list[scoring.IndicatorSpec],
) -> tuple[list[scoring.IndicatorSpec], list[scoring.IndicatorSpec]]:
    """The weighted indicators, and the bonus and penalty ones added after them."""
    return (
        [i for i in specs if i.kind != IndicatorKind.ADJUSTMENT],
        [i for i in specs if i.kind == IndicatorKind.ADJUSTMENT],
    )


def _worked_total(
    indicators: list[scoring.IndicatorSpec],
    adjusting: list[scoring.IndicatorSpec],
    values: dict[int, Decimal | None],
    bounds: dict[int, tuple[Decimal, Decimal]],
    policy: scoring.Policy,
) -> tuple[Decimal, dict[int, Decimal], Decimal] | None:
    """The total worked out again from the values (with each indicator's score and the capped
    adjustment), or None where a value or a bound is missing."""
    scores = _indicator_scores(indicators, values, bounds)
    if scores is None or any(values.get(i.key) is None for i in adjusting):
        return None
    adjustment = scoring.capped_adjustment(
        (values[i.key] for i in adjusting), policy.adjustment_cap
    )
    weights = {i.key: i.weight for i in indicators}
    return scoring.weighted_total(scores, weights, adjustment), scores, adjustment


def _measure_bounds(cycle: Cycle) -> dict[int, tuple[Decimal, Decimal]]:
    return {
        int(key): (Decimal(worst), Decimal(frontier))
        for key, (worst, frontier) in cycle.measure_bounds.items()
    }


def _indicator_scores(
    indicators: list[scoring.IndicatorSpec],
    values: dict[int, Decimal | None],
    bounds: dict[int, tuple[Decimal, Decimal]],
) -> dict[int, Decimal] | None:
    """Each indicator's score (0..100) from the values and the stored measure bounds; None
    where a value or a bound is missing."""
    if any(values.get(i.key) is None for i in indicators) or any(
        i.kind == IndicatorKind.MEASURE and i.key not in bounds for i in indicators
    ):
        return None
    scores: dict[int, Decimal] = {}
    for indicator in indicators:
        if indicator.kind == IndicatorKind.POINTS:
            scores[indicator.key] = scoring.points_score(
                values[indicator.key], indicator.max_points
            )
        else:
            worst, frontier = bounds[indicator.key]
            scores[indicator.key] = scoring.measure_score(
                values[indicator.key],
                worst=worst,
                frontier=frontier,
                log_scale=indicator.log_scale,
            )
    return scores


def dimension_shares(
    indicators: list[scoring.IndicatorSpec], scores: dict[int, Decimal]
) -> list[DimensionShare]:
    """Each dimension's weight share, average score and the points it adds to the total."""
    weight_sum = sum((i.weight for i in indicators), Decimal(0))
    per_dimension: dict[str, list[tuple[Decimal, Decimal]]] = {}
    for indicator in indicators:
        per_dimension.setdefault(indicator.dimension, []).append(
            (indicator.weight, scores[indicator.key])
        )
    labels = dict(Dimension.choices)
    dimensions = []
    for dimension, parts in per_dimension.items():
        weight = sum((w for w, _s in parts), Decimal(0))
        weighted = sum((w * s for w, s in parts), Decimal(0))
        dimensions.append(
            DimensionShare(
                dimension=dimension,
                label=str(labels.get(dimension, dimension)),
                weight_share=(weight / weight_sum * 100).quantize(Decimal("0.1")),
                score=(weighted / weight).quantize(Decimal("0.01")),
                points=scoring.round_total(weighted / weight_sum),
            )
        )
    return dimensions


def dimension_points(
    cycle: Cycle, totals: dict[int, Decimal | None]
) -> dict[int, dict[str, Decimal]]:
    """What each dimension adds to each evaluation's total (``totals``: evaluation id → its
    stored total), for a list: two queries however many evaluations. Bonus and penalty points
    are not a dimension's and are left out. An evaluation whose values no longer add up to its
    stored total (or that has none) is left out, as ``explain`` does."""
    from evaluations.services import cycle_policy, indicator_specs

    ids = [evaluation_id for evaluation_id, total in totals.items() if total is not None]
    if not ids:
        return {}
    indicators, adjusting = _weighted_and_adjusting(indicator_specs(cycle))
    if not indicators:
        return {}
    bounds = _measure_bounds(cycle)
    policy = cycle_policy(cycle)
    values: dict[int, dict[int, Decimal | None]] = {evaluation_id: {} for evaluation_id in ids}
    for evaluation_id, indicator_id, value in Score.objects.filter(
        evaluation_id__in=ids
    ).values_list("evaluation_id", "indicator_id", "value"):
        values[evaluation_id][indicator_id] = value
    points: dict[int, dict[str, Decimal]] = {}
    for evaluation_id, evaluation_values in values.items():
        worked = _worked_total(indicators, adjusting, evaluation_values, bounds, policy)
        if worked is None or worked[0] != totals[evaluation_id]:
            continue
        points[evaluation_id] = {
            share.dimension: share.points for share in dimension_shares(indicators, worked[1])
        }
    return points
