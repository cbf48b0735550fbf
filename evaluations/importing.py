"""Importing scores from a file: zone, indicator, value and note per row, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluations.models import Cycle, CycleStatus, Evaluation, EvaluationStatus, Score
from evaluations.services import claim_version
from registry.importing import BatchDataset, Column, ImportSummary, TableFormat

SCORE_FORMAT = TableFormat(
    columns=(
        Column("zone", "试验区", required=True),
        Column("indicator", "指标", required=True),
        Column("value", "数值", required=True),
        Column("note", "备注", required=False),
    ),
    no_rows=gettext_lazy("The file has a header row but no rows of scores."),
    too_many_rows=gettext_lazy(
        "The file has more than %(max)s rows of scores; split it into smaller files."
    ),
    ignored_columns=gettext_lazy(
        "These columns are not part of the score format and were ignored: %(columns)s."
    ),
)


@dataclass(frozen=True)
class _Row:
    number: int
    evaluation: Evaluation
    indicator_id: int
    value: Decimal
    note: str


def _parse_value(raw: object) -> Decimal:
    text = str(raw).strip().replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite():
        raise ValueError
    return value


def scores_import(
    *,
    cycle: Cycle,
    table: BatchDataset,
    by: AbstractBaseUser | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Check every row of ``table`` and, only when all are good, write the scores.

    A zone is named by its Chinese or English name or its slug; an indicator by its code.
    Scores go only into evaluations that are still being entered (draft or returned) of an
    open cycle; each write moves the evaluation's version so that an editor holding an older
    form is told rather than overwritten.
    """
    if by is not None and not by.has_perm("evaluations.import_scores"):
        raise PermissionDenied(_("Only Administrators may import scores."))
    notices = list(table.notices)
    if cycle.status != CycleStatus.OPEN:
        message = _(
            "The cycle of %(year)s is %(status)s: scores can only be imported while it is open."
        ) % {"year": cycle.year, "status": cycle.get_status_display()}
        return ImportSummary(errors=[message], notices=notices)
    errors: list[str] = []

    evaluations = list(cycle.evaluations.select_related("zone"))
    by_name: dict[str, Evaluation] = {}
    for evaluation in evaluations:
        zone = evaluation.zone
        for key in (zone.name_zh, zone.name_en.casefold(), zone.slug):
            by_name[key] = evaluation
    indicators = {i.code.casefold(): i for i in cycle.indicators.all()}
    labels = table.column_labels

    def problem(number: int, column: str, message: str) -> None:
        errors.append(
            _("row %(row)s, column %(column)s: %(message)s")
            % {"row": number, "column": labels.get(column, column), "message": message}
        )

    rows: list[_Row] = []
    seen: dict[tuple[int, int], int] = {}
    for number, cells in zip(table.row_numbers, table.dict, strict=True):
        zone_text = str(cells["zone"]).strip()
        code = str(cells["indicator"]).strip()
        evaluation = by_name.get(zone_text) or by_name.get(zone_text.casefold())
        indicator = indicators.get(code.casefold())
        good = True
        if not zone_text:
            problem(number, "zone", _("the zone is missing."))
            good = False
        elif evaluation is None:
            problem(
                number,
                "zone",
                _("no zone called “%(zone)s” is evaluated in %(year)s.")
                % {"zone": zone_text, "year": cycle.year},
            )
            good = False
        elif evaluation.status not in {EvaluationStatus.DRAFT, EvaluationStatus.RETURNED}:
            problem(
                number,
                "zone",
                _("the evaluation of %(zone)s is %(status)s and can no longer change.")
                % {"zone": evaluation.zone.name_en, "status": evaluation.get_status_display()},
            )
            good = False
        if indicator is None:
            problem(
                number,
                "indicator",
                _("no indicator has the code “%(code)s” in %(year)s.")
                % {"code": code, "year": cycle.year},
            )
            good = False
        raw_value = cells["value"]
        value = None
        if str(raw_value).strip() == "":
            problem(number, "value", _("the value is missing."))
            good = False
        else:
            try:
                value = _parse_value(raw_value)
            except ValueError:
                problem(number, "value", _("“%(value)s” is not a number.") % {"value": raw_value})
                good = False
        if value is not None and indicator is not None:
            try:
                indicator.validate_value(value)
            except ValidationError as error:
                problem(number, "value", " ".join(error.messages))
                good = False
        if not good:
            continue
        key = (evaluation.pk, indicator.pk)
        if key in seen:
            problem(
                number,
                "indicator",
                _("%(zone)s already has a value for %(code)s in row %(row)s.")
                % {"zone": evaluation.zone.name_en, "code": indicator.code, "row": seen[key]},
            )
            continue
        seen[key] = number
        note = str(cells.get("note") or "").strip() if "note" in table.headers else None
        rows.append(_Row(number, evaluation, indicator.pk, value, note))

    if errors:
        return ImportSummary(errors=errors, notices=notices)
    counts = {"new": 0, "updated": 0, "unchanged": 0}

    with transaction.atomic():
        existing = {
            (s.evaluation_id, s.indicator_id): s
            for s in Score.objects.filter(evaluation__cycle=cycle)
        }
        touched: dict[int, Evaluation] = {}
        now = timezone.now()
        for row in rows:
            score = existing.get((row.evaluation.pk, row.indicator_id))
            note = row.note if row.note is not None else (score.note if score else "")
            if score is not None and score.value == row.value and score.note == note:
                counts["unchanged"] += 1
                continue
            if score is None:
                score = Score(evaluation=row.evaluation, indicator_id=row.indicator_id)
                counts["new"] += 1
            else:
                counts["updated"] += 1
            score.value, score.note = row.value, note
            score.entered_by, score.entered_at = by, now
            score._history_user = by
            score.save()
            touched[row.evaluation.pk] = row.evaluation
        for evaluation in touched.values():
            claim_version(evaluation, evaluation.version)
            evaluation.last_edited_by = by
            evaluation._history_user = by
            evaluation.save(update_fields=["version", "last_edited_by"])
        if dry_run:
            transaction.set_rollback(True)
    return ImportSummary(notices=notices, **counts)
