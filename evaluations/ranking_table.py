"""The rankings page's table: rows as shown, its charts, and its CSV and XLSX exports.

Ranks, movement and decisions come from ``evaluations.rankings.ranking_rows``; this module
only words them in the active language, so that the page and its exports show the same thing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import tablib
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from evaluations.charts import Bar, bar_chart, grade_distribution_chart
from evaluations.models import Cycle, Decision, Evaluation, Grade, Outcome, Recommendation
from evaluations.rankings import (
    RankingRow,
    export_value,
    previous_published_cycle,
    ranking_rows,
)
from registry.models import Zone
from zonetracker.punctuation import clauses
from zonetracker.tables import demo_marked

# The totals chart shows this many zones from the top and as many from the bottom.
CHART_ENDS = 10


@dataclass(frozen=True)
class Movement:
    """How a zone's rank moved since the previous published cycle.

    ``direction`` is ``up``, ``down``, ``same``, ``new`` (not ranked in that cycle) or empty
    when there is nothing to compare with (no earlier published cycle, or no rank now).
    """

    direction: str
    places: int = 0

    ARROWS = {"up": "▲", "down": "▼", "same": "=", "new": "★"}

    @classmethod
    def of(cls, row: RankingRow, *, compared: bool) -> Movement:
        if not compared or row.evaluation.rank is None:
            return cls("")
        if row.is_new:
            return cls("new")
        places = row.movement or 0
        if places > 0:
            return cls("up", places)
        if places < 0:
            return cls("down", -places)
        return cls("same")

    @property
    def arrow(self) -> str:
        return self.ARROWS.get(self.direction, "")

    @property
    def text(self) -> str:
        """The movement in words: "up 3", "down 2", "new", "same"; empty when not compared."""
        if self.direction == "up":
            return _("up %(places)s") % {"places": self.places}
        if self.direction == "down":
            return _("down %(places)s") % {"places": self.places}
        if self.direction == "new":
            return _("new")
        if self.direction == "same":
            return _("same")
        return ""


# Lazy labels: each is worded in the language active when it is shown.
_RECOMMENDATION_LABELS = dict(Recommendation.choices)
_OUTCOME_LABELS = dict(Outcome.choices)


@dataclass(frozen=True)
class RankingLine:
    """One zone's line of the rankings, as the page and its exports show it."""

    row: RankingRow
    movement: Movement

    @property
    def evaluation(self) -> Evaluation:
        return self.row.evaluation

    @property
    def zone(self) -> Zone:
        return self.row.evaluation.zone

    @property
    def grade_label(self) -> str:
        return Grade.label_of(self.row.evaluation.grade)

    @property
    def recommendation_label(self) -> str:
        return str(_RECOMMENDATION_LABELS.get(self.row.recommendation, ""))

    @property
    def decision_label(self) -> str:
        return str(_OUTCOME_LABELS.get(self.row.decision, ""))

    def export_cells(self) -> list[object]:
        """The line's cells in the order of ``export_headers``; None where nothing applies."""
        evaluation, zone = self.row.evaluation, self.zone
        return [
            evaluation.rank,
            zone.name_en,
            zone.name_zh,
            zone.province.name,
            zone.province.get_region_display(),
            zone.batch.number,
            evaluation.total,
            evaluation.grade,
            self.grade_label or None,
            self.movement.text or None,
            self.recommendation_label or None,
            self.decision_label or None,
        ]


class _RankingCharts:
    """The grade and totals charts of a ranking, drawn from its ``grade_counts``,
    ``chart_lines`` and ``ranked_count``."""

    cycle: Cycle
    grade_counts: list[tuple[int, str, int]]
    chart_lines: list[RankingLine | None]
    ranked_count: int

    @property
    def grade_figures(self) -> list[tuple[str, int]]:
        """The grade chart's figures, for its table: "1 · notable results" and a count."""
        return [(f"{grade} · {label}", count) for grade, label, count in self.grade_counts]

    @property
    def grade_title(self) -> str:
        return _("Zones by grade, %(year)s") % {"year": self.cycle.year}

    def grade_chart(self) -> SafeString:
        return grade_distribution_chart(
            {grade: count for grade, _label, count in self.grade_counts},
            chart_id="grade-chart",
            title=self.grade_title,
        )

    @property
    def totals_figures(self) -> list[tuple[str, str]]:
        """The totals chart's figures, for its table: "3. Ningbo" and its total."""
        return [
            (f"{line.evaluation.rank}. {line.zone.name}", f"{line.evaluation.total:.2f}")
            for line in self.chart_lines
            if line is not None
        ]

    @property
    def shows_ends_only(self) -> bool:
        """Whether the totals chart leaves out the middle of the ranking."""
        return self.ranked_count > 2 * CHART_ENDS

    @property
    def totals_title(self) -> str:
        if self.shows_ends_only:
            return _("Totals of the top %(count)s and the bottom %(count)s, out of 100") % {
                "count": CHART_ENDS
            }
        return _("Totals, out of 100")

    def totals_chart(self) -> SafeString:
        chinese = (get_language() or "").startswith("zh")
        bars = [
            None
            if line is None
            else Bar(
                label=f"{line.evaluation.rank}. {line.zone.name}",
                value=line.evaluation.total or Decimal(0),
                value_text=f"{line.evaluation.total:.2f}",
                css_class=f"chart__row--grade-{line.evaluation.grade}",
                lang="zh-Hans" if chinese else "en",
            )
            for line in self.chart_lines
        ]
        description = clauses(
            _("rank %(rank)s, %(zone)s: %(total)s")
            % {
                "rank": line.evaluation.rank,
                "zone": line.zone.name,
                "total": f"{line.evaluation.total:.2f}",
            }
            for line in self.chart_lines
            if line is not None
        )
        return bar_chart(
            bars,
            chart_id="totals-chart",
            title=self.totals_title,
            description=description + ".",
            maximum=100,
            ticks=(0, 25, 50, 75, 100),
        )


@dataclass(frozen=True)
class RankingTable(_RankingCharts):
    """A cycle's rankings as shown: ranked lines in rank order, then those without a rank.

    ``previous`` is the published cycle that movement is measured against, if any;
    ``compared`` says whether it carries ranks to measure against (imported results may
    not). In a cycle of imported results every graded zone is listed, ranked or not.
    """

    cycle: Cycle
    previous: Cycle | None
    ranked: list[RankingLine] = field(default_factory=list)
    unranked: list[RankingLine] = field(default_factory=list)
    compared: bool = False

    @property
    def has_totals(self) -> bool:
        """Every zone listed has a rank and a total to chart (imported results may not)."""
        return all(
            line.evaluation.rank is not None and line.evaluation.total is not None
            for line in self.ranked
        )

    @property
    def lines(self) -> list[RankingLine]:
        return [*self.ranked, *self.unranked]

    @property
    def ranked_count(self) -> int:
        return len(self.ranked)

    @cached_property
    def grade_counts(self) -> list[tuple[int, str, int]]:
        """Each grade, best first, with its label and how many of the lines hold it."""
        counts = Counter(line.evaluation.grade for line in self.ranked)
        return [(grade.value, str(grade.label), counts[grade.value]) for grade in Grade]

    @cached_property
    def chart_lines(self) -> list[RankingLine | None]:
        """The lines of the totals chart: the top ten and the bottom ten, None between."""
        if len(self.ranked) <= 2 * CHART_ENDS:
            return list(self.ranked)
        return [*self.ranked[:CHART_ENDS], None, *self.ranked[-CHART_ENDS:]]


@dataclass(frozen=True)
class RankingPage(_RankingCharts):
    """One page of a cycle's rankings: only the lines shown are read, with the counts and the
    charts' few lines of the whole (filtered) ranking beside them.

    ``unranked`` lists at most ``UNRANKED_LISTED`` of the ``unranked_count`` evaluations that
    have no rank.
    """

    cycle: Cycle
    previous: Cycle | None
    page_obj: Page
    ranked_count: int
    grade_counts: list[tuple[int, str, int]]
    chart_lines: list[RankingLine | None]
    unranked: list[RankingLine]
    unranked_count: int
    compared: bool = False
    has_totals: bool = True

    @property
    def ranked(self) -> bool:
        return self.ranked_count > 0

    @property
    def lines(self) -> bool:
        return self.ranked_count + self.unranked_count > 0

    @property
    def unranked_not_listed(self) -> int:
        return self.unranked_count - len(self.unranked)


def ranking_table(cycle: Cycle, evaluations: QuerySet[Evaluation]) -> RankingTable:
    """The rankings of ``evaluations`` (some of the cycle's), keeping the cycle's own ranks.

    A fixed number of queries, however many zones: those of ``ranking_rows`` and one more for
    the cycle that movement is measured against.
    """
    previous = previous_published_cycle(cycle)
    rows = ranking_rows(cycle, evaluations)
    # Every row says the same; without rows, a cycle of imported results may lack ranks.
    compared = previous is not None and (rows[0].compared if rows else not previous.imported)
    ranked, unranked = [], []
    for row in rows:
        line = RankingLine(row=row, movement=Movement.of(row, compared=compared))
        listed = row.evaluation.rank is not None or (
            cycle.imported and row.evaluation.grade is not None
        )
        (ranked if listed else unranked).append(line)
    return RankingTable(
        cycle=cycle, previous=previous, ranked=ranked, unranked=unranked, compared=compared
    )


# Unranked evaluations listed under the rankings; the rest are counted.
UNRANKED_LISTED = 100


class _CountedPaginator(Paginator):
    """A paginator told its count, read beforehand with the page's other figures."""

    def __init__(self, object_list: QuerySet, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def _bare_line(evaluation: Evaluation) -> RankingLine:
    """A line without movement or decision: what the charts and the unranked list show."""
    return RankingLine(
        row=RankingRow(evaluation=evaluation, previous_rank=None, recommendation="", decision=""),
        movement=Movement(""),
    )


def ranking_page(
    cycle: Cycle, evaluations: QuerySet[Evaluation], *, page: object, per_page: int
) -> RankingPage:
    """Page ``page`` of the rankings of ``evaluations`` (some of the cycle's), reading only
    what the page shows, so that its cost does not grow with the register.

    A fixed number of queries: the counts (ranked, unranked, by grade) in one, the page's
    evaluations with their previous ranks and decisions in another, the chart's bottom ten
    (and its top ten beyond the first page), the first unranked evaluations, and the cycle
    that movement is measured against.
    """
    previous = previous_published_cycle(cycle)
    # In a cycle of imported results every graded zone is listed, ranked or not.
    listed = (
        Q(rank__isnull=False) | Q(grade__isnull=False) if cycle.imported else Q(rank__isnull=False)
    )
    counts = evaluations.order_by().aggregate(
        ranked=Count("pk", filter=listed),
        unranked=Count("pk", filter=~listed),
        without_totals=Count("pk", filter=listed & (Q(rank__isnull=True) | Q(total__isnull=True))),
        **{
            f"grade_{grade.value}": Count("pk", filter=listed & Q(grade=grade.value))
            for grade in Grade
        },
    )
    # Movement needs the previous cycle's ranks: imported results may not give every one.
    compared = previous is not None and (
        not previous.imported
        or not previous.evaluations.filter(grade__isnull=False, rank__isnull=True).exists()
    )
    related = evaluations.select_related("zone__province", "zone__batch")
    ranked = related.filter(listed)
    # The previous rank and the decision come with each evaluation of the page, in one query.
    decision = Decision.objects.filter(cycle=cycle, zone_id=OuterRef("zone_id"))
    in_order = ranked.order_by(
        F("rank").asc(nulls_last=True), "grade", "zone__name_en", "pk"
    ).annotate(
        previous_rank=Subquery(
            Evaluation.objects.filter(cycle=previous, zone_id=OuterRef("zone_id")).values("rank")[
                :1
            ]
        )
        if previous is not None
        else Value(None, output_field=IntegerField()),
        recommendation=Subquery(decision.values("recommendation")[:1]),
        outcome=Subquery(decision.values("outcome")[:1]),
    )
    page_obj = _CountedPaginator(in_order, per_page, count=counts["ranked"]).get_page(page)
    lines = []
    for evaluation in page_obj.object_list:
        row = RankingRow(
            evaluation=evaluation,
            previous_rank=evaluation.previous_rank,
            recommendation=evaluation.recommendation or "",
            decision=evaluation.outcome or "",
        )
        lines.append(RankingLine(row=row, movement=Movement.of(row, compared=compared)))
    page_obj.object_list = lines
    chart_ends = ranked.filter(rank__isnull=False).select_related(None).select_related("zone")
    # The first page holds the chart's top ten, and all of it for a short ranking.
    if page_obj.number == 1 and per_page >= 2 * CHART_ENDS:
        first = [line.evaluation for line in page_obj.object_list][: 2 * CHART_ENDS]
    else:
        first = list(chart_ends.order_by("rank", "zone__name_en", "pk")[: 2 * CHART_ENDS])
    # Read whatever the length, so that the page reads as many queries for any register.
    bottom = list(chart_ends.order_by("-rank", "-zone__name_en", "-pk")[:CHART_ENDS])
    chart_lines: list[RankingLine | None]
    if counts["ranked"] > 2 * CHART_ENDS:
        chart_lines = [
            *(_bare_line(e) for e in first[:CHART_ENDS]),
            None,
            *reversed([_bare_line(e) for e in bottom]),
        ]
    else:
        chart_lines = [_bare_line(e) for e in first]
    unranked = []
    if counts["unranked"]:
        unranked = [
            _bare_line(evaluation)
            for evaluation in related.exclude(listed).order_by("zone__name_en", "pk")[
                :UNRANKED_LISTED
            ]
        ]
    return RankingPage(
        cycle=cycle,
        previous=previous,
        page_obj=page_obj,
        ranked_count=counts["ranked"],
        grade_counts=[
            (grade.value, str(grade.label), counts[f"grade_{grade.value}"]) for grade in Grade
        ],
        chart_lines=chart_lines,
        unranked=unranked,
        unranked_count=counts["unranked"],
        compared=compared,
        has_totals=not counts["without_totals"],
    )


# --- exports -------------------------------------------------------------------------------


def export_headers(table: RankingTable) -> list[str]:
    """The exports' column headers, in the active language."""
    if table.previous is not None:
        movement = _("Movement since %(year)s") % {"year": table.previous.year}
    else:
        movement = _("Movement")
    return [
        _("Rank"),
        _("English name"),
        _("Chinese name"),
        _("Province"),
        _("Region"),
        _("Batch"),
        _("Total"),
        _("Grade"),
        _("Grade name"),
        movement,
        _("Recommendation"),
        _("Decision"),
    ]


def export_filename(cycle: Cycle, extension: str) -> str:
    """zonetracker-rankings-2022.csv; a cycle not yet published says so in the name."""
    provisional = "" if cycle.is_published else "-provisional"
    return f"zonetracker-rankings-{cycle.year}{provisional}.{extension}"


def ranking_table_dataset(table: RankingTable) -> tablib.Dataset:
    """The table as the page shows it, one dataset for its CSV and XLSX exports."""
    dataset = tablib.Dataset(headers=export_headers(table), title=str(table.cycle.year))
    for line in table.lines:
        dataset.append(
            [
                # A control character cannot be stored in XLSX, and nobody sees it on the page.
                ILLEGAL_CHARACTERS_RE.sub("", value)
                if isinstance(value, str)
                else export_value(value)
                for value in line.export_cells()
            ]
        )
    if table.cycle.is_demo:
        return demo_marked(
            dataset, header=_("Demonstration"), marker=_("demonstration data, not official results")
        )
    return dataset
