"""Score files: zone, indicator, value and note per row; a pure check, then the score writer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from evaluations.models import Cycle, CycleStatus, Evaluation, EvaluationStatus, Indicator
from evaluations.services import EditConflict, ScoreInput, rankings_compute_now, scores_write
from evaluations.values import value_from_text
from zonetracker.permissions import import_account
from zonetracker.punctuation import sentences
from zonetracker.tables import ImportSummary, RowProblems, Table, TableFormat

SCORE_FORMAT = TableFormat.declare(
    "zone 试验区, indicator 指标, value 数值, note? 备注",
    rows=pgettext_lazy("rows of a table file", "scores"),
    name=pgettext_lazy("kind of table file", "score"),
)

_OPEN_FOR_ENTRY = {EvaluationStatus.DRAFT, EvaluationStatus.RETURNED}


@dataclass
class ScoreCheck:
    """A checked score file: what each evaluation gets (changed scores only), and problems."""

    problems: RowProblems
    changes: dict[Evaluation, dict[int, ScoreInput]] = field(default_factory=dict)
    unchanged: int = 0


def _value_problem(raw: object) -> str | None:
    """Why a value cell is not a number (``evaluations.values.value_from_text``), or None."""
    try:
        value_from_text(raw)
    except ValueError:
        if any(comma in str(raw) for comma in ",，"):
            return _(
                "“%(value)s” has a comma: write numbers without thousands separators and "
                "with a point before the decimals, such as 1234567.5."
            ) % {"value": raw}
        return _("“%(value)s” is not a number.") % {"value": raw}
    return None


def scores_check(
    table: Table,
    *,
    year: int,
    evaluations: Mapping[str, Evaluation],
    indicators: Mapping[str, Indicator],
    stored: Mapping[tuple[int, int], tuple[Decimal | None, str]],
) -> ScoreCheck:
    """Check every row of a score file; write nothing.

    ``evaluations`` finds an evaluation by its zone's Chinese name, casefolded English name
    or slug; ``indicators`` by casefolded code; ``stored`` holds the scores as they are, by
    (evaluation id, indicator id), so that unchanged rows are told apart.
    """
    check = ScoreCheck(problems=RowProblems(table, SCORE_FORMAT.column_names))
    has_notes = "note" in table.headers
    seen: dict[tuple[int, int], int] = {}
    for number, cells in table.numbered_rows():
        problem = partial(check.problems.add, number)
        zone_text = str(cells["zone"]).strip()
        code = str(cells["indicator"]).strip()
        evaluation = evaluations.get(zone_text) or evaluations.get(zone_text.casefold())
        indicator = indicators.get(code.casefold())
        if not zone_text:
            problem("zone", _("the zone is missing."))
        elif evaluation is None:
            problem(
                "zone",
                _("no zone called “%(zone)s” is evaluated in %(year)s.")
                % {"zone": zone_text, "year": year},
            )
        elif evaluation.status not in _OPEN_FOR_ENTRY:
            problem(
                "zone",
                _("the evaluation of %(zone)s is %(status)s and can no longer change.")
                % {"zone": evaluation.zone.name_en, "status": evaluation.get_status_display()},
            )
            evaluation = None
        if indicator is None:
            problem(
                "indicator",
                _("no indicator has the code “%(code)s” in %(year)s.")
                % {"code": code, "year": year},
            )
        raw_value = cells["value"]
        value = None
        if str(raw_value).strip() == "":
            problem("value", _("the value is missing."))
        elif not_a_number := _value_problem(raw_value):
            problem("value", not_a_number)
        else:
            value = value_from_text(raw_value)
        if value is not None and indicator is not None:
            try:
                indicator.validate_value(value)
            except ValidationError as error:
                problem("value", sentences(error.messages))
                value = None
        if evaluation is None or indicator is None or value is None:
            continue
        key = (evaluation.pk, indicator.pk)
        if key in seen:
            problem(
                "indicator",
                _("%(zone)s already has a value for %(code)s in row %(row)s.")
                % {"zone": evaluation.zone.name_en, "code": indicator.code, "row": seen[key]},
            )
            continue
        seen[key] = number
        note = str(cells.get("note") or "").strip() if has_notes else None
        if key in stored and stored[key] == (value, stored[key][1] if note is None else note):
            check.unchanged += 1
            continue
        check.changes.setdefault(evaluation, {})[indicator.pk] = ScoreInput(value, note)
    return check


def scores_import(
    *,
    cycle: Cycle,
    table: Table,
    by: AbstractBaseUser | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Check every row of ``table`` and, only when all are good, write the scores.

    A zone is named by its Chinese or English name or its slug; an indicator by its code.
    Scores go only into evaluations that are still being entered (draft or returned) of an
    open cycle, through ``scores_write``, which moves each evaluation's version so that an
    editor holding an older form is told rather than overwritten. The writes are recorded as
    ``by``; without one, as the reserved import account (``permissions.import_account``).
    """
    if by is not None and not by.has_perm("evaluations.import_scores"):
        raise PermissionDenied(_("Only Administrators may import scores."))
    notices = list(table.notices)
    if cycle.status != CycleStatus.OPEN:
        message = _(
            "The cycle of %(year)s is %(status)s: scores can only be imported while it is open."
        ) % {"year": cycle.year, "status": cycle.get_status_display()}
        return ImportSummary(errors=[message], notices=notices)

    with transaction.atomic():
        # The cycle first, as the rankings' recompute locks it: the ranks are computed in
        # this transaction below, and the two must never wait on each other crosswise. (No
        # key update: a save that only refers to the cycle is not held back by it.)
        Cycle.objects.select_for_update(no_key=True).filter(pk=cycle.pk).exists()
        evaluations: dict[str, Evaluation] = {}
        for evaluation in cycle.evaluations.select_related("zone"):
            zone = evaluation.zone
            for key in (zone.name_zh, zone.name_en.casefold(), zone.slug):
                evaluations[key] = evaluation
        stored = {
            (evaluation_id, indicator_id): (value, note)
            for evaluation_id, indicator_id, value, note in cycle.evaluations.values_list(
                "pk", "scores__indicator_id", "scores__value", "scores__note"
            )
            if indicator_id is not None
        }
        check = scores_check(
            table,
            year=cycle.year,
            evaluations=evaluations,
            indicators={i.code.casefold(): i for i in cycle.indicators.all()},
            stored=stored,
        )
        if check.problems:
            return ImportSummary(errors=check.problems.messages(), notices=notices)
        # Every write names an account: without a user (the shell trusted), the reserved
        # import account, which never approves, so four eyes holds no person back for it.
        recorded_as = by if by is not None else import_account()
        new = updated = 0
        try:
            for evaluation, scores in check.changes.items():
                counts = scores_write(
                    evaluation=evaluation,
                    by=recorded_as,
                    scores=scores,
                    version=evaluation.version,
                )
                new, updated = new + counts.new, updated + counts.updated
        except EditConflict:
            # Someone saved the evaluation after the file was checked against it: what the
            # file would overwrite is no longer what was checked. Nothing of the file stays.
            transaction.set_rollback(True)
            message = _(
                "The evaluation of %(zone)s was saved by someone else during the import: "
                "nothing was imported. Check its scores and import the file again."
            ) % {"zone": evaluation.zone.name_en}
            return ImportSummary(errors=[message], notices=notices)
        if dry_run:
            transaction.set_rollback(True)
        elif new or updated:
            # The values and the provisional ranks they give commit together.
            rankings_compute_now(cycle)
    return ImportSummary(new=new, updated=updated, unchanged=check.unchanged, notices=notices)
