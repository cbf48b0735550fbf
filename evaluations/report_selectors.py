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
    flags = cycle_flags(cycle, indicators, only=[evaluation.pk])
    last_year = _last_year_values(cycle, [evaluation.zone_id]).get(evaluation.zone_id, {})
    return [
        ReportLine(
            indicator=indicator,
            score=scores.get(indicator.pk),
            evidence=evidence[indicator.pk],
            flags=flags.get((evaluation.pk, indicator.pk), []),
            last_year=last_year.get(indicator.code),
        )
        for indicator in indicators
    ]


def cycle_flags(
    cycle: Cycle, indicators: list[Indicator], *, only: list[int] | None = None
) -> dict[tuple[int, int], list[Flag]]:
    """The flags of each figure of the cycle, by (evaluation id, indicator id), for the
    evaluations ``only`` names (all when None). Two queries: the cycle's values (the outliers
    are found among all of them) and the zones' values of the year before."""
    return {
        key: found for key, (found, _reason) in _flagged_figures(cycle, indicators, only).items()
    }


def _flagged_figures(
    cycle: Cycle, indicators: list[Indicator], only: list[int] | None
) -> dict[tuple[int, int], tuple[list[Flag], str]]:
    """``cycle_flags`` with the zone's reason for each flagged figure ("" when none)."""
    by_indicator: dict[int, dict[int, Decimal]] = defaultdict(dict)
    reasons: dict[tuple[int, int], str] = {}
    zone_of: dict[int, int] = {}
    for evaluation_id, zone_id, indicator_id, value, reason in (
        Score.objects.filter(evaluation__cycle=cycle, value__isnull=False)
        .order_by()
        .values_list("evaluation_id", "evaluation__zone_id", "indicator_id", "value", "flag_reason")
    ):
        by_indicator[indicator_id][evaluation_id] = value
        reasons[(evaluation_id, indicator_id)] = reason
        zone_of[evaluation_id] = zone_id
    wanted = set(zone_of) if only is None else set(only) & set(zone_of)
    last_year = _last_year_values(cycle, [zone_of[pk] for pk in wanted])
    flags: dict[tuple[int, int], tuple[list[Flag], str]] = {}
    for indicator in indicators:
        values = by_indicator[indicator.pk]
        z_scores = (
            robust_z_scores(values, log_scale=indicator.log_scale)
            if indicator.kind == IndicatorKind.MEASURE
            else {}
        )
        for evaluation_id in wanted & set(values):
            found = value_flags(
                value=values[evaluation_id],
                last_year=last_year.get(zone_of[evaluation_id], {}).get(indicator.code),
                change_threshold=indicator.change_threshold,
                robust_z=z_scores.get(evaluation_id),
            )
            if found:
                key = (evaluation_id, indicator.pk)
                flags[key] = (found, reasons[key])
    return flags


@dataclass(frozen=True)
class FlagCount:
    """An evaluation's figure flags, and how many of its flagged figures have no reason."""

    flags: int = 0
    without_reason: int = 0


def flag_counts(cycle: Cycle) -> dict[int, FlagCount]:
    """The flags each evaluation of the cycle carries, and its flagged figures the zone has
    not explained (three queries)."""
    flags: dict[int, int] = defaultdict(int)
    without_reason: dict[int, int] = defaultdict(int)
    for (evaluation_id, _indicator_id), (found, reason) in _flagged_figures(
        cycle, list(cycle.indicators.in_order()), None
    ).items():
        flags[evaluation_id] += len(found)
        if not reason.strip():
            without_reason[evaluation_id] += 1
    return {pk: FlagCount(flags[pk], without_reason[pk]) for pk in flags}


def _last_year_values(cycle: Cycle, zone_ids: list[int]) -> dict[int, dict[str, Decimal]]:
    """The zones' accepted values in the cycle of the year before, by zone and indicator
    code."""
    result: dict[int, dict[str, Decimal]] = defaultdict(dict)
    if not zone_ids:
        return result
    for zone_id, code, value in Score.objects.filter(
        evaluation__zone_id__in=zone_ids,
        evaluation__cycle__year=cycle.year - 1,
        value__isnull=False,
    ).values_list("evaluation__zone_id", "indicator__code", "value"):
        result[zone_id][code] = value
    return result


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
