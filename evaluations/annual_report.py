"""The annual report of a published cycle: what it found, province by province, what moved,
what was recommended and decided, and how it was done, as a printable page and a PDF.

The report reads the same rows as the rankings page (``ranking_table``) and the same
framework as the methodology page (``selectors.cycle_framework``); the PDF is that page
rendered by WeasyPrint (``report_pdf``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.utils.translation import gettext as _

from evaluations.models import Cycle, Grade, Outcome, Recommendation
from evaluations.ranking_table import RankingLine, RankingTable, ranking_table
from evaluations.selectors import FrameworkOfCycle, cycle_framework
from evaluations.tile_map import MEASURES, TileMap, figures_from_rows, tile_map
from registry.models import Province

# The report names this many zones that rose most, and as many that fell most.
MOVERS = 5


@dataclass(frozen=True)
class ProvinceSection:
    province: Province
    lines: list[RankingLine]


@dataclass(frozen=True)
class AnnualReport:
    cycle: Cycle
    table: RankingTable
    framework: FrameworkOfCycle
    map: TileMap

    @property
    def title(self) -> str:
        return _("Annual report of the evaluation of %(year)s") % {"year": self.cycle.year}

    @property
    def grade_counts(self) -> list[tuple[int, str, int]]:
        return self.table.grade_counts

    @property
    def zone_count(self) -> int:
        return len(self.table.ranked)

    @cached_property
    def top_grade(self) -> list[RankingLine]:
        return [line for line in self.table.ranked if line.evaluation.grade == Grade.NOTABLE]

    @cached_property
    def provinces(self) -> list[ProvinceSection]:
        """Each province with ranked zones, in code order, its zones in rank order."""
        sections: dict[int, ProvinceSection] = {}
        for line in self.table.ranked:
            province = line.zone.province
            sections.setdefault(province.pk, ProvinceSection(province, [])).lines.append(line)
        return sorted(sections.values(), key=lambda section: section.province.code)

    @cached_property
    def movement_counts(self) -> dict[str, int]:
        """How many zones rose, fell, kept their rank, or are new since the previous cycle."""
        counts = dict.fromkeys(("up", "down", "same", "new"), 0)
        for line in self.table.ranked:
            if line.movement.direction in counts:
                counts[line.movement.direction] += 1
        return counts

    @cached_property
    def risers(self) -> list[RankingLine]:
        rising = [line for line in self.table.ranked if line.movement.direction == "up"]
        return sorted(rising, key=lambda line: -line.movement.places)[:MOVERS]

    @cached_property
    def fallers(self) -> list[RankingLine]:
        falling = [line for line in self.table.ranked if line.movement.direction == "down"]
        return sorted(falling, key=lambda line: -line.movement.places)[:MOVERS]

    @cached_property
    def recommended(self) -> list[RankingLine]:
        """Zones warned or recommended for exit, with the decision taken where there is one."""
        weak = {Recommendation.WARN, Recommendation.EXIT}
        return [line for line in self.table.lines if line.row.recommendation in weak]

    @cached_property
    def decision_counts(self) -> list[tuple[str, int]]:
        """Each outcome with how many decisions took it; pending ones last."""
        lines = [line for line in self.table.lines if line.row.recommendation]
        counts = [
            (str(label), sum(1 for line in lines if line.row.decision == outcome))
            for outcome, label in Outcome.choices
        ]
        pending = sum(1 for line in lines if not line.row.decision)
        return [*counts, (_("not decided yet"), pending)]

    def grade_chart(self):
        return self.table.grade_chart()


def annual_report(cycle: Cycle) -> AnnualReport:
    """The report of a cycle, in a fixed number of queries."""
    table = ranking_table(cycle, cycle.evaluations.all())
    return AnnualReport(
        cycle=cycle,
        table=table,
        framework=cycle_framework(cycle),
        map=tile_map(
            cycle, figures_from_rows(line.row for line in table.ranked), MEASURES["share"]
        ),
    )
