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
from django.db.models import QuerySet
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from evaluations.charts import Bar, bar_chart, grade_distribution_chart
from evaluations.models import Cycle, Evaluation, Grade, Outcome, Recommendation
from evaluations.rankings import RankingRow, export_value, previous_published_cycle, ranking_rows
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
        labels = dict(Recommendation.choices)
        return str(labels.get(self.row.recommendation, ""))

    @property
    def decision_label(self) -> str:
        return str(dict(Outcome.choices).get(self.row.decision, ""))

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


@dataclass(frozen=True)
class RankingTable:
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

    @cached_property
    def grade_counts(self) -> list[tuple[int, str, int]]:
        """Each grade, best first, with its label and how many of the lines hold it."""
        counts = Counter(line.evaluation.grade for line in self.ranked)
        return [(grade.value, str(grade.label), counts[grade.value]) for grade in Grade]

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

    @cached_property
    def chart_lines(self) -> list[RankingLine | None]:
        """The lines of the totals chart: the top ten and the bottom ten, None between."""
        if len(self.ranked) <= 2 * CHART_ENDS:
            return list(self.ranked)
        return [*self.ranked[:CHART_ENDS], None, *self.ranked[-CHART_ENDS:]]

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
        return len(self.ranked) > 2 * CHART_ENDS

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
