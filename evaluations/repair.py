"""Finding and clearing stored values that the value column can no longer give back.

A value written before the column was narrowed to what SQLite's double keeps (or written by
a path that did not check) may not fit: Django then raises InvalidOperation on every read of
its row. These functions read the raw column with SQL, so the broken read is never made.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from evaluations.models import CycleStatus, Evaluation, EvaluationStatus, Indicator, Score
from evaluations.values import stored_value_fits

# Change reasons are at most 100 characters.
CHANGE_REASON = "repair_scores: a value that did not fit was cleared"
_BOUNDS = ("min_value", "max_value")


@dataclass(frozen=True)
class UnfitValue:
    """One stored value that does not fit: where it is, and its raw text."""

    table: str
    key: int
    column: str
    raw: str
    where: str


def _unfit_rows(table: str, key: str, column: str) -> list[tuple[int, str]]:
    """(key, raw text) of each row of ``table`` whose ``column`` does not fit."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(key)}, CAST({quote(column)} AS TEXT) FROM {quote(table)} "
            f"WHERE {quote(column)} IS NOT NULL ORDER BY {quote(key)}"
        )
        return [(pk, raw) for pk, raw in cursor.fetchall() if not stored_value_fits(raw)]


def unfit_values() -> list[UnfitValue]:
    """Every stored score, score history record and indicator bound that does not fit."""
    found: list[UnfitValue] = []
    score_rows = _unfit_rows(Score._meta.db_table, "id", "value")
    scores = {
        s.pk: s
        for s in Score.objects.defer("value", "indicator__min_value", "indicator__max_value")
        .select_related("evaluation__zone", "evaluation__cycle", "indicator")
        .filter(pk__in=[pk for pk, _raw in score_rows])
    }
    for pk, raw in score_rows:
        score = scores[pk]
        where = _("%(zone)s, cycle %(year)s, indicator %(code)s") % {
            "zone": score.evaluation.zone.name_en,
            "year": score.evaluation.cycle.year,
            "code": score.indicator.code,
        }
        found.append(UnfitValue(Score._meta.db_table, pk, "value", raw, where))
    history = Score.history.model._meta.db_table
    for pk, raw in _unfit_rows(history, "history_id", "value"):
        where = _("score history record %(id)s") % {"id": pk}
        found.append(UnfitValue(history, pk, "value", raw, where))
    for column in _BOUNDS:
        for pk, raw in _unfit_rows(Indicator._meta.db_table, "id", column):
            where = _("indicator %(indicator)s, %(column)s") % {
                "indicator": Indicator.objects.defer(*_BOUNDS).get(pk=pk),
                "column": column,
            }
            found.append(UnfitValue(Indicator._meta.db_table, pk, column, raw, where))
        indicator_history = Indicator.history.model._meta.db_table
        for pk, raw in _unfit_rows(indicator_history, "history_id", column):
            where = _("indicator history record %(id)s, %(column)s") % {
                "id": pk,
                "column": column,
            }
            found.append(UnfitValue(indicator_history, pk, column, raw, where))
    return found


def _clear_score(pk: int, raw: str, by: AbstractBaseUser | None) -> None:
    """Empty the score, say why in its note and history, and send its evaluation back."""
    score = Score.objects.defer("value").select_related("evaluation__cycle").get(pk=pk)
    why = _(
        "The stored value %(raw)s did not fit (at most 11 digits before the decimal point and "
        "4 after it) and was cleared: enter it again."
    ) % {"raw": raw}
    score.value = None
    score.note = f"{score.note}\n{why}" if score.note else why
    score._history_user = by
    score._change_reason = CHANGE_REASON
    score.save(update_fields=["value", "note"])
    evaluation = score.evaluation
    # The value is missing now, so the evaluation cannot be submitted until it is entered
    # again; one already submitted or approved goes back to its reviewer to do so. A
    # published cycle keeps its frozen states.
    if evaluation.cycle.status != CycleStatus.PUBLISHED and evaluation.status in {
        EvaluationStatus.SUBMITTED,
        EvaluationStatus.APPROVED,
    }:
        evaluation.status = EvaluationStatus.RETURNED
        evaluation.return_reason = why
        evaluation._history_user = by
        evaluation._change_reason = CHANGE_REASON
        evaluation.save(update_fields=["status", "return_reason"])
    # An editor holding the page from before is told the score changed, not overwritten.
    Evaluation.objects.filter(pk=evaluation.pk).update(version=F("version") + 1)


def unfit_values_repair(
    *, dry_run: bool = False, by: AbstractBaseUser | None = None
) -> list[UnfitValue]:
    """Clear every value that does not fit (nothing when ``dry_run``); return what was found.

    A score becomes empty, with a note and a history record saying why; an indicator bound
    becomes unset, with a history record; a history record's value becomes empty, since
    the record could not be read at all.
    """
    found = unfit_values()
    if dry_run or not found:
        return found
    quote = connection.ops.quote_name
    with transaction.atomic():
        for unfit in found:
            if unfit.table == Score._meta.db_table:
                _clear_score(unfit.key, unfit.raw, by)
        bounds: dict[int, list[str]] = {}
        for unfit in found:
            if unfit.table == Indicator._meta.db_table:
                bounds.setdefault(unfit.key, []).append(unfit.column)
        for pk, columns in bounds.items():
            # Both bounds deferred: the history record then reads only the one that fits.
            indicator = Indicator.objects.defer(*_BOUNDS).get(pk=pk)
            for column in columns:
                setattr(indicator, column, None)
            indicator._history_user = by
            indicator._change_reason = CHANGE_REASON
            indicator.save(update_fields=columns)
        # History records last: the records just written hold empty values already.
        with connection.cursor() as cursor:
            for unfit in found:
                if unfit.table in {Score._meta.db_table, Indicator._meta.db_table}:
                    continue
                cursor.execute(
                    f"UPDATE {quote(unfit.table)} SET {quote(unfit.column)} = NULL "
                    f"WHERE {quote('history_id')} = %s",
                    [unfit.key],
                )
    return found
