"""State changes of cycles and evaluations: open, assign, save, submit, approve, return.

Views, the admin and management commands call these functions; none of them re-implements a
rule. Each takes keyword arguments, checks who may do it, and raises ``PermissionDenied`` or
``ValidationError`` without changing anything when the change is not allowed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from simple_history.utils import bulk_create_with_history

from evaluations import notifications, rules, scoring
from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    EvaluationStatus,
    Indicator,
    Outcome,
    Score,
    ValidationRule,
)
from evaluations.selectors import evaluations_withdrawn_on_exit
from registry.models import Zone, ZoneStatus
from zonetracker.bulk import history_copy_rows, rows_read, rows_set
from zonetracker.permissions import entered_or_edited
from zonetracker.punctuation import enumeration, sentences

# Fields of an indicator that a new cycle copies from the previous framework.
_INDICATOR_FIELDS = [
    "code",
    "name_zh",
    "name_en",
    "help_zh",
    "help_en",
    "dimension",
    "kind",
    "weight",
    "max_points",
    "unit_zh",
    "unit_en",
    "min_value",
    "max_value",
    "higher_is_better",
    "log_scale",
    "position",
    "requires_evidence",
    "change_threshold",
]
POLICY_FIELDS = [
    "grade1_size",
    "grade2_threshold",
    "grade3_threshold",
    "failing_grade",
    "exit_rule",
    "exit_after",
    "exit_within",
    "exit_bottom",
    "adjustment_cap",
]


@dataclass(frozen=True)
class ScoreInput:
    """A value for one indicator (None when left empty), a note and, in a zone's report, the
    reason for a flagged figure (None: keep the stored one)."""

    value: Decimal | None
    note: str | None = ""
    flag_reason: str | None = None


@dataclass(frozen=True)
class ScoreCounts:
    """How many of the scores given to ``scores_write`` were new, changed or as stored."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class ScoreChange:
    """A change to a score made by someone else while a user was editing."""

    indicator: Indicator
    value: Decimal | None
    note: str
    changed_by: str
    changed_at: datetime.datetime


class EditConflict(Exception):
    """The evaluation changed since the editor loaded it; nothing was saved."""

    def __init__(self, evaluation: Evaluation, changes: list[ScoreChange]) -> None:
        super().__init__(
            _("Someone else saved this evaluation while you were editing it. Nothing was saved.")
        )
        self.evaluation = evaluation
        self.changes = changes


# --- cycles -------------------------------------------------------------------------------


def cycle_open(
    *, year: int, cutoff: datetime.date | None = None, by: AbstractBaseUser | None = None
) -> Cycle:
    """Create the cycle of ``year`` and one evaluation per eligible zone.

    The framework, its validation rules and the policy are copied from the latest earlier
    cycle, or, for the first cycle, from the default framework; a year of imported results has
    no framework, so after one the default framework is copied (``copies_default_framework``
    tells). Eligible zones were approved on or before the cut-off (default: 31 December of the
    year before) and have not exited.
    """
    if by is not None and not by.has_perm("evaluations.open_cycle"):
        raise PermissionDenied(_("Only Administrators may open a cycle."))
    cutoff = cutoff or Cycle.default_cutoff(year)
    with transaction.atomic():
        if Cycle.objects.filter(year=year).exists():
            raise ValidationError(_("The cycle of %(year)s already exists.") % {"year": year})
        previous = previous_cycle(year)
        source = (
            previous.indicators.in_order()
            if previous and not previous.imported
            else Indicator.objects.default_framework().in_order()
        )
        indicators = list(source)
        if not indicators:
            raise ValidationError(
                _("There is no indicator framework to copy: run load_framework first.")
            )
        policy = policy_copied_from(previous)
        cycle = Cycle(year=year, cutoff=cutoff, status=CycleStatus.OPEN, **policy)
        cycle.full_clean()
        cycle.save()
        bulk_create_with_history(
            [
                Indicator(cycle=cycle, **{name: getattr(i, name) for name in _INDICATOR_FIELDS})
                for i in indicators
            ],
            Indicator,
            default_user=by,
        )
        if previous is not None:
            # The reporting chain's cross-indicator rules come with the framework.
            bulk_create_with_history(
                [
                    ValidationRule(
                        cycle=cycle,
                        expression=rule.expression,
                        message_zh=rule.message_zh,
                        message_en=rule.message_en,
                    )
                    for rule in previous.validation_rules.all()
                ],
                ValidationRule,
                default_user=by,
            )
        zones = Zone.objects.approved_by(cutoff).not_exited().order_by("pk")
        bulk_create_with_history(
            [Evaluation(cycle=cycle, zone=zone) for zone in zones.only("pk")],
            Evaluation,
            batch_size=1000,
            default_user=by,
        )
    return cycle


def previous_cycle(year: int) -> Cycle | None:
    """The latest cycle before ``year``: the one a new cycle of ``year`` copies."""
    return Cycle.objects.filter(year__lt=year).order_by("-year").first()


def policy_copied_from(previous: Cycle | None) -> dict[str, object]:
    """The policy fields a new cycle takes from ``previous`` (none without one)."""
    return {name: getattr(previous, name) for name in POLICY_FIELDS} if previous else {}


def copies_default_framework(previous: Cycle | None) -> bool:
    """Whether a cycle opened after ``previous`` copies the default framework: there is no
    earlier cycle, or it holds imported results (grades only, no framework)."""
    return previous is None or previous.imported


# --- the framework ------------------------------------------------------------------------


def indicator_add(*, indicator: Indicator, by: AbstractBaseUser | None) -> list[Evaluation]:
    """Add ``indicator`` to its cycle's framework (or to the default framework, without one).

    A published cycle's framework is frozen; a cycle in review is refused too, since its
    evaluations cannot be entered again (both in ``Indicator.clean``). In a cycle that is
    open or being prepared, every submitted or approved evaluation lacks the new indicator's
    value: each returns to its reviewer with the reason, so that publication waits for them
    rather than for nothing.
    Returns those evaluations (the admin lists them before it saves).
    """
    if by is not None and not by.has_perm("evaluations.add_indicator"):
        raise PermissionDenied(_("Only Administrators may change an indicator framework."))
    with transaction.atomic():
        cycle = None
        if indicator.cycle_id is not None:
            cycle = Cycle.objects.select_for_update().get(pk=indicator.cycle_id)
            indicator.cycle = cycle
        indicator.full_clean()
        indicator._history_user = by
        indicator.save()
        rankings_refresh(cycle)
        if cycle is None:
            return []
        reason = _("The framework changed: indicator %(indicator)s was added.") % {
            "indicator": indicator
        }
        return _return_past_entry(cycle=cycle, reason=reason, by=by)


def indicator_remove(*, indicator: Indicator, by: AbstractBaseUser | None) -> list[Evaluation]:
    """Remove ``indicator`` and every value entered for it, with history.

    The same rules as ``indicator_add``: never from a published cycle or one in review; in a
    cycle that is open or being prepared, the submitted and approved evaluations were judged
    with the indicator and return to their reviewers with the reason. Returns them.
    """
    if by is not None and not by.has_perm("evaluations.delete_indicator"):
        raise PermissionDenied(_("Only Administrators may change an indicator framework."))
    with transaction.atomic():
        indicator = Indicator.objects.select_related("cycle").get(pk=indicator.pk)
        cycle = indicator.cycle
        if cycle is not None:
            cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
            if cycle.is_frozen:
                raise ValidationError(cycle.frozen_message())
            if cycle.status == CycleStatus.IN_REVIEW:
                raise ValidationError(
                    _(
                        "The cycle of %(year)s is in review: open it for entry again before "
                        "removing an indicator."
                    )
                    % {"year": cycle.year}
                )
        for score in indicator.scores.order_by("pk"):
            score._history_user = by
            score.delete()
        reason = _("The framework changed: indicator %(indicator)s was removed.") % {
            "indicator": indicator
        }
        indicator._history_user = by
        indicator.delete()
        rankings_refresh(cycle)
        if cycle is None:
            return []
        return _return_past_entry(cycle=cycle, reason=reason, by=by)


def _return_past_entry(
    *, cycle: Cycle, reason: str, by: AbstractBaseUser | None
) -> list[Evaluation]:
    """Send every submitted or approved evaluation of ``cycle`` back to its reviewer."""
    returned = list(
        cycle.evaluations.select_for_update()
        .filter(status__in=[EvaluationStatus.SUBMITTED, EvaluationStatus.APPROVED])
        .order_by("pk")
    )
    for evaluation in returned:
        # A new version: a page loaded before the change can no longer approve or submit.
        evaluation.version += 1
        evaluation.status = EvaluationStatus.RETURNED
        evaluation.return_reason = reason
        evaluation.approved_by = None
        evaluation.approved_at = None
        evaluation._history_user = by
        evaluation._change_reason = reason
        evaluation.save(
            update_fields=["version", "status", "return_reason", "approved_by", "approved_at"]
        )
    return returned


# --- assignment ---------------------------------------------------------------------------


def evaluation_assign(
    *, evaluations: QuerySet[Evaluation], reviewer: AbstractBaseUser | None, by: AbstractBaseUser
) -> int:
    """Assign evaluations to a reviewer (or unassign them with None); returns how many."""
    if not by.has_perm("evaluations.assign_evaluation"):
        raise PermissionDenied(_("Only Administrators may assign evaluations."))
    if reviewer is not None and not reviewer.has_perm("evaluations.enter_evaluation"):
        raise ValidationError(_("%(user)s is not a reviewer.") % {"user": reviewer.get_username()})
    with transaction.atomic():
        chosen = list(evaluations.select_related("cycle").select_for_update(of=("self",)))
        published = [e for e in chosen if e.cycle.is_published]
        if published:
            raise ValidationError(_("Evaluations of a published cycle cannot be reassigned."))
        for evaluation in chosen:
            # Assignment changes no score, so it does not move the version an editor holds.
            evaluation.reviewer = reviewer
            evaluation._history_user = by
            evaluation.save(update_fields=["reviewer"])
    return len(chosen)


# --- entry --------------------------------------------------------------------------------


def can_edit(user: AbstractBaseUser, evaluation: Evaluation) -> bool:
    """Whoever may enter its scores (its reviewer, an Administrator), while it is editable."""
    return (
        user.is_authenticated
        and evaluation.is_editable
        and user.has_perm("evaluations.enter_evaluation", evaluation)
    )


def _awaits_approval(evaluation: Evaluation) -> bool:
    """Submitted, in a cycle not yet published: an approver may approve it or send it back."""
    return evaluation.status == EvaluationStatus.SUBMITTED and evaluation.cycle.status in {
        CycleStatus.OPEN,
        CycleStatus.IN_REVIEW,
    }


def can_approve(user: AbstractBaseUser, evaluation: Evaluation) -> bool:
    """An Approver who neither entered nor last edited it may approve a submitted evaluation."""
    return (
        user.is_authenticated
        and _awaits_approval(evaluation)
        and user.has_perm("evaluations.approve_evaluation", evaluation)
        # Django lets a superuser pass every has_perm; four eyes binds them as well.
        and not (user.is_superuser and entered_or_edited(user, evaluation))
    )


def can_return(user: AbstractBaseUser, evaluation: Evaluation) -> bool:
    """Any Approver may send a submitted evaluation back while the cycle is not published."""
    return (
        user.is_authenticated
        and _awaits_approval(evaluation)
        and user.has_perm("evaluations.return_evaluation", evaluation)
    )


def _changes_since(evaluation: Evaluation, version: int) -> list[ScoreChange]:
    """Score changes recorded after the evaluation reached ``version``."""
    seen = evaluation.history.filter(version=version).order_by("history_date").last()
    records = Score.history.filter(evaluation_id=evaluation.pk).select_related("history_user")
    if seen is not None:
        records = records.filter(history_date__gt=seen.history_date)
    indicators = {i.pk: i for i in evaluation.cycle.indicators.all()}
    return [
        ScoreChange(
            indicator=indicators[record.indicator_id],
            value=record.value,
            note=record.note,
            changed_by=record.history_user.get_username() if record.history_user else "",
            changed_at=record.history_date,
        )
        for record in records.order_by("history_date")
        if record.indicator_id in indicators
    ]


def claim_version(evaluation: Evaluation, version: int) -> None:
    """Move the evaluation to the next version, or raise EditConflict if someone else did
    (ValidationError if its cycle is published: nothing of it changes).

    The check and the increment are one UPDATE, so on both databases only one of two
    concurrent savers wins; the loser gets the changes made meanwhile.
    """
    # The cycle is tested on the row's own column (no join): PostgreSQL then re-checks the
    # version on the row a concurrent saver just committed, and only one of them wins.
    claimed = (
        Evaluation.objects.filter(pk=evaluation.pk, version=version)
        .exclude(cycle__in=Cycle.objects.published().values("pk"))
        .update(version=F("version") + 1)
    )
    if not claimed:
        current = Evaluation.objects.select_related("cycle").get(pk=evaluation.pk)
        # Every write of an evaluation claims its version first: none reaches a frozen cycle.
        if current.cycle.is_frozen:
            raise ValidationError(current.cycle.frozen_message())
        raise EditConflict(current, _changes_since(current, version))
    evaluation.version = version + 1


def evaluation_step(
    evaluation: Evaluation,
    *,
    by: AbstractBaseUser,
    version: int,
    status: str,
    stamp: str,
    clear_reason: bool = False,
) -> None:
    """Move ``evaluation`` one step on (inside the caller's transaction): claim its version,
    set its status, stamp who and when (``<stamp>_by``, ``<stamp>_at``), clear the reason of
    an earlier return if asked, and keep the history under ``by``."""
    claim_version(evaluation, version)
    evaluation.status = status
    setattr(evaluation, f"{stamp}_by", by)
    setattr(evaluation, f"{stamp}_at", timezone.now())
    fields = ["version", "status", f"{stamp}_by", f"{stamp}_at"]
    if clear_reason:
        evaluation.return_reason = ""
        fields.append("return_reason")
    evaluation._history_user = by
    evaluation.save(update_fields=fields)


CHAIN_REPORT_MESSAGE = gettext_lazy(
    "Its zone reported these figures: the Ministry verifies them on the report's page, where "
    "each accepted value keeps the reported one beside it, with a reason where they differ."
)


def evaluation_save(
    *,
    evaluation: Evaluation,
    by: AbstractBaseUser,
    scores: Mapping[int, ScoreInput],
    version: int,
) -> Evaluation:
    """Save scores (keyed by indicator id) as a draft.

    Empty values are allowed in a draft; invalid ones are not. ``version`` is the version the
    editor loaded: if the evaluation has moved on since, EditConflict is raised and nothing
    is written. The same save posted again (a double click, a retry after a timeout) is not
    a conflict: when the one change since ``version`` was this editor's, with these very
    values, it is taken as done and nothing is written.
    """
    if not can_edit(by, evaluation):
        raise PermissionDenied(_("You may not edit this evaluation."))
    if evaluation.came_up_the_chain():
        raise ValidationError(CHAIN_REPORT_MESSAGE)
    try:
        scores_write(evaluation=evaluation, by=by, scores=scores, version=version)
    except EditConflict as conflict:
        if not _saved_already(conflict.evaluation, by=by, scores=scores, version=version):
            raise
        evaluation.version = conflict.evaluation.version
    return evaluation


def _saved_already(
    current: Evaluation, *, by: AbstractBaseUser, scores: Mapping[int, ScoreInput], version: int
) -> bool:
    """Whether ``current`` is ``version`` plus one save of ``scores`` by ``by`` and nothing else."""
    if current.version != version + 1 or current.last_edited_by_id != by.pk:
        return False
    return _scores_as_posted(current, scores)


def submitted_already(
    current: Evaluation, *, by: AbstractBaseUser, scores: Mapping[int, ScoreInput], version: int
) -> bool:
    """Whether ``current`` is what submitting ``scores`` over ``version`` by ``by`` made of it:
    submitted by them, at most one save and the submission since ``version``, and its values
    those posted. The same submission posted again (a second click on "Submit", a retry after
    a timeout) is then done already, not a refusal."""
    if current.status != EvaluationStatus.SUBMITTED or current.submitted_by_id != by.pk:
        return False
    if not version < current.version <= version + 2:
        return False
    return _scores_as_posted(current, scores)


def _scores_as_posted(current: Evaluation, scores: Mapping[int, ScoreInput]) -> bool:
    stored = {s.indicator_id: s for s in current.scores.all()}
    for indicator_id, entry in scores.items():
        score = stored.get(indicator_id)
        if score is None:
            if entry.value is not None or entry.note:
                return False
        elif score.value != entry.value or (entry.note is not None and score.note != entry.note):
            return False
    return True


def scores_problems(
    indicators: Mapping[int, Indicator], scores: Mapping[int, ScoreInput]
) -> dict[str, list[str]]:
    """What is wrong with each value, by indicator code; empty values are allowed (pure).

    A value must fit the value column and its indicator's range (``Indicator.validate_value``).
    """
    problems: dict[str, list[str]] = {}
    for indicator_id, entry in scores.items():
        if entry.value is None:
            continue
        indicator = indicators[indicator_id]
        try:
            indicator.validate_value(entry.value)
        except ValidationError as error:
            problems[indicator.code] = error.messages
    return problems


def scores_write(
    *,
    evaluation: Evaluation,
    by: AbstractBaseUser | None,
    scores: Mapping[int, ScoreInput],
    version: int,
) -> ScoreCounts:
    """Write checked scores (keyed by indicator id) of one evaluation: the one score writer.

    The entry form (through ``evaluation_save``) and ``import_scores`` both write here, after
    their own checks of who may write what. The evaluation moves from ``version`` to the
    next (EditConflict, and nothing written, if someone else moved it first); each changed
    score records ``by`` and the moment, in the score and in its history; scores as stored
    are left alone. Returns what was new, changed and unchanged.

    Every value is checked here too (``scores_problems``), whoever calls: one the column
    cannot hold, or outside its indicator's range, raises ValidationError keyed by indicator
    code, and nothing is written.
    """
    indicators = {i.pk: i for i in evaluation.cycle.indicators.filter(pk__in=list(scores))}
    if set(scores) - set(indicators):
        raise ValidationError(_("Unknown indicator for this cycle."))
    problems = scores_problems(indicators, scores)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    new = updated = unchanged = 0
    with transaction.atomic():
        claim_version(evaluation, version)
        existing = {s.indicator_id: s for s in evaluation.scores.all()}
        for indicator_id, entry in scores.items():
            score = existing.get(indicator_id)
            note = entry.note if entry.note is not None else (score.note if score else "")
            if score is None:
                if entry.value is None and not note:
                    continue
                score = Score(evaluation=evaluation, indicator_id=indicator_id)
                new += 1
            elif score.value == entry.value and score.note == note:
                unchanged += 1
                continue
            else:
                updated += 1
            score.value = entry.value
            score.note = note
            score.entered_by = by
            score.entered_at = now
            score._history_user = by
            score.save()
        evaluation.last_edited_by = by
        evaluation._history_user = by
        evaluation.save(update_fields=["version", "last_edited_by"])
        rankings_refresh(evaluation.cycle)
    return ScoreCounts(new=new, updated=updated, unchanged=unchanged)


def missing_indicators(evaluation: Evaluation) -> list[Indicator]:
    """The cycle's indicators that have no value in this evaluation."""
    present = set(
        evaluation.scores.filter(value__isnull=False).values_list("indicator_id", flat=True)
    )
    return [i for i in evaluation.cycle.indicators.in_order() if i.pk not in present]


def evaluation_submit(
    *, evaluation: Evaluation, by: AbstractBaseUser, version: int | None = None
) -> Evaluation:
    """Hand a complete evaluation to the approvers."""
    if not can_edit(by, evaluation):
        raise PermissionDenied(_("You may not submit this evaluation."))
    if evaluation.came_up_the_chain():
        raise ValidationError(CHAIN_REPORT_MESSAGE)
    missing = missing_indicators(evaluation)
    if missing:
        raise ValidationError(
            _("Every indicator needs a value before submitting; missing: %(codes)s.")
            % {"codes": enumeration(i.code for i in missing)}
        )
    with transaction.atomic():
        evaluation_step(
            evaluation,
            by=by,
            version=evaluation.version if version is None else version,
            status=EvaluationStatus.SUBMITTED,
            stamp="submitted",
            clear_reason=True,
        )
        notifications.notify_submitted(evaluation=evaluation, by=by)
        rankings_refresh(evaluation.cycle)
    return evaluation


def evaluation_approve(
    *, evaluation: Evaluation, by: AbstractBaseUser, version: int | None = None
) -> Evaluation:
    """Approve a submitted evaluation (four eyes: never one the approver entered)."""
    if not by.has_perm("evaluations.approve_evaluation"):
        raise PermissionDenied(_("Only Approvers may approve evaluations."))
    if not can_approve(by, evaluation):
        if entered_or_edited(by, evaluation):
            raise PermissionDenied(_("You cannot approve an evaluation you entered or edited."))
        if evaluation.status != EvaluationStatus.SUBMITTED:
            raise ValidationError(_("Only a submitted evaluation can be approved."))
        raise PermissionDenied(_("You may not approve this evaluation."))
    with transaction.atomic():
        claim_version(evaluation, evaluation.version if version is None else version)
        evaluation.status = EvaluationStatus.APPROVED
        evaluation.approved_by = by
        evaluation.approved_at = timezone.now()
        evaluation._history_user = by
        evaluation.save(update_fields=["version", "status", "approved_by", "approved_at"])
        rankings_refresh(evaluation.cycle)
    return evaluation


def evaluation_return(
    *, evaluation: Evaluation, by: AbstractBaseUser, reason: str, version: int | None = None
) -> Evaluation:
    """Send a submitted evaluation back to its reviewer with a reason."""
    reason = (reason or "").strip()
    if not by.has_perm("evaluations.return_evaluation", evaluation):
        raise PermissionDenied(_("Only Approvers may return evaluations."))
    if evaluation.cycle.status not in {CycleStatus.OPEN, CycleStatus.IN_REVIEW}:
        raise PermissionDenied(_("The cycle is not under review: nothing can be returned."))
    if not can_return(by, evaluation):
        raise ValidationError(_("Only a submitted evaluation can be returned."))
    if not reason:
        raise ValidationError({"reason": _("Say why the evaluation is returned.")})
    with transaction.atomic():
        claim_version(evaluation, evaluation.version if version is None else version)
        # A report that came up the chain goes back to the Ministry's verification, not to
        # the zone: the province forwarded it and the zone's figures stand beside the
        # accepted ones.
        evaluation.status = (
            EvaluationStatus.FORWARDED
            if evaluation.forwarded_at is not None
            else EvaluationStatus.RETURNED
        )
        evaluation.return_reason = reason
        evaluation._history_user = by
        evaluation.save(update_fields=["version", "status", "return_reason"])
        notifications.notify_returned(evaluation=evaluation, by=by)
        rankings_refresh(evaluation.cycle)
    return evaluation


# --- rankings -----------------------------------------------------------------------------


def indicator_spec(indicator: Indicator) -> scoring.IndicatorSpec:
    return scoring.IndicatorSpec(
        key=indicator.pk,
        weight=indicator.weight,
        kind=indicator.kind,
        max_points=indicator.max_points,
        higher_is_better=indicator.higher_is_better,
        log_scale=indicator.log_scale,
        dimension=indicator.dimension,
    )


def indicator_specs(cycle: Cycle) -> list[scoring.IndicatorSpec]:
    return [indicator_spec(i) for i in cycle.indicators.in_order()]


def cycle_policy(cycle: Cycle) -> scoring.Policy:
    return scoring.Policy(
        grade1_size=cycle.grade1_size,
        grade2_threshold=cycle.grade2_threshold,
        grade3_threshold=cycle.grade3_threshold,
        adjustment_cap=cycle.adjustment_cap,
    )


def rule_policy(cycle: Cycle) -> rules.RulePolicy:
    """The cycle's exit rule and its parameters, for ``rules``."""
    return rules.RulePolicy(
        rule=cycle.exit_rule,
        failing_grade=cycle.failing_grade,
        exit_after=cycle.exit_after,
        within=cycle.exit_within,
        bottom=cycle.exit_bottom,
    )


def cycle_policy_change(
    *,
    cycle: Cycle,
    by: AbstractBaseUser | None,
    policy: Mapping[str, object],
    weights: Mapping[int, Decimal] | None = None,
) -> Cycle:
    """Change a cycle's policy (fields of ``POLICY_FIELDS``) and, optionally, the weights of
    its indicators (by indicator id), with history; refused once the cycle is published.

    The provisional rankings follow once the change commits.
    """
    if by is not None and not by.has_perm("evaluations.change_cycle"):
        raise PermissionDenied(_("Only Administrators may change a cycle's policy."))
    unknown = set(policy) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown policy settings: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.is_frozen:
            raise ValidationError(cycle.frozen_message())
        for name, value in policy.items():
            setattr(cycle, name, value)
        cycle.full_clean()
        cycle._history_user = by
        cycle.save()
        if weights:
            indicators = {i.pk: i for i in cycle.indicators.filter(pk__in=list(weights))}
            if set(weights) - set(indicators):
                raise ValidationError(_("Unknown indicator for this cycle."))
            for indicator_id, weight in weights.items():
                indicator = indicators[indicator_id]
                if indicator.weight == weight:
                    continue
                indicator.weight = weight
                indicator.full_clean()
                indicator._history_user = by
                indicator.save()
        rankings_refresh(cycle)
    return cycle


def cycle_entries(cycle: Cycle) -> list[scoring.Entry]:
    """Every evaluation of the cycle with its raw values, in two queries."""
    # Plain tuples: model instances loaded with only() would each fetch their deferred
    # zone_id again (a query per evaluation), and cost more to build besides.
    names = list(cycle.evaluations.order_by("pk").values_list("pk", "zone__name_en"))
    values: dict[int, dict[int, Decimal | None]] = {pk: {} for pk, _name in names}
    # Unordered: the scores' default order (by indicator) would join and sort them for nothing.
    # rows_read converts each distinct stored figure once (most are a few points, repeated).
    for evaluation_id, indicator_id, value in rows_read(
        Score.objects.filter(evaluation__cycle=cycle)
        .order_by()
        .values_list("evaluation_id", "indicator_id", "value")
    ):
        values[evaluation_id][indicator_id] = value
    return [scoring.Entry(pk, name, values[pk]) for pk, name in names]


def rankings_compute(*, cycle: Cycle, by: AbstractBaseUser | None = None) -> list[scoring.Result]:
    """Recompute totals, ranks and grades of a cycle that is not published."""
    # Recomputing prepares publication (which recomputes once more): the same permission.
    if by is not None and not by.has_perm("evaluations.publish_cycle"):
        raise PermissionDenied(_("Only Administrators may recompute rankings."))
    if cycle.is_published:
        raise ValidationError(
            _("The cycle of %(year)s is published; its rankings are frozen.") % {"year": cycle.year}
        )
    # When the figures were computed: of what was stored when they were read.
    ranked_at = timezone.now()
    indicators, entries = indicator_specs(cycle), cycle_entries(cycle)
    results = scoring.score_entries(indicators, entries, cycle_policy(cycle))
    by_key = {r.key: r for r in results}
    measure_bounds = {
        str(key): [str(worst), str(frontier)]
        for key, (worst, frontier) in scoring.cycle_measure_bounds(indicators, entries).items()
    }
    with transaction.atomic():
        # Derived figures, like the totals: not a change anybody made, so no history record.
        Cycle.objects.filter(pk=cycle.pk).update(measure_bounds=measure_bounds, ranked_at=ranked_at)
        cycle.measure_bounds, cycle.ranked_at = measure_bounds, ranked_at
        # Only the figures are read, and only those that change are written, in one set-based
        # UPDATE per thousand rows; the database copies the rows just written into
        # simple-history's records (history_copy_rows needs no more than their ids).
        changed = []
        for pk, total, rank, grade in (
            cycle.evaluations.order_by()
            .select_for_update()
            .values_list("pk", "total", "rank", "grade")
        ):
            result = by_key[pk]
            if (total, rank, grade) != (result.total, result.rank, result.grade):
                changed.append((pk, result.total, result.rank, result.grade))
        rows_set(Evaluation, ["total", "rank", "grade"], changed)
        history_copy_rows(
            [row[0] for row in changed],
            Evaluation,
            update=True,
            default_user=by,
            default_change_reason="rankings computed",
            default_date=timezone.now(),
        )
    return results


def rankings_refresh(cycle: Cycle | None) -> None:
    """Compute the provisional rankings of ``cycle`` again once the current transaction commits.

    Every service that changes a value, an evaluation's status, the framework or the policy
    calls this, so the provisional totals, ranks and grades are always those of what is
    stored. Nothing happens for no cycle or a published one (its rankings are frozen). A
    transaction that changes many evaluations of a cycle (an import) computes them once.
    """
    if cycle is None or cycle.is_published:
        return
    connection = transaction.get_connection()
    # Django drops the callbacks of a savepoint rolled back, so one still queued will run.
    if any(
        isinstance(queued, _RankingsRecompute) and queued.cycle_pk == cycle.pk and not queued.done
        for _savepoints, queued, _robust in connection.run_on_commit
    ):
        return
    # After the commit, in a transaction of its own that locks the cycle first: the saver's
    # transaction holds its evaluation's row, and locking every other row of the cycle from
    # inside it would deadlock two reviewers saving at once on PostgreSQL. Robust: a failure
    # is logged and leaves the ranks as they were, never undoes the save.
    transaction.on_commit(_RankingsRecompute(cycle.pk), robust=True)


def rankings_compute_now(cycle: Cycle) -> None:
    """Compute the provisional rankings of ``cycle`` inside the current transaction, and drop
    the recompute queued for after its commit.

    For a writer of many evaluations at once (an import): its values and the ranks they give
    then commit together, so a process killed after the commit never leaves the values
    written and the ranks of before. The caller locks the cycle row first, as the queued
    recompute does, so that the two never wait on each other in opposite orders.
    """
    if cycle.is_published:
        return
    rankings_compute(cycle=cycle)
    for _savepoints, queued, _robust in transaction.get_connection().run_on_commit:
        if isinstance(queued, _RankingsRecompute) and queued.cycle_pk == cycle.pk:
            queued.settled = True


class _RankingsRecompute:
    """The callback of ``rankings_refresh``: recompute one cycle that is not published."""

    def __init__(self, cycle_pk: int) -> None:
        self.cycle_pk = cycle_pk
        self.done = False
        # Set when the transaction computed the rankings itself (``rankings_compute_now``).
        self.settled = False

    def __call__(self) -> None:
        self.done = True
        if self.settled:
            return
        with transaction.atomic():
            cycle = Cycle.objects.select_for_update().filter(pk=self.cycle_pk).first()
            if cycle is not None and not cycle.is_published:
                rankings_compute(cycle=cycle)


# --- publication and decisions ------------------------------------------------------------


def published_placings(cycle: Cycle) -> list[dict[int, rules.Placing]]:
    """The placings of every zone in each published cycle before ``cycle`` (oldest first),
    by zone id, in two queries."""
    earlier = list(Cycle.objects.published().filter(year__lt=cycle.year).order_by("year"))
    placings: dict[int, dict[int, rules.Placing]] = {c.pk: {} for c in earlier}
    for cycle_id, zone_id, rank, grade, region in Evaluation.objects.filter(
        cycle__in=earlier
    ).values_list("cycle_id", "zone_id", "rank", "grade", "zone__province__region"):
        placings[cycle_id][zone_id] = rules.Placing(rank, grade, region)
    return [placings[c.pk] for c in earlier]


def advice_for(
    *, cycle: Cycle, now: Mapping[int, rules.Placing], policy: rules.RulePolicy
) -> dict[int, rules.Advice]:
    """What ``policy`` recommends for each zone (by id) of ``cycle`` placed as in ``now``,
    after the published cycles before it; zones on notice may have it lifted."""
    return rules.recommend_all(
        [*published_placings(cycle), now], on_notice=zones_on_notice(now), policy=policy
    )


def zones_on_notice(zone_ids: Iterable[int]) -> set[int]:
    """Which of the zones are on notice (one query)."""
    return set(
        Zone.objects.filter(pk__in=list(zone_ids), status=ZoneStatus.ON_NOTICE).values_list(
            "pk", flat=True
        )
    )


def stored_placings(cycle: Cycle) -> dict[int, rules.Placing]:
    """Each zone's rank, grade and region as stored in ``cycle`` (one query)."""
    return {
        zone_id: rules.Placing(rank, grade, region)
        for zone_id, rank, grade, region in cycle.evaluations.values_list(
            "zone_id", "rank", "grade", "zone__province__region"
        )
    }


def recommendations_for(cycle: Cycle) -> list[tuple[Evaluation, rules.Advice]]:
    """The rule's advice for each evaluation of a published cycle, from the recent standings."""
    advice = advice_for(cycle=cycle, now=stored_placings(cycle), policy=rule_policy(cycle))
    return [
        (evaluation, advice[evaluation.zone_id])
        for evaluation in cycle.evaluations.select_related("zone").order_by("zone__name_en")
    ]


def cycle_publish(*, cycle: Cycle, by: AbstractBaseUser | None = None) -> list[Decision]:
    """Freeze a cycle whose evaluations are all approved, and record the rule's recommendations.

    Rankings are computed once more with the cycle's weights and policy, then frozen with it.
    """
    if by is not None and not by.has_perm("evaluations.publish_cycle"):
        raise PermissionDenied(_("Only Administrators may publish a cycle."))
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.is_published:
            raise ValidationError(
                _("The cycle of %(year)s is already published.") % {"year": cycle.year}
            )
        pending = list(
            cycle.evaluations.exclude(status=EvaluationStatus.APPROVED)
            .select_related("zone")
            .order_by("zone__name_en")
        )
        if pending:
            raise ValidationError(
                _("%(count)s evaluations are not approved: %(zones)s.")
                % {
                    "count": len(pending),
                    "zones": enumeration(
                        pgettext("a zone and its status", "%(zone)s (%(status)s)")
                        % {"zone": e.zone.name_en, "status": e.get_status_display()}
                        for e in pending
                    ),
                }
            )
        results = rankings_compute(cycle=cycle, by=by)
        unranked = [r.name for r in results if not r.ranked]
        if unranked:
            raise ValidationError(
                _("%(count)s evaluations miss a score and cannot be ranked: %(zones)s.")
                % {"count": len(unranked), "zones": enumeration(unranked)}
            )
        cycle.status = CycleStatus.PUBLISHED
        cycle.published_at = timezone.now()
        cycle.published_by = by
        cycle._history_user = by
        cycle.save()
        decisions = [
            Decision(
                cycle=cycle,
                zone_id=evaluation.zone_id,
                recommendation=advice.recommendation,
                failing_run=advice.failing_run,
            )
            for evaluation, advice in recommendations_for(cycle)
            if advice.is_action
        ]
        notifications.notify_published(cycle=cycle, by=by)
        return bulk_create_with_history(decisions, Decision, default_user=by)


# Each decided outcome puts the zone in this status.
_OUTCOME_STATUS = {
    Outcome.RETAIN: ZoneStatus.ACTIVE,
    Outcome.WARN: ZoneStatus.ON_NOTICE,
    Outcome.RECTIFY: ZoneStatus.ON_NOTICE,
    Outcome.EXIT: ZoneStatus.EXITED,
}


def can_decide(user: AbstractBaseUser, decision: Decision) -> bool:
    """An Approver may decide a recommendation of a published cycle, once."""
    return (
        user.is_authenticated
        and user.has_perm("evaluations.decide", decision)
        and decision.cycle.is_published
        and not decision.is_decided
    )


def decision_record(
    *, decision: Decision, outcome: str, rationale: str, by: AbstractBaseUser
) -> Decision:
    """An approver's decision on a recommendation, with its effect on the zone's status."""
    rationale = (rationale or "").strip()
    if not by.has_perm("evaluations.decide", decision):
        raise PermissionDenied(_("Only Approvers may record decisions."))
    return decision_take(decision=decision, outcome=outcome, rationale=rationale, by=by)


def decision_take(
    *,
    decision: Decision,
    outcome: str,
    rationale: str,
    by: AbstractBaseUser | None,
    decided_on: datetime.date | None = None,
    notify: bool = True,
) -> Decision:
    """Record ``outcome`` on ``decision`` and change the zone's status as the outcome says.

    ``decision_record`` calls this once it has checked that ``by`` may decide; the import
    of past results calls it for the decisions its file records, dated ``decided_on`` (the
    day the decision was taken, not the day it was imported) and without notifying anyone.
    """
    rationale = (rationale or "").strip()
    if not decision.cycle.is_published:
        raise ValidationError(_("Decisions are taken only on a published cycle."))
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose retain, warn, rectify or exit.")})
    if not rationale:
        raise ValidationError({"rationale": _("Write the rationale of the decision.")})
    with transaction.atomic():
        decision = (
            Decision.objects.select_for_update().select_related("zone", "cycle").get(pk=decision.pk)
        )
        if decision.is_decided:
            raise ValidationError(
                _("This was decided already (%(outcome)s) by %(user)s.")
                % {
                    "outcome": decision.get_outcome_display(),
                    "user": decision.decided_by.get_username() if decision.decided_by else "",
                }
            )
        zone = decision.zone
        if zone.status == ZoneStatus.EXITED:
            raise ValidationError(_("The zone has exited already."))
        now = (
            timezone.make_aware(datetime.datetime.combine(decided_on, datetime.time(12)))
            if decided_on is not None
            else timezone.now()
        )
        decision.outcome = outcome
        decision.rationale = rationale
        decision.decided_by = by
        decision.decided_at = now
        decision._history_user = by
        if outcome == Outcome.EXIT:
            # An exited zone is not evaluated again: an evaluation already opened for it in a
            # later cycle that is not published is withdrawn (its history keeps the record).
            for withdrawn in evaluations_withdrawn_on_exit(decision.cycle, [zone.pk]):
                withdrawn._history_user = by
                withdrawn.delete()
        new_status = _OUTCOME_STATUS[outcome]
        if zone.status != new_status:
            zone.status = new_status
            zone.status_changed_on = timezone.localdate(now)
            zone._history_user = by
            zone._change_reason = (
                f"decision: {outcome} after the evaluation of {decision.cycle.year}"
            )
            zone.save()
            # The zone's row is locked with the decision's (select_for_update above), so its
            # latest history record is the one this save wrote.
            decision.status_change = zone.history.order_by("-history_id").first()
        decision.save()
        if notify:
            notifications.notify_decided(decision=decision, by=by)
    return decision


# --- many at once -------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """An evaluation a bulk action left as it was, and why."""

    evaluation: Evaluation
    reason: str


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk action did: the evaluations it changed, and those it refused with why."""

    done: list[Evaluation]
    refused: list[Refusal]


def _each(evaluations: QuerySet[Evaluation], action: Callable[[Evaluation], object]) -> BulkOutcome:
    """Run ``action`` on each evaluation (by zone name), each in its own transaction.

    One evaluation's refusal (a rule, a permission on that evaluation, a change made
    meanwhile) leaves the others to go ahead; it is reported with its reason.
    """
    done: list[Evaluation] = []
    refused: list[Refusal] = []
    for evaluation in evaluations.select_related("cycle", "zone").order_by("zone__name_en"):
        try:
            action(evaluation)
        except (PermissionDenied, ValidationError, EditConflict) as error:
            reason = sentences(error.messages) if isinstance(error, ValidationError) else str(error)
            refused.append(Refusal(evaluation=evaluation, reason=reason))
        else:
            done.append(evaluation)
    return BulkOutcome(done=done, refused=refused)


def evaluations_approve_many(
    *, evaluations: QuerySet[Evaluation], by: AbstractBaseUser
) -> BulkOutcome:
    """Approve each evaluation through ``evaluation_approve`` (four eyes checked for each).

    Someone who is no Approver at all is refused outright (PermissionDenied) and nothing
    changes; otherwise each evaluation is approved or refused with its reason.
    """
    if not by.has_perm("evaluations.approve_evaluation"):
        raise PermissionDenied(_("Only Approvers may approve evaluations."))
    return _each(evaluations, lambda evaluation: evaluation_approve(evaluation=evaluation, by=by))


def evaluations_return_many(
    *, evaluations: QuerySet[Evaluation], by: AbstractBaseUser, reason: str
) -> BulkOutcome:
    """Send each evaluation back through ``evaluation_return``, all with the same reason.

    Someone who is no Approver is refused outright, as is an empty reason (ValidationError
    keyed ``reason``): nothing changes.
    """
    if not by.has_perm("evaluations.return_evaluation"):
        raise PermissionDenied(_("Only Approvers may return evaluations."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the evaluations are returned.")})
    return _each(
        evaluations,
        lambda evaluation: evaluation_return(evaluation=evaluation, by=by, reason=reason),
    )


def evaluations_assign_many(
    *,
    evaluations: QuerySet[Evaluation],
    reviewer: AbstractBaseUser | None,
    by: AbstractBaseUser,
) -> BulkOutcome:
    """Assign each evaluation to ``reviewer`` (None: unassign) through ``evaluation_assign``.

    Someone who may not assign, or a ``reviewer`` who is no Reviewer, is refused outright and
    nothing changes; an evaluation that cannot be reassigned (a published cycle) is refused
    with its reason while the others are assigned.
    """
    if not by.has_perm("evaluations.assign_evaluation"):
        raise PermissionDenied(_("Only Administrators may assign evaluations."))
    if reviewer is not None and not reviewer.has_perm("evaluations.enter_evaluation"):
        raise ValidationError(_("%(user)s is not a reviewer.") % {"user": reviewer.get_username()})
    return _each(
        evaluations,
        lambda evaluation: evaluation_assign(
            evaluations=Evaluation.objects.filter(pk=evaluation.pk), reviewer=reviewer, by=by
        ),
    )


# --- several decisions at once -----------------------------------------------------------


@dataclass(frozen=True)
class DecisionRefused:
    """A decision ``decisions_record_many`` did not record, and why."""

    decision: Decision
    reason: str


@dataclass(frozen=True)
class DecisionsRecorded:
    """What ``decisions_record_many`` recorded and what it refused."""

    recorded: list[Decision]
    refused: list[DecisionRefused]


def decisions_record_many(
    *,
    decisions: Iterable[Decision],
    outcome: str,
    rationale: str,
    by: AbstractBaseUser,
) -> DecisionsRecorded:
    """The same outcome and rationale recorded on each decision, each its own recorded
    decision through ``decision_record`` (its own permission check, transaction and history).

    A decision the service refuses (decided already, the zone exited, the cycle not published,
    no permission) is listed with the reason, and the others stand. An outcome or rationale
    that is not acceptable concerns every decision alike: it raises ``ValidationError`` and
    nothing is recorded.
    """
    recorded: list[Decision] = []
    refused: list[DecisionRefused] = []
    for decision in decisions:
        try:
            recorded.append(
                decision_record(decision=decision, outcome=outcome, rationale=rationale, by=by)
            )
        except PermissionDenied as error:
            refused.append(DecisionRefused(decision, str(error)))
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                # decision_record checks the outcome and rationale before it writes, and they
                # are the same for every decision: none has been recorded yet.
                raise
            refused.append(DecisionRefused(decision, sentences(error.messages)))
    return DecisionsRecorded(recorded=recorded, refused=refused)
