"""Reading a cycle's rankings: rows with movement, recommendation and decision, and exports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import tablib
from django.db.models import F, QuerySet

from evaluations.models import Cycle, Decision, Evaluation, Recommendation

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

    @property
    def zone(self):
        return self.evaluation.zone

    @property
    def movement(self) -> int | None:
        """Places gained since the previous cycle (negative: lost); None when not comparable."""
        if self.evaluation.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.evaluation.rank

    @property
    def is_new(self) -> bool:
        """Ranked now, not ranked in the previous published cycle."""
        return self.evaluation.rank is not None and self.previous_rank is None

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
    """The cycle's evaluations in rank order (unranked last, by name), in four queries."""
    queryset = evaluations if evaluations is not None else cycle.evaluations.all()
    # Only what the rows show: the zone with its province and batch.
    queryset = queryset.select_related("cycle", "zone__province", "zone__batch").order_by(
        F("rank").asc(nulls_last=True), "zone__name_en", "pk"
    )
    previous = previous_published_cycle(cycle)
    previous_ranks: dict[int, int | None] = (
        dict(previous.evaluations.values_list("zone_id", "rank")) if previous else {}
    )
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
            )
        )
    return rows


def export_value(value: object) -> object:
    """A cell of a rankings export: totals with their two decimal places, as stored."""
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return value


def rankings_dataset(rows: Iterable[RankingRow]) -> tablib.Dataset:
    """The rows in the columns of ``export_rankings`` (DESIGN §5), for every export format."""
    dataset = tablib.Dataset(headers=EXPORT_COLUMNS)
    for row in rows:
        record = row.export_record()
        dataset.append([export_value(record[column]) for column in EXPORT_COLUMNS])
    return dataset


@dataclass(frozen=True)
class DimensionShare:
    """One dimension's part in a total: its weight share, average score and points."""

    dimension: str
    label: str
    weight_share: Decimal  # percent of all weight
    score: Decimal  # weighted average score of its indicators, 0..100
    points: Decimal  # what it adds to the total


@dataclass(frozen=True)
class Explanation:
    evaluation: Evaluation
    dimensions: list[DimensionShare]
    points_to_next_grade: Decimal | None


def explain(evaluation: Evaluation) -> Explanation | None:
    """Why an evaluation has its total: each dimension's contribution, and what it lacks.

    Measures are scored against the worst and frontier figures of the cycle's ranked
    evaluations, read with one aggregate query, so explaining one zone does not rescore all.
    """
    from django.db.models import Max, Min

    from evaluations import scoring
    from evaluations.models import Dimension, Score
    from evaluations.services import cycle_policy

    if evaluation.rank is None or evaluation.total is None:
        return None
    cycle = evaluation.cycle
    indicators = list(cycle.indicators.in_order())
    bounds = {
        row["indicator_id"]: (row["low"], row["high"])
        for row in Score.objects.filter(evaluation__cycle=cycle, evaluation__rank__isnull=False)
        .values("indicator_id")
        .annotate(low=Min("value"), high=Max("value"))
    }
    values = dict(evaluation.scores.values_list("indicator_id", "value"))
    # Scores changed since the ranks were computed (a value cleared, say): nothing to explain
    # until the rankings are computed again.
    if any(values.get(i.pk) is None for i in indicators) or any(
        i.kind != "points" and i.pk not in bounds for i in indicators
    ):
        return None
    weight_sum = sum((i.weight for i in indicators), Decimal(0))
    per_dimension: dict[str, list[tuple[Decimal, Decimal]]] = {}
    for indicator in indicators:
        value = values[indicator.pk]
        if indicator.kind == "points":
            score = scoring.points_score(value, indicator.max_points)
        else:
            low, high = bounds[indicator.pk]
            worst, frontier = scoring.measure_bounds(
                [low, high],
                higher_is_better=indicator.higher_is_better,
                log_scale=indicator.log_scale,
            )
            score = scoring.measure_score(
                value, worst=worst, frontier=frontier, log_scale=indicator.log_scale
            )
        per_dimension.setdefault(indicator.dimension, []).append((indicator.weight, score))
    labels = dict(Dimension.choices)
    dimensions = []
    for dimension, parts in per_dimension.items():
        weight = sum((w for w, _s in parts), Decimal(0))
        dimensions.append(
            DimensionShare(
                dimension=dimension,
                label=str(labels.get(dimension, dimension)),
                weight_share=(weight / weight_sum * 100).quantize(Decimal("0.1")),
                score=(sum((w * s for w, s in parts), Decimal(0)) / weight).quantize(
                    Decimal("0.01")
                ),
                points=scoring.round_total(sum((w * s for w, s in parts), Decimal(0)) / weight_sum),
            )
        )
    policy = cycle_policy(cycle)
    cutoff_total = (
        cycle.evaluations.filter(rank__lte=policy.grade1_size)
        .order_by("-rank")
        .values_list("total", flat=True)
        .first()
    )
    return Explanation(
        evaluation=evaluation,
        dimensions=dimensions,
        points_to_next_grade=scoring.points_to_next_grade(
            total=evaluation.total,
            grade=evaluation.grade,
            policy=policy,
            grade1_cutoff_total=cutoff_total,
        ),
    )
