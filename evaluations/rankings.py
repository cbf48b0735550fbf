"""Reading a cycle's rankings: rows with movement, recommendation and decision, and exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, QuerySet

from evaluations import scoring
from evaluations.models import Cycle, Decision, Dimension, Evaluation, Recommendation
from registry.importing import escape_formula

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
    was_evaluated_before: bool
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
                was_evaluated_before=evaluation.zone_id in previous_ranks,
                recommendation=decision.recommendation if decision else "",
                decision=decision.outcome if decision else "",
            )
        )
    return rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def rankings_csv(records: Iterable[dict[str, object]], columns: Sequence[str]) -> str:
    """CSV text of the records; text cells that a spreadsheet would run are escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([escape_formula(_cell(record[c])) for c in columns])
    return buffer.getvalue()


def rankings_json(records: Iterable[dict[str, object]]) -> str:
    def plain(value: object) -> object:
        return float(value) if isinstance(value, Decimal) else value

    return json.dumps(
        [{k: plain(v) for k, v in record.items()} for record in records],
        ensure_ascii=False,
        indent=2,
    )


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

    The cycle is scored again by ``scoring.score_entries``, the function that ranked it (three
    queries), so the explanation uses the same bounds, scores and grade-1 cut-off as the
    ranking. Where that no longer gives the evaluation its stored total (a score changed since
    the ranks were computed), there is nothing to explain until they are computed again.
    """
    from evaluations.services import cycle_entries, cycle_policy, indicator_specs

    if evaluation.rank is None or evaluation.total is None:
        return None
    cycle = evaluation.cycle
    indicators = indicator_specs(cycle)
    policy = cycle_policy(cycle)
    results = scoring.score_entries(indicators, cycle_entries(cycle), policy)
    result = next((r for r in results if r.key == evaluation.pk), None)
    if result is None or result.total != evaluation.total:
        return None
    weight_sum = sum((i.weight for i in indicators), Decimal(0))
    per_dimension: dict[str, list[tuple[Decimal, Decimal]]] = {}
    for indicator in indicators:
        per_dimension.setdefault(indicator.dimension, []).append(
            (indicator.weight, result.scores[indicator.key])
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
    # The total of the zone ranked last within grade 1: results come in rank order.
    grade1 = [r.total for r in results if r.rank is not None and r.rank <= policy.grade1_size]
    return Explanation(
        evaluation=evaluation,
        dimensions=dimensions,
        points_to_next_grade=scoring.points_to_next_grade(
            total=evaluation.total,
            grade=evaluation.grade,
            policy=policy,
            grade1_cutoff_total=grade1[-1] if grade1 else None,
        ),
    )
