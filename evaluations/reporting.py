"""The reporting chain: a zone reports its figures with evidence, its province forwards or
returns the report, the Ministry's reviewer verifies it and submits it for approval.

Each service takes keyword arguments, checks the permission on the object (the user's scope
through ``zonetracker.permissions``) and the report's state, and raises ``PermissionDenied``
or ``ValidationError`` without changing anything when the change is not allowed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluations import notifications
from evaluations.evidence import EvidenceRefused, evidence_kind
from evaluations.models import (
    CycleStatus,
    Evaluation,
    EvaluationStatus,
    Evidence,
    Indicator,
    Score,
)
from evaluations.quality import rule_holds
from evaluations.services import (
    ScoreInput,
    claim_version,
    evaluation_step,
    missing_indicators,
    rankings_refresh,
    scores_problems,
)

_REPORTABLE = {EvaluationStatus.DRAFT, EvaluationStatus.RETURNED}

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    """The value the Ministry accepts for one indicator, and why where it differs."""

    value: Decimal | None
    reason: str = ""


# --- who may, now ------------------------------------------------------------------------


def can_report(user: AbstractBaseUser, evaluation: Evaluation) -> bool:
    """A reporter of the zone, while the cycle is open and the report is a draft or returned."""
    return (
        user.is_authenticated
        and evaluation.cycle.is_open
        and evaluation.status in _REPORTABLE
        and user.has_perm("evaluations.report_evaluation", evaluation)
    )


def can_forward(user: AbstractBaseUser, evaluation: Evaluation) -> bool:
    """A reviewer of the zone's province, while the report waits on the province."""
    return (
        user.is_authenticated
        and evaluation.cycle.is_open
        and evaluation.status == EvaluationStatus.REPORTED
        and user.has_perm("evaluations.forward_evaluation", evaluation)
    )


def can_verify(user: AbstractBaseUser, evaluation: Evaluation) -> bool:
    """The Ministry reviewer who enters the evaluation, once its province forwarded it."""
    return (
        user.is_authenticated
        and evaluation.cycle.status in {CycleStatus.OPEN, CycleStatus.IN_REVIEW}
        and evaluation.status == EvaluationStatus.FORWARDED
        and user.has_perm("evaluations.enter_evaluation", evaluation)
    )


def can_add_evidence(user: AbstractBaseUser, evaluation: Evaluation) -> bool:
    return can_report(user, evaluation) or can_verify(user, evaluation)


# --- the zone ----------------------------------------------------------------------------


def report_save(
    *,
    evaluation: Evaluation,
    by: AbstractBaseUser,
    scores: Mapping[int, ScoreInput],
    version: int,
) -> Evaluation:
    """Save the zone's figures and notes (keyed by indicator id) as a draft of its report.

    Each figure is the reported value and, until the Ministry verifies it, the accepted one.
    """
    if not can_report(by, evaluation):
        raise PermissionDenied(_("You may not report the figures of this zone."))
    indicators = {i.pk: i for i in evaluation.cycle.indicators.filter(pk__in=list(scores))}
    if set(scores) - set(indicators):
        raise ValidationError(_("Unknown indicator for this cycle."))
    problems = scores_problems(indicators, scores)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    with transaction.atomic():
        claim_version(evaluation, version)
        existing = {s.indicator_id: s for s in evaluation.scores.all()}
        for indicator_id, entry in scores.items():
            score = existing.get(indicator_id)
            note = entry.note if entry.note is not None else (score.note if score else "")
            flag_reason = (
                entry.flag_reason.strip()
                if entry.flag_reason is not None
                else (score.flag_reason if score else "")
            )
            if score is None:
                if entry.value is None and not note and not flag_reason:
                    continue
                score = Score(evaluation=evaluation, indicator_id=indicator_id)
            elif (score.reported_value, score.value, score.note, score.flag_reason) == (
                entry.value,
                entry.value,
                note,
                flag_reason,
            ):
                continue
            score.reported_value = entry.value
            score.value = entry.value
            score.verification_reason = ""
            score.note = note
            score.flag_reason = flag_reason
            score.entered_by = by
            score.entered_at = now
            score._history_user = by
            score.save()
        evaluation.last_edited_by = by
        evaluation._history_user = by
        evaluation.save(update_fields=["version", "last_edited_by"])
        rankings_refresh(evaluation.cycle)
    return evaluation


def report_problems(evaluation: Evaluation) -> list[str]:
    """Why the zone's report cannot be sent yet: a missing figure, missing required evidence,
    a cross-indicator rule broken. Empty when it can."""
    problems = []
    missing = missing_indicators(evaluation)
    if missing:
        problems.append(
            _("Every indicator needs a value before reporting; missing: %(codes)s.")
            % {"codes": ", ".join(i.code for i in missing)}
        )
    evidenced = set(evaluation.evidence.current().values_list("indicator_id", flat=True))
    unevidenced = [
        i.code
        for i in evaluation.cycle.indicators.in_order().filter(requires_evidence=True)
        if i.pk not in evidenced
    ]
    if unevidenced:
        problems.append(
            _("These indicators need an evidence file: %(codes)s.")
            % {"codes": ", ".join(unevidenced)}
        )
    values = dict(evaluation.scores.values_list("indicator__code", "value"))
    for rule in evaluation.cycle.validation_rules.all():
        if rule_holds(rule.expression, values) is False:
            problems.append(rule.message)
    return problems


def report_submit(*, evaluation: Evaluation, by: AbstractBaseUser, version: int) -> Evaluation:
    """Send the zone's complete report to its province."""
    if not can_report(by, evaluation):
        raise PermissionDenied(_("You may not report the figures of this zone."))
    problems = report_problems(evaluation)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        evaluation_step(
            evaluation,
            by=by,
            version=version,
            status=EvaluationStatus.REPORTED,
            stamp="reported",
            clear_reason=True,
        )
        notifications.notify_reported(evaluation=evaluation, by=by)
        rankings_refresh(evaluation.cycle)
    return evaluation


# --- the province ------------------------------------------------------------------------


def report_forward(*, evaluation: Evaluation, by: AbstractBaseUser, version: int) -> Evaluation:
    """The province passes the zone's report on to the Ministry."""
    if not can_forward(by, evaluation):
        raise PermissionDenied(_("You may not forward this report."))
    with transaction.atomic():
        evaluation_step(
            evaluation, by=by, version=version, status=EvaluationStatus.FORWARDED, stamp="forwarded"
        )
        notifications.notify_forwarded(evaluation=evaluation, by=by)
    return evaluation


def report_return(
    *, evaluation: Evaluation, by: AbstractBaseUser, reason: str, version: int
) -> Evaluation:
    """The province sends the report back to the zone, saying why."""
    if not can_forward(by, evaluation):
        raise PermissionDenied(_("You may not return this report."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the report is returned.")})
    with transaction.atomic():
        claim_version(evaluation, version)
        evaluation.status = EvaluationStatus.RETURNED
        evaluation.return_reason = reason
        evaluation._history_user = by
        evaluation._change_reason = reason
        evaluation.save(update_fields=["version", "status", "return_reason"])
        notifications.notify_report_returned(evaluation=evaluation, by=by)
    return evaluation


# --- the Ministry ------------------------------------------------------------------------


def verification_problems(
    scores: Mapping[int, Score], accepted: Mapping[int, Accepted], indicators: list[Indicator]
) -> dict[str, list[str]]:
    """What is wrong with the accepted values, by indicator code (pure over its arguments):
    each must be given and valid, and carry a reason where it differs from the reported one."""
    problems: dict[str, list[str]] = {}
    for indicator in indicators:
        choice = accepted.get(indicator.pk)
        if choice is None or choice.value is None:
            problems[indicator.code] = [_("Enter the value the Ministry accepts.")]
            continue
        try:
            indicator.validate_value(choice.value)
        except ValidationError as error:
            problems[indicator.code] = error.messages
            continue
        score = scores.get(indicator.pk)
        reported = score.reported_value if score is not None else None
        if reported is not None and choice.value != reported and not choice.reason.strip():
            problems[indicator.code] = [
                _("The accepted value differs from the reported one: say why.")
            ]
    return problems


def report_verify(
    *,
    evaluation: Evaluation,
    by: AbstractBaseUser,
    accepted: Mapping[int, Accepted],
    version: int,
) -> Evaluation:
    """The Ministry's reviewer records the value it accepts for each figure (the reported one
    kept beside it), then submits the evaluation for approval."""
    if not can_verify(by, evaluation):
        raise PermissionDenied(_("You may not verify this report."))
    indicators = list(evaluation.cycle.indicators.in_order())
    scores = {s.indicator_id: s for s in evaluation.scores.all()}
    problems = verification_problems(scores, accepted, indicators)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    with transaction.atomic():
        claim_version(evaluation, version)
        for indicator in indicators:
            choice = accepted[indicator.pk]
            score = scores.get(indicator.pk) or Score(evaluation=evaluation, indicator=indicator)
            reason = choice.reason.strip() if choice.value != score.reported_value else ""
            if score.pk is not None and (score.value, score.verification_reason) == (
                choice.value,
                reason,
            ):
                continue
            score.value = choice.value
            score.verification_reason = reason
            score.entered_by = by
            score.entered_at = now
            score._history_user = by
            score.save()
        evaluation.status = EvaluationStatus.SUBMITTED
        evaluation.verified_by = evaluation.submitted_by = evaluation.last_edited_by = by
        evaluation.verified_at = evaluation.submitted_at = now
        evaluation.return_reason = ""
        evaluation._history_user = by
        evaluation.save(
            update_fields=[
                "version",
                "status",
                "verified_by",
                "verified_at",
                "submitted_by",
                "submitted_at",
                "last_edited_by",
                "return_reason",
            ]
        )
        rankings_refresh(evaluation.cycle)
    return evaluation


# --- evidence ----------------------------------------------------------------------------


def evidence_add(
    *,
    evaluation: Evaluation,
    indicator: Indicator,
    upload: UploadedFile,
    by: AbstractBaseUser,
    replaces: Evidence | None = None,
) -> Evidence:
    """Keep an evidence file for one figure; the file it replaces stays, marked replaced.

    The type is read from the content (``evaluations.evidence``), the size is bounded, and
    the file is written through Django's storage under a random name. A storage that fails
    (full, read-only, unreachable) refuses the upload with a ValidationError saying so, and
    nothing is kept: no row, no file, not even part of one.
    """
    if not can_add_evidence(by, evaluation):
        raise PermissionDenied(_("You may not add evidence to this report."))
    if indicator.cycle_id != evaluation.cycle_id:
        raise ValidationError(_("Unknown indicator for this cycle."))
    if replaces is not None and (
        replaces.evaluation_id != evaluation.pk
        or replaces.indicator_id != indicator.pk
        or replaces.replaced_at is not None
    ):
        raise ValidationError(_("Only a current file of the same figure can be replaced."))
    max_bytes = settings.EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError(
            _("The file is larger than %(size)s MB.") % {"size": max_bytes // (1024 * 1024)}
        )
    content = upload.read(max_bytes + 1)
    name = (upload.name or "").rsplit("/", 1)[-1][:200]
    try:
        kind = evidence_kind(name, content, max_bytes=max_bytes)
    except EvidenceRefused as error:
        raise ValidationError(str(error)) from None
    evidence = Evidence(
        evaluation=evaluation,
        indicator=indicator,
        name=name,
        kind=kind,
        size=len(content),
        uploaded_by=by,
    )
    storage = evidence.file.storage
    target = evidence.file.field.generate_filename(evidence, name)
    try:
        evidence.file.name = storage.save(target, ContentFile(content), max_length=200)
    except Exception as error:  # any storage's failure: a full disk, a read-only folder, S3
        # Nothing of a refused upload stays: no row, and no partial file.
        _evidence_file_removed(storage, target)
        logger.error("The evidence file could not be stored as %s.", target, exc_info=True)
        reason = os.strerror(error.errno) if getattr(error, "errno", None) else str(error)
        raise ValidationError(
            _(
                "The storage for evidence files failed (%(reason)s). Try again later, or "
                "tell an administrator."
            )
            % {"reason": reason}
        ) from None
    try:
        with transaction.atomic():
            evidence.save()
            if replaces is not None:
                replaces.replaced_by = evidence
                replaces.replaced_at = evidence.uploaded_at
                replaces.save(update_fields=["replaced_by", "replaced_at"])
    except BaseException:
        _evidence_file_removed(storage, evidence.file.name)  # no file without its row
        raise
    return evidence


def _evidence_file_removed(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # what cannot be removed is logged, never in the way of the answer
        logger.warning("A refused evidence file %s could not be removed.", name, exc_info=True)


# --- a step posted twice ---------------------------------------------------------------------

# step -> the status it leaves the report in, and how many versions it may take (a report
# saves its figures, then sends them).
_STEPS = {
    "report": (EvaluationStatus.REPORTED, 2),
    "forward": (EvaluationStatus.FORWARDED, 1),
    "verify": (EvaluationStatus.SUBMITTED, 1),
}


def step_done_already(
    current: Evaluation,
    *,
    by: AbstractBaseUser,
    step: str,
    version: int,
    values: Mapping[int, Decimal | None] | None = None,
) -> bool:
    """Whether ``current`` is what ``step`` ("report", "forward" or "verify"), posted by ``by``
    over ``version`` with ``values`` (by indicator id), made of it, and nothing since. The same
    POST again (a second click, a retry after a timeout) is then done already, not refused."""
    status, steps = _STEPS[step]
    actor = {
        "report": current.reported_by_id,
        "forward": current.forwarded_by_id,
        "verify": current.verified_by_id,
    }[step]
    if current.status != status or actor != by.pk:
        return False
    if not version < current.version <= version + steps:
        return False
    if values is None:
        return True
    stored = dict(current.scores.values_list("indicator_id", "value"))
    return all(stored.get(indicator_id) == value for indicator_id, value in values.items())


def step_status(step: str) -> str:
    """The status ``step`` leaves a report in."""
    return _STEPS[step][0]
