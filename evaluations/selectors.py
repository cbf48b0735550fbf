"""Reads of the evaluations that pages, exports and the API share, in bounded queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Case,
    Count,
    Exists,
    FilteredRelation,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce

from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Dimension,
    Evaluation,
    EvaluationQuerySet,
    EvaluationStatus,
    Indicator,
    IndicatorKind,
    Recommendation,
    Score,
)
from registry.models import Zone, in_active_language, zone_name_ordering
from registry.selectors import StatusChange, status_changes


@dataclass(frozen=True)
class ScoreHistoryLine:
    """One recorded change of one score."""

    recorded_at: datetime.datetime
    indicator: Indicator | None
    value: object
    note: str
    changed_by: AbstractBaseUser | None
    added: bool


# --- a person's queue -------------------------------------------------------------------


def _queue_of(cycle: Cycle) -> EvaluationQuerySet:
    """The cycle's evaluations as a queue shows them: by zone name, with what a line names."""
    return (
        Evaluation.objects.for_cycle(cycle)
        .select_related("zone__province", "zone__batch", "reviewer", "submitted_by")
        .order_by(zone_name_ordering("zone__"))
    )


def evaluations_past_entry(cycle: Cycle) -> list[Evaluation]:
    """The cycle's submitted and approved evaluations, by zone name, in one query: those a
    change of the framework sends back to their reviewers."""
    return list(
        _queue_of(cycle).filter(status__in=[EvaluationStatus.SUBMITTED, EvaluationStatus.APPROVED])
    )


# --- one evaluation ----------------------------------------------------------------------


def evaluation_indicators_and_scores(
    evaluation: Evaluation,
) -> tuple[list[Indicator], dict[int, Score]]:
    """The cycle's indicators in order, and the evaluation's scores by indicator, in two queries."""
    indicators = list(evaluation.cycle.indicators.in_order())
    scores = {score.indicator_id: score for score in evaluation.scores.select_related("entered_by")}
    return indicators, scores


def evaluation_score_history(
    evaluation: Evaluation, indicators: list[Indicator], *, limit: int
) -> tuple[list[ScoreHistoryLine], bool]:
    """The latest ``limit`` changes of the evaluation's scores, newest first, in one query.

    Also says whether older changes were left out.
    """
    by_id = {indicator.pk: indicator for indicator in indicators}
    records = list(
        Score.history.filter(evaluation_id=evaluation.pk)
        .select_related("history_user")
        .only("history_date", "history_type", "indicator", "value", "note", "history_user")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    lines = [
        ScoreHistoryLine(
            recorded_at=record.history_date,
            indicator=by_id.get(record.indicator_id),
            value=record.value,
            note=record.note,
            changed_by=record.history_user,
            added=record.history_type == "+",
        )
        for record in records[:limit]
    ]
    return lines, len(records) > limit


def evaluation_status_changes(evaluation: Evaluation) -> list[StatusChange]:
    """The evaluation's opening and each later change of status, oldest first, in one query.

    Saves of scores leave a history record too; those that did not change the status are
    left out, since the score history tells them. A return carries its reason.
    """
    return status_changes(
        evaluation.history,
        dict(EvaluationStatus.choices),
        reads=["return_reason"],
        reason=lambda record: (
            record.return_reason if record.status == EvaluationStatus.RETURNED else ""
        ),
    )


# --- one zone ----------------------------------------------------------------------------


def zone_evaluations(zone: Zone, *, published_only: bool) -> list[Evaluation]:
    """The zone's evaluations, oldest cycle first, with their cycle and ``ranked_count`` (how
    many of the cycle's evaluations are ranked), in one query.
    """
    ranked_in_cycle = (
        Evaluation.objects.filter(cycle=OuterRef("cycle"), rank__isnull=False)
        .order_by()
        .values("cycle")
        .annotate(count=Count("pk"))
        .values("count")
    )
    evaluations = (
        Evaluation.objects.filter(zone=zone)
        .select_related("cycle")
        .annotate(ranked_count=Coalesce(Subquery(ranked_in_cycle, output_field=IntegerField()), 0))
        .order_by("cycle__year")
    )
    if published_only:
        evaluations = evaluations.filter(cycle__status=CycleStatus.PUBLISHED)
    return list(evaluations)


def zone_decisions(zone: Zone) -> list[Decision]:
    """The decisions taken on the zone, oldest first, with their cycle and who decided, in one
    query.
    """
    return list(
        Decision.objects.filter(zone=zone, decided_at__isnull=False)
        .exclude(outcome="")
        .select_related("cycle", "decided_by")
        .order_by("decided_at", "pk")
    )


def timeline_with_decisions(
    timeline: list[StatusChange], decisions: list[Decision]
) -> list[StatusChange]:
    """The zone's status timeline with its decisions (oldest first) woven in.

    A decision is told with the status change it made (its ``status_change``), or on its own,
    in order of time, where it left the status as it was.
    """
    by_change = {d.status_change_id: d for d in decisions if d.status_change_id is not None}
    told = {c.history_id for c in timeline if not c.added and c.history_id in by_change}
    alone = [d for d in decisions if d.status_change_id not in told]
    woven: list[StatusChange] = []
    for change in timeline:
        # Decisions taken before this change that changed nothing come first.
        while alone and alone[0].decided_at <= change.recorded_at:
            woven.append(_decision_alone(alone.pop(0)))
        if change.history_id in told:
            change = replace(change, decision=by_change[change.history_id])
        woven.append(change)
    woven.extend(_decision_alone(decision) for decision in alone)
    return woven


def _decision_alone(decision: Decision) -> StatusChange:
    """A decision that left the zone's status as it was (retaining an active zone, say)."""
    return StatusChange(
        recorded_at=decision.decided_at,
        status="",
        status_label="",
        changed_by=decision.decided_by,
        added=False,
        decision=decision,
    )


# --- a cycle's decisions -----------------------------------------------------------------


def cycle_recommendations(cycle: Cycle) -> list[Decision]:
    """The cycle's recommendations with their zone and who decided, by zone name, in one query."""
    return list(
        Decision.objects.for_cycle(cycle)
        .with_related()
        .order_by(zone_name_ordering("zone__"), "pk")
    )


def recent_published_cycles(cycle: Cycle, *, count: int) -> list[tuple[int, int]]:
    """(id, year) of the latest ``count`` published cycles up to ``cycle``, oldest first."""
    recent = (
        Cycle.objects.published()
        .filter(year__lte=cycle.year)
        .order_by("-year")
        .values_list("pk", "year")[:count]
    )
    return list(recent)[::-1]


def zone_grades(
    cycle_ids: Iterable[int], zone_ids: Iterable[int]
) -> dict[tuple[int, int], int | None]:
    """The grades of these zones in these cycles, keyed by (cycle id, zone id), in one query."""
    return {
        (cycle_id, zone_id): grade
        for cycle_id, zone_id, grade in Evaluation.objects.filter(
            cycle__in=list(cycle_ids), zone__in=set(zone_ids)
        ).values_list("cycle_id", "zone_id", "grade")
    }


# --- what waits for someone, the navigation, progress and methodology --------------------


@dataclass(frozen=True)
class FirstFew:
    """The first few lines of a longer list, and how many lines the whole list has."""

    lines: list
    count: int


def first_few(queryset: QuerySet, *, limit: int) -> FirstFew:
    """The first ``limit`` rows of ``queryset`` and its full count, in one query.

    The count rides on each row as a window over the whole result; an empty page means an
    empty list, so nothing needs counting again.
    """
    rows = list(queryset.annotate(count_of_all=Window(Count("pk")))[:limit])
    return FirstFew(lines=rows, count=rows[0].count_of_all if rows else 0)


def assigned_in_status(
    cycle: Cycle, reviewer: AbstractBaseUser, status: str, *, limit: int
) -> FirstFew:
    """The evaluations assigned to ``reviewer`` in ``status``, by zone name: the first few."""
    return first_few(_queue_of(cycle).assigned_to(reviewer).filter(status=status), limit=limit)


def awaiting_approval(cycle: Cycle, approver: AbstractBaseUser, *, limit: int) -> FirstFew:
    """The submitted evaluations ``approver`` may approve (four eyes): the first few."""
    return first_few(_queue_of(cycle).awaiting_approval_by(approver), limit=limit)


def not_assigned(cycle: Cycle, *, limit: int) -> FirstFew:
    """The cycle's evaluations without a reviewer, by zone name: the first few."""
    return first_few(_queue_of(cycle).filter(reviewer__isnull=True), limit=limit)


def pending_decisions(cycle: Cycle, *, limit: int) -> FirstFew:
    """The cycle's recommendations nobody has decided yet, by zone name: the first few."""
    return first_few(
        Decision.objects.for_cycle(cycle)
        .pending()
        .with_related()
        .order_by(zone_name_ordering("zone__"), "pk"),
        limit=limit,
    )


def top_ranked(cycle: Cycle, *, limit: int) -> list[Evaluation]:
    """The cycle's best ranked evaluations with their zone, in one query."""
    return list(
        Evaluation.objects.for_cycle(cycle)
        .ranked()
        .select_related("zone__province", "zone__batch")[:limit]
    )


def cycle_summaries() -> list[tuple[int, str, int]]:
    """(year, status, recommendations waiting for a decision) of every cycle, latest first,
    in one query: a few dozen rows at most.
    """
    return list(
        Cycle.objects.order_by("-year")
        .annotate(pending=Count("decisions", filter=Q(decisions__outcome="")))
        .values_list("year", "status", "pending")
    )


# A column of the progress tables: how many evaluations, assigned ones, and one per status.
PROGRESS_COLUMNS = ["evaluations", "assigned", *EvaluationStatus.values]


@dataclass(frozen=True)
class ProgressRow:
    """One reviewer's or one province's evaluations in a cycle, counted by status."""

    name: str
    counts: dict[str, int]

    @property
    def figures(self) -> list[int]:
        """The counts in the order of ``PROGRESS_COLUMNS``."""
        return [self.counts[column] for column in PROGRESS_COLUMNS]


@dataclass(frozen=True)
class CycleProgressTables:
    """A cycle's progress per reviewer and per province, with the totals of the cycle."""

    by_reviewer: list[ProgressRow]
    by_province: list[ProgressRow]
    total: ProgressRow


def _progress_aggregates() -> dict[str, Count]:
    return {
        "evaluations": Count("pk"),
        "assigned": Count("reviewer"),
        **{status: Count("pk", filter=Q(status=status)) for status in EvaluationStatus.values},
    }


def _counts_of(row: dict) -> dict[str, int]:
    return {column: row[column] for column in PROGRESS_COLUMNS}


def _person_name(row: dict) -> str:
    full_name = f"{row['reviewer__first_name'] or ''} {row['reviewer__last_name'] or ''}"
    return full_name.strip() or row["reviewer__username"] or ""


def cycle_progress_tables(cycle: Cycle, *, not_assigned_name: str) -> CycleProgressTables:
    """The cycle's evaluations counted per reviewer (by name, those not assigned last) and per
    province (by code), in two aggregate queries however many zones the cycle holds.
    """
    evaluations = Evaluation.objects.for_cycle(cycle).order_by()
    reviewer_rows = evaluations.values(
        "reviewer", "reviewer__username", "reviewer__first_name", "reviewer__last_name"
    ).annotate(**_progress_aggregates())
    # Those not assigned last; the others by name.
    reviewer_rows = sorted(
        reviewer_rows,
        key=lambda row: (row["reviewer"] is None, _person_name(row).casefold()),
    )
    by_reviewer = [
        ProgressRow(
            name=_person_name(row) if row["reviewer"] is not None else not_assigned_name,
            counts=_counts_of(row),
        )
        for row in reviewer_rows
    ]
    province_rows = (
        evaluations.values(
            "zone__province__code", "zone__province__name_zh", "zone__province__name_en"
        )
        .annotate(**_progress_aggregates())
        .order_by("zone__province__code")
    )
    by_province = [
        ProgressRow(
            name=in_active_language(row["zone__province__name_zh"], row["zone__province__name_en"]),
            counts=_counts_of(row),
        )
        for row in province_rows
    ]
    total = ProgressRow(
        name="",
        counts={
            column: sum(row.counts[column] for row in by_province) for column in PROGRESS_COLUMNS
        },
    )
    return CycleProgressTables(by_reviewer=by_reviewer, by_province=by_province, total=total)


@dataclass(frozen=True)
class WeightedIndicator:
    """An indicator with its share of the cycle's total weight, in per cent."""

    indicator: Indicator
    share: Decimal


@dataclass(frozen=True)
class DimensionOfFramework:
    """The indicators of one dimension of a cycle's framework, and their share together."""

    label: str
    indicators: list[WeightedIndicator]
    share: Decimal


@dataclass(frozen=True)
class FrameworkOfCycle:
    """A cycle's indicators by dimension, their total weight, and the measures that are
    compared on a log scale or where lower is better."""

    dimensions: list[DimensionOfFramework]
    weight_sum: Decimal
    log_scale: list[Indicator]
    lower_is_better: list[Indicator]
    # Bonus and penalty indicators: outside the weights, added after the weighted mean.
    adjustments: list[Indicator]


def cycle_framework(cycle: Cycle) -> FrameworkOfCycle:
    """The cycle's indicators grouped by dimension (in the order of ``Dimension``), each with
    its share of the total weight in per cent, rounded half-up to one decimal, in one query.
    """
    stored = list(cycle.indicators.in_order())
    indicators = [i for i in stored if i.kind != IndicatorKind.ADJUSTMENT]
    weight_sum = sum((indicator.weight for indicator in indicators), Decimal(0))

    def share(weight: Decimal) -> Decimal:
        if not weight_sum:
            return Decimal(0)
        return (weight * 100 / weight_sum).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    dimensions = []
    for dimension, label in Dimension.choices:
        members = [indicator for indicator in indicators if indicator.dimension == dimension]
        if members:
            dimensions.append(
                DimensionOfFramework(
                    label=str(label),
                    indicators=[WeightedIndicator(i, share(i.weight)) for i in members],
                    share=share(sum((i.weight for i in members), Decimal(0))),
                )
            )
    measures = [i for i in indicators if i.kind == IndicatorKind.MEASURE]
    return FrameworkOfCycle(
        dimensions=dimensions,
        weight_sum=weight_sum,
        log_scale=[i for i in measures if i.log_scale],
        lower_is_better=[i for i in measures if not i.higher_is_better],
        adjustments=[i for i in stored if i.kind == IndicatorKind.ADJUSTMENT],
    )


# --- the next task -----------------------------------------------------------------------


class NextTask:
    """What "and next" moves on to: an evaluation to approve, or one to enter."""

    APPROVE = "approve"
    ENTER = "enter"


def next_evaluation_for(
    user: AbstractBaseUser, *, after: Evaluation, task: str = NextTask.APPROVE
) -> Evaluation | None:
    """The evaluation ``user`` should open after ``after``, or None when nothing is left.

    For ``NextTask.APPROVE``, the submitted evaluations of the same cycle awaiting ``user``'s
    approval (four eyes: never one they changed); for ``NextTask.ENTER``, the drafts and
    returned evaluations assigned to ``user``. Either way in the order of the person's queue
    (by zone name in the active language): the first one after ``after``, else the first
    from the top, so that work skipped earlier is not forgotten. ``after`` itself is never
    the answer. At most two queries.
    """
    candidates = _queue_of(after.cycle).exclude(pk=after.pk)
    if task == NextTask.APPROVE:
        candidates = candidates.awaiting_approval_by(user)
    else:
        candidates = candidates.assigned_to(user).filter(
            status__in=[EvaluationStatus.DRAFT, EvaluationStatus.RETURNED]
        )
    name = in_active_language("name_zh", "name_en")
    after_name = getattr(after.zone, name)
    return candidates.filter(**{f"zone__{name}__gt": after_name}).first() or candidates.first()


# --- a cycle's decisions, a page at a time -----------------------------------------------

AWAITING = "awaiting"
DECIDED = "decided"


def cycle_decision_cases(
    cycle: Cycle, *, state: str = "", recommendation: str = ""
) -> QuerySet[Decision]:
    """The cycle's recommendations, those awaiting a decision first, then by zone name.

    ``state`` keeps those awaiting a decision (``"awaiting"``) or those decided
    (``"decided"``); ``recommendation`` keeps one recommendation. The zone, its province and
    batch and who decided are joined, so a page of cases is one query.
    """
    cases = Decision.objects.for_cycle(cycle).with_related()
    if state == AWAITING:
        cases = cases.filter(outcome="")
    elif state == DECIDED:
        cases = cases.exclude(outcome="")
    if recommendation:
        cases = cases.filter(recommendation=recommendation)
    awaiting_first = Case(When(outcome="", then=Value(0)), default=Value(1))
    return cases.order_by(
        awaiting_first, in_active_language("zone__name_zh", "zone__name_en"), "pk"
    )


def cycle_decision_counts(cycle: Cycle) -> dict[str, int]:
    """How many of the cycle's recommendations await a decision and how many are decided, in
    one query.
    """
    counts = Decision.objects.for_cycle(cycle).aggregate(
        awaiting=Count("pk", filter=Q(outcome="")),
        decided=Count("pk", filter=~Q(outcome="")),
    )
    return {AWAITING: counts["awaiting"], DECIDED: counts["decided"]}


def evaluations_withdrawn_on_exit(cycle: Cycle, zone_ids: Iterable[int]) -> QuerySet[Evaluation]:
    """The evaluations an exit decided after ``cycle`` withdraws, with their cycle: those of
    these zones in later cycles that are not published (an exited zone is not evaluated again;
    a published cycle is frozen).
    """
    return (
        Evaluation.objects.filter(zone__in=list(zone_ids), cycle__year__gt=cycle.year)
        .exclude(cycle__status=CycleStatus.PUBLISHED)
        .select_related("cycle")
        .order_by("cycle__year", "pk")
    )


def publication_changed_at() -> datetime.datetime | None:
    """When the published data last changed: a cycle published, a decision taken on one, or
    the register changed (names, statuses). Four aggregate queries, whatever the size."""
    from registry.selectors import register_changed_at

    stamps = Cycle.objects.published().aggregate(
        published=Max("published_at"), decided=Max("decisions__decided_at")
    )
    candidates = [stamps["published"], stamps["decided"], register_changed_at()]
    return max((stamp for stamp in candidates if stamp is not None), default=None)


def provinces_with_results(cycle: Cycle) -> QuerySet:
    """Every province, annotated with the cycle's figures over its ranked zones: ``ranked``,
    ``top`` (in grades 1-2), ``total_sum`` and ``warned`` (warned or recommended for exit).

    One query: the provinces joined to their zones and the cycle's evaluations, each figure a
    filtered aggregate over the joined rows (a subquery per figure and province read the
    cycle's evaluations 124 times).
    """
    from registry.models import Province

    joined = FilteredRelation(
        "zones__evaluations",
        condition=Q(zones__evaluations__cycle=cycle, zones__evaluations__rank__isnull=False),
    )
    weak = Decision.objects.filter(
        cycle=cycle,
        zone=OuterRef("ranked_here__zone"),
        recommendation__in=[Recommendation.WARN, Recommendation.EXIT],
    )
    return (
        Province.objects.order_by("code")
        .alias(ranked_here=joined)
        .annotate(
            ranked=Count("ranked_here"),
            top=Count("ranked_here", filter=Q(ranked_here__grade__in=[1, 2])),
            total_sum=Sum("ranked_here__total"),
            warned=Count("ranked_here", filter=Q(Exists(weak))),
        )
    )


def years_without_ranks(cycle: Cycle) -> list[int]:
    """The published years before ``cycle`` imported with grades but not every rank: the
    bottom rules cannot read them (``rules.applies_to``), so they count as years in which no
    zone was ranked. One query."""
    return list(
        Cycle.objects.published()
        .filter(
            imported=True,
            year__lt=cycle.year,
            evaluations__grade__isnull=False,
            evaluations__rank__isnull=True,
        )
        .order_by("year")
        .values_list("year", flat=True)
        .distinct()
    )
