"""Reads of the evaluations that pages, exports and the API share, in bounded queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    EvaluationQuerySet,
    EvaluationStatus,
    Indicator,
    Score,
)
from registry.models import Zone, in_active_language
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
        .order_by(in_active_language("zone__name_zh", "zone__name_en"))
    )


def evaluations_to_enter(cycle: Cycle, reviewer: AbstractBaseUser) -> list[Evaluation]:
    """The drafts and returned evaluations assigned to ``reviewer``, in one query."""
    return list(
        _queue_of(cycle)
        .assigned_to(reviewer)
        .filter(status__in=[EvaluationStatus.DRAFT, EvaluationStatus.RETURNED])
    )


def evaluations_to_approve(cycle: Cycle, approver: AbstractBaseUser) -> list[Evaluation]:
    """The submitted evaluations ``approver`` neither entered nor edited, in one query."""
    return list(_queue_of(cycle).awaiting_approval_by(approver))


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
        .order_by(in_active_language("zone__name_zh", "zone__name_en"), "pk")
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
