"""Reads of the reporting chain that its pages share: one report with its evidence and flags,
the reports in a user's scope, and completeness by province. Each costs a fixed number of
queries whatever the number of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet, Value
from django.utils import timezone

from evaluations.models import (
    Cycle,
    Evaluation,
    EvaluationStatus,
    Evidence,
    Indicator,
    IndicatorKind,
    Score,
)
from evaluations.quality import Flag, robust_z_scores, value_flags
from registry.models import Province, scoped_province_ids, scoped_zone_ids


@dataclass
class ReportLine:
    """One indicator of a report: its score, evidence (current first, then replaced) and
    flags."""

    indicator: Indicator
    score: Score | None
    evidence: list[Evidence] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    last_year: Decimal | None = None

    @property
    def current_evidence(self) -> list[Evidence]:
        return [e for e in self.evidence if e.replaced_at is None]

    @property
    def replaced_evidence(self) -> list[Evidence]:
        return [e for e in self.evidence if e.replaced_at is not None]


def report_lines(evaluation: Evaluation) -> list[ReportLine]:
    """Every indicator of the report with its score, evidence and flags (five queries)."""
    cycle = evaluation.cycle
    indicators = list(cycle.indicators.in_order())
    scores = {s.indicator_id: s for s in evaluation.scores.all()}
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    for item in evaluation.evidence.select_related("uploaded_by").order_by(
        "replaced_at", "-uploaded_at", "-pk"
    ):
        evidence[item.indicator_id].append(item)
    last_year = _last_year_values(evaluation)
    cycle_values: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for evaluation_id, indicator_id, value in (
        Score.objects.filter(evaluation__cycle=cycle, value__isnull=False)
        .order_by()
        .values_list("evaluation_id", "indicator_id", "value")
    ):
        cycle_values[indicator_id][evaluation_id] = value
    lines = []
    for indicator in indicators:
        score = scores.get(indicator.pk)
        value = score.value if score else None
        z = None
        if indicator.kind == IndicatorKind.MEASURE:
            z = robust_z_scores(cycle_values[indicator.pk], log_scale=indicator.log_scale).get(
                evaluation.pk
            )
        previous = last_year.get(indicator.code)
        lines.append(
            ReportLine(
                indicator=indicator,
                score=score,
                evidence=evidence[indicator.pk],
                flags=value_flags(
                    value=value,
                    last_year=previous,
                    change_threshold=indicator.change_threshold,
                    robust_z=z,
                ),
                last_year=previous,
            )
        )
    return lines


def _last_year_values(evaluation: Evaluation) -> dict[str, Decimal | None]:
    """The zone's accepted values of the previous cycle, by indicator code."""
    return dict(
        Score.objects.filter(
            evaluation__zone_id=evaluation.zone_id,
            evaluation__cycle__year=evaluation.cycle.year - 1,
        ).values_list("indicator__code", "value")
    )


def reports_for(user: AbstractBaseUser, cycle: Cycle) -> QuerySet[Evaluation]:
    """The evaluations of ``cycle`` that ``user`` sees on the reports page: the Ministry's
    readers every one; a zone reporter those of its zones; a provincial reviewer those of its
    provinces; anyone else none."""
    in_cycle = Evaluation.objects.for_cycle(cycle).with_related()
    if user.has_perm("evaluations.view_evaluation"):
        return in_cycle.order_by("zone__province__code", "zone__name_en")
    scope = Q(pk__in=[])
    if user.has_perm("evaluations.report_evaluation"):
        scope |= Q(zone_id__in=scoped_zone_ids(user))
    if user.has_perm("evaluations.forward_evaluation"):
        scope |= Q(zone__province_id__in=scoped_province_ids(user))
    return in_cycle.filter(scope).order_by("zone__province__code", "zone__name_en")


@dataclass(frozen=True)
class Completeness:
    """How far one province's reports have come in a cycle."""

    province: Province
    total: int
    reported: int
    forwarded: int
    verified: int
    approved: int
    late: int


_PAST_REPORTING = [
    EvaluationStatus.REPORTED,
    EvaluationStatus.FORWARDED,
    EvaluationStatus.SUBMITTED,
    EvaluationStatus.APPROVED,
]


def completeness_by_province(reports: QuerySet[Evaluation], cycle: Cycle) -> list[Completeness]:
    """Reported, forwarded, verified, approved and late counts per province (two queries).

    Late: past the entry deadline and not yet reported, or past the approval deadline and
    not yet approved.
    """
    today = timezone.localdate()
    late = None
    if not cycle.is_published and cycle.entry_deadline and today > cycle.entry_deadline:
        late = Q(status__in=[EvaluationStatus.DRAFT, EvaluationStatus.RETURNED])
    if not cycle.is_published and cycle.approval_deadline and today > cycle.approval_deadline:
        late = ~Q(status=EvaluationStatus.APPROVED)
    rows = (
        reports.order_by()
        .values("zone__province_id")
        .annotate(
            total=Count("pk"),
            reported=Count(
                "pk", filter=Q(status__in=_PAST_REPORTING) | Q(reported_at__isnull=False)
            ),
            forwarded=Count("pk", filter=Q(forwarded_at__isnull=False)),
            verified=Count("pk", filter=Q(verified_at__isnull=False)),
            approved=Count("pk", filter=Q(status=EvaluationStatus.APPROVED)),
            late=Count("pk", filter=late) if late is not None else Value(0),
        )
    )
    provinces = Province.objects.in_bulk([row["zone__province_id"] for row in rows])
    result = [
        Completeness(
            province=provinces[row["zone__province_id"]],
            total=row["total"],
            reported=row["reported"],
            forwarded=row["forwarded"],
            verified=row["verified"],
            approved=row["approved"],
            late=row["late"],
        )
        for row in rows
    ]
    return sorted(result, key=lambda c: c.province.code)
