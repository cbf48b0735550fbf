"""Results of years graded before zonetracker: their file, a pure check, and the writer.

What survives of such a year is each zone's grade, sometimes its rank or total, and the
decision taken on it; never the indicator scores. ``import_results`` and the admin's
Cycles › Import past results read the file with ``zonetracker.tables.read_table`` and call
``results_import``: every row is checked (``results_check``, no database), and only when all
are good is the year written (``results_write``) as a published cycle of imported results,
with one approved evaluation per zone, its history, and the file's decisions recorded
through ``services.decision_take`` as an Approver's decision would be.

Rules of the file, and the decisions taken where the format leaves room:

- The year must not exist in zonetracker; its cut-off is the 31 December before it, and a
  zone approved after that took no part in it.
- A zone is named by its Chinese or English name or its slug, once per file.
- A grade is 1 to 4, or the grade's Chinese or English name.
- A rank is optional, per row; ranks must follow the grades' order (a better grade is never
  ranked below a worse one, and zones sharing a rank share its grade). Rules that read ranks
  apply to the year only when every zone has one (``rules.carries_ranks``).
- A total is optional, from 0 to 100 with at most two decimals.
- A decision (retain, warn, rectify, exit) comes with the date it was taken, after the
  evaluated year and not in the future; an exited zone takes no further decision, and a
  zone decided on in a later year takes none of an earlier one (years are imported oldest
  first, so that each zone's status is that of its latest decision).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from simple_history.utils import bulk_create_with_history

from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    EvaluationStatus,
    Grade,
    Outcome,
)
from evaluations.services import (
    decision_take,
    policy_copied_from,
    previous_cycle,
    recommendations_for,
)
from registry.importing import parse_approval_date
from registry.models import Zone, ZoneStatus
from zonetracker.permissions import import_account
from zonetracker.tables import ImportSummary, RowProblems, Table, TableFormat, excerpt


class _ResultsFormat(TableFormat):
    """The results format: the zone column is also accepted under 综试区, the short name."""

    def aliases(self) -> dict[str, str]:
        return {**super().aliases(), "综试区": "zone"}


RESULTS_FORMAT = _ResultsFormat.declare(
    "zone 试验区, grade 档次, rank? 名次, total? 总分, decision? 处理决定, decided_on? 决定日期",
    keeps_dates=("decided_on",),
    rows=pgettext_lazy("rows of a table file", "results"),
    name=pgettext_lazy("kind of table file", "results"),
)

# The grades' names as the Ministry publishes them, and in English: fixed, not translated.
GRADE_NAMES = {
    "成效明显": Grade.NOTABLE,
    "成效较好": Grade.GOOD,
    "成效初显": Grade.INITIAL,
    "尚在起步阶段": Grade.STARTING,
    "notable results": Grade.NOTABLE,
    "good results": Grade.GOOD,
    "initial results": Grade.INITIAL,
    "still at the starting stage": Grade.STARTING,
}
OUTCOME_NAMES = {
    **{outcome.value: outcome.value for outcome in Outcome},
    "require rectification": Outcome.RECTIFY,
    "保留": Outcome.RETAIN,
    "警示": Outcome.WARN,
    "警告": Outcome.WARN,
    "整改": Outcome.RECTIFY,
    "限期整改": Outcome.RECTIFY,
    "退出": Outcome.EXIT,
}
TOTAL_MAX = Decimal(100)


# --- values ----------------------------------------------------------------------------


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_grade(value: object) -> int:
    """A grade: 1 to 4, or its Chinese or English name. Raises ``ValueError`` with the reason."""
    text = str(value).strip()
    if not text:
        raise ValueError(_("the grade is missing."))
    if re.fullmatch(r"[0-9]+", text) and 1 <= int(text) <= len(Grade):
        return int(text)
    grade = GRADE_NAMES.get(_key(text))
    if grade is None:
        raise ValueError(
            _(
                "“%(value)s” is not a grade: give 1 to 4, or the grade's name (成效明显, "
                "成效较好, 成效初显, 尚在起步阶段, or notable results, good results, initial "
                "results, still at the starting stage)."
            )
            % {"value": excerpt(text)}
        )
    return int(grade)


def parse_rank(value: object) -> int | None:
    """A rank, a whole number from 1; None for an empty cell."""
    text = str(value).strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
        raise ValueError(
            _("“%(value)s” is not a rank: give a whole number from 1.") % {"value": excerpt(text)}
        )
    return int(text)


def parse_total(value: object) -> Decimal | None:
    """A total from 0 to 100 with at most two decimals; None for an empty cell."""
    text = str(value).strip()
    if not text:
        return None
    try:
        total = Decimal(text)
    except InvalidOperation:
        total = None
    if (
        total is None
        or not total.is_finite()
        or not 0 <= total <= TOTAL_MAX
        or total != total.quantize(Decimal("0.01"))
    ):
        raise ValueError(
            _("“%(value)s” is not a total: give a number from 0 to 100 with at most two decimals.")
            % {"value": excerpt(text)}
        )
    return total.quantize(Decimal("0.01"))


def parse_outcome(value: object) -> str:
    """A decision: retain, warn, rectify or exit (or its Chinese name); "" for an empty cell."""
    text = str(value).strip()
    if not text:
        return ""
    outcome = OUTCOME_NAMES.get(_key(text))
    if outcome is None:
        raise ValueError(
            _("“%(value)s” is not a decision: give retain, warn, rectify or exit.")
            % {"value": excerpt(text)}
        )
    return str(outcome)


# --- checking a results file -----------------------------------------------------------


@dataclass(frozen=True)
class ResultRow:
    """One good row of a results file, its values typed."""

    number: int
    zone: Zone
    grade: int
    rank: int | None
    total: Decimal | None
    decision: str
    decided_on: datetime.date | None

    @property
    def grade_label(self) -> str:
        return Grade.label_of(self.grade)

    @property
    def decision_label(self) -> str:
        return str(dict(Outcome.choices).get(self.decision, ""))


@dataclass(frozen=True)
class ResultsLookups:
    """What a results file is checked against: the register's zones by every name a file may
    use (Chinese name, casefolded English name, slug), and the zones the year would evaluate."""

    zones: Mapping[str, Zone]
    eligible: list[Zone]
    # Zone id → the latest later year on which a decision was taken about the zone: a decision
    # of an earlier year imported now would undo its effect on the zone's status.
    decided_later: Mapping[int, int] = field(default_factory=dict)


@dataclass
class ResultsCheck:
    """A checked results file: its good rows, the problems by row, and remarks."""

    year: int
    problems: RowProblems
    rows: list[ResultRow] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def ranked(self) -> int:
        return sum(row.rank is not None for row in self.rows)

    @property
    def decided(self) -> int:
        return sum(bool(row.decision) for row in self.rows)


def results_lookups(year: int) -> ResultsLookups:
    """The register as a results file of ``year`` is checked against, in two queries."""
    zones: dict[str, Zone] = {}
    for zone in Zone.objects.select_related("batch", "province").order_by("pk"):
        for key in (zone.name_zh, zone.name_en.casefold(), zone.slug):
            zones[key] = zone
    eligible = list(
        Zone.objects.approved_by(Cycle.default_cutoff(year)).not_exited().order_by("name_en")
    )
    decided_later: dict[int, int] = {}
    for zone_id, later in (
        Decision.objects.filter(cycle__year__gt=year)
        .exclude(outcome="")
        .order_by("cycle__year")
        .values_list("zone_id", "cycle__year")
    ):
        decided_later[zone_id] = later
    return ResultsLookups(zones=zones, eligible=eligible, decided_later=decided_later)


def results_check(
    table: Table, *, year: int, lookups: ResultsLookups, today: datetime.date
) -> ResultsCheck:
    """Check every row of a results file of ``year``; write nothing (no database).

    Each value is checked, then the rows against each other: a zone listed twice, ranks that
    contradict the grades' order. Problems name the row and the column.
    """
    cutoff = Cycle.default_cutoff(year)
    check = ResultsCheck(
        year=year, problems=RowProblems(table, RESULTS_FORMAT.column_names), notices=[]
    )
    seen: dict[int, int] = {}
    for number, cells in table.numbered_rows():
        problem = partial(check.problems.add, number)
        values: dict[str, object] = {}
        for column, parse in (
            ("grade", parse_grade),
            ("rank", parse_rank),
            ("total", parse_total),
            ("decision", parse_outcome),
        ):
            try:
                values[column] = parse(cells.get(column, ""))
            except ValueError as error:
                problem(column, str(error))
        zone = _check_zone(cells, problem, lookups=lookups, cutoff=cutoff, year=year)
        decided_on = _check_decision(
            cells, values.get("decision", ""), problem, zone=zone, year=year, today=today
        )
        if values.get("decision") and zone is not None and zone.pk in lookups.decided_later:
            problem(
                "decision",
                _(
                    "%(zone)s has a decision on the results of %(later)s already: results are "
                    "imported oldest first, and this decision would undo that one."
                )
                % {"zone": zone.name_en, "later": lookups.decided_later[zone.pk]},
            )
        if zone is not None:
            if zone.pk in seen:
                problem(
                    "zone",
                    _("%(zone)s is also on row %(row)s; a zone may appear only once.")
                    % {"zone": zone.name_en, "row": seen[zone.pk]},
                )
            else:
                seen[zone.pk] = number
        if number in check.problems or zone is None:
            continue
        check.rows.append(
            ResultRow(
                number=number,
                zone=zone,
                grade=values["grade"],
                rank=values["rank"],
                total=values["total"],
                decision=values["decision"],
                decided_on=decided_on,
            )
        )
    _check_rank_order(check)
    if check.problems:
        check.rows.clear()
        return check
    listed = {row.zone.pk for row in check.rows}
    absent = [zone.name_en for zone in lookups.eligible if zone.pk not in listed]
    if absent:
        check.notices.append(
            _("%(count)s zones approved by the cut-off of %(year)s are not in the file: %(zones)s.")
            % {"count": len(absent), "year": year, "zones": ", ".join(absent)}
        )
    return check


def _check_zone(
    cells: Mapping[str, object],
    problem,
    *,
    lookups: ResultsLookups,
    cutoff: datetime.date,
    year: int,
) -> Zone | None:
    text = str(cells["zone"]).strip()
    if not text:
        problem("zone", _("the zone is missing."))
        return None
    zone = lookups.zones.get(text) or lookups.zones.get(text.casefold())
    if zone is None:
        problem(
            "zone",
            _("no zone called “%(zone)s” is in the register.") % {"zone": excerpt(text)},
        )
        return None
    if zone.batch.approved_on > cutoff:
        problem(
            "zone",
            _(
                "%(zone)s was approved on %(approved)s, after the cut-off of %(year)s "
                "(%(cutoff)s): it took no part in that year."
            )
            % {
                "zone": zone.name_en,
                "approved": zone.batch.approved_on.isoformat(),
                "year": year,
                "cutoff": cutoff.isoformat(),
            },
        )
        return None
    return zone


def _check_decision(
    cells: Mapping[str, object],
    outcome: object,
    problem,
    *,
    zone: Zone | None,
    year: int,
    today: datetime.date,
) -> datetime.date | None:
    raw_date = cells.get("decided_on", "")
    decided_on = None
    if str(raw_date).strip():
        try:
            decided_on = parse_approval_date(raw_date)
        except ValueError as error:
            problem("decided_on", str(error))
            return None
        if decided_on <= datetime.date(year, 12, 31):
            problem(
                "decided_on",
                _(
                    "a decision on the results of %(year)s is taken after that year, not on "
                    "%(date)s."
                )
                % {"year": year, "date": decided_on.isoformat()},
            )
        elif decided_on > today:
            problem(
                "decided_on",
                _("%(date)s is in the future.") % {"date": decided_on.isoformat()},
            )
    if outcome and decided_on is None and not str(raw_date).strip():
        problem("decided_on", _("the date of the decision is missing."))
    if not outcome and str(raw_date).strip():
        problem("decision", _("a date is given without a decision; give the decision too."))
    if outcome and zone is not None and zone.status == ZoneStatus.EXITED:
        problem(
            "decision",
            _("%(zone)s has exited already: no further decision is taken on it.")
            % {"zone": zone.name_en},
        )
    return decided_on


def _check_rank_order(check: ResultsCheck) -> None:
    """Ranks follow the grades' order: a better grade is never ranked below a worse one, and
    zones sharing a rank share its grade. Each row is compared with the worst grade ranked
    ahead of it and with the first row of its own rank, so a long file is checked in one sort.
    """
    ranked = sorted((row for row in check.rows if row.rank is not None), key=lambda r: r.rank)
    worst_ahead: ResultRow | None = None
    index = 0
    while index < len(ranked):
        group = [row for row in ranked[index:] if row.rank == ranked[index].rank]
        first = group[0]
        for row in group:
            if worst_ahead is not None and worst_ahead.grade > row.grade:
                check.problems.add(
                    row.number,
                    "rank",
                    _(
                        "rank %(rank)s at grade %(grade)s comes after rank %(other_rank)s at "
                        "grade %(other_grade)s on row %(row)s: ranks must follow the grades' "
                        "order."
                    )
                    % {
                        "rank": row.rank,
                        "grade": row.grade,
                        "other_rank": worst_ahead.rank,
                        "other_grade": worst_ahead.grade,
                        "row": worst_ahead.number,
                    },
                )
            elif row.grade != first.grade:
                check.problems.add(
                    row.number,
                    "rank",
                    _(
                        "rank %(rank)s is also held at grade %(other_grade)s on row %(row)s: "
                        "zones sharing a rank share its grade."
                    )
                    % {"rank": row.rank, "other_grade": first.grade, "row": first.number},
                )
        for row in group:
            if worst_ahead is None or row.grade > worst_ahead.grade:
                worst_ahead = row
        index += len(group)


# --- writing ---------------------------------------------------------------------------


def results_write(*, check: ResultsCheck, by: AbstractBaseUser) -> Cycle:
    """Write a checked results file: the year as a published cycle of imported results.

    One transaction: the cycle (the policy of the latest earlier cycle, no framework), one
    approved evaluation per zone with its grade, rank and total, inserted in bulk with their
    history, and each decision of the file recorded through ``decision_take``, dated the day
    it was taken, changing the zone's status as a recorded decision does. ``by`` is recorded
    as the importer.
    """
    if not check.ok:
        raise ValueError("a results file with problems is never written")
    year = check.year
    with transaction.atomic():
        previous = previous_cycle(year)
        policy = policy_copied_from(previous)
        cycle = Cycle(
            year=year,
            cutoff=Cycle.default_cutoff(year),
            status=CycleStatus.PUBLISHED,
            imported=True,
            published_at=timezone.now(),
            published_by=by if by.is_active else None,
            **policy,
        )
        cycle.full_clean()
        cycle._history_user = by
        cycle.save()
        bulk_create_with_history(
            [
                Evaluation(
                    cycle=cycle,
                    zone=row.zone,
                    status=EvaluationStatus.APPROVED,
                    grade=row.grade,
                    rank=row.rank,
                    total=row.total,
                )
                for row in check.rows
            ],
            Evaluation,
            batch_size=1000,
            default_user=by,
            default_change_reason="results imported",
        )
        decided = [row for row in check.rows if row.decision]
        if decided:
            _record_decisions(cycle, decided, by=by)
    return cycle


def _record_decisions(cycle: Cycle, rows: list[ResultRow], *, by: AbstractBaseUser) -> None:
    advice = {
        evaluation.zone_id: advice
        for evaluation, advice in recommendations_for(cycle)
        if evaluation.zone_id in {row.zone.pk for row in rows}
    }
    decisions = bulk_create_with_history(
        [
            Decision(
                cycle=cycle,
                zone=row.zone,
                recommendation=advice[row.zone.pk].recommendation or "",
                failing_run=advice[row.zone.pk].failing_run,
            )
            for row in rows
        ],
        Decision,
        default_user=by,
    )
    by_zone = {decision.zone_id: decision for decision in decisions}
    for row in rows:
        decision_take(
            decision=by_zone[row.zone.pk],
            outcome=row.decision,
            rationale=_("Decided on %(date)s, as the imported results of %(year)s record.")
            % {"date": row.decided_on.isoformat(), "year": cycle.year},
            by=by,
            decided_on=row.decided_on,
            notify=False,
        )


def results_import(
    *,
    year: int,
    table: Table,
    by: AbstractBaseUser | None = None,
    dry_run: bool = False,
) -> tuple[ResultsCheck | None, ImportSummary]:
    """Check a results file of ``year`` and, only when every row is good, write it.

    Refused whole when the year exists already. Without ``by`` (the shell trusted) the
    writes are recorded as the reserved import account. A dry run checks and writes inside
    a transaction that is rolled back. Returns the check (None when the year was refused)
    and the summary: ``new`` is the number of zones graded.
    """
    if by is not None and not by.has_perm("evaluations.import_results"):
        raise PermissionDenied(_("Only Administrators may import the results of past years."))
    notices = list(table.notices)
    if Cycle.objects.filter(year=year).exists():
        message = _(
            "The cycle of %(year)s exists already: past results are imported only into a year "
            "that zonetracker does not hold."
        ) % {"year": year}
        return None, ImportSummary(errors=[message], notices=notices)
    if not 2015 <= year <= 2100:
        message = _("%(year)s is not a year zonetracker evaluates (2015 to 2100).") % {"year": year}
        return None, ImportSummary(errors=[message], notices=notices)
    with transaction.atomic():
        check = results_check(
            table, year=year, lookups=results_lookups(year), today=timezone.localdate()
        )
        notices += check.notices
        if not check.ok:
            return check, ImportSummary(errors=check.problems.messages(), notices=notices)
        try:
            with transaction.atomic():
                results_write(check=check, by=by if by is not None else import_account())
        except (OperationalError, InterfaceError):
            raise  # the database went away: the caller's 503 page or one-line command error
        except (DatabaseError, ValidationError) as error:
            reason = " ".join(error.messages) if isinstance(error, ValidationError) else error
            message = _("The results could not be saved (%(error)s); nothing was written.") % {
                "error": reason
            }
            transaction.set_rollback(True)
            return check, ImportSummary(errors=[message], notices=notices)
        if dry_run:
            transaction.set_rollback(True)
    notices.append(
        _("%(graded)s zones graded, %(ranked)s with a rank, %(decided)s decisions recorded.")
        % {"graded": len(check.rows), "ranked": check.ranked, "decided": check.decided}
    )
    return check, ImportSummary(new=len(check.rows), notices=notices)
