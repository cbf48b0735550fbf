"""A zone's results across cycles: the chart of its rank over time, and why its latest rank.

The chart is drawn by the template as inline SVG from the numbers computed here, with
presentation attributes and the stylesheet's classes only: no script and no inline style,
so the strict Content-Security-Policy holds. Rank 1 is at the top.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from evaluations.access import works_on_evaluations
from evaluations.models import Evaluation, Grade
from evaluations.rankings import AdjustmentLine, DimensionShare, explain
from evaluations.selectors import zone_evaluations
from evaluations.services import missing_indicators
from registry.models import Zone

# The drawing's coordinate system; the SVG scales to the width of its container.
WIDTH = 480
HEIGHT = 220
MARGIN_LEFT = 52
MARGIN_RIGHT = 24
MARGIN_TOP = 28
MARGIN_BOTTOM = 40


@dataclass(frozen=True)
class CycleResult:
    """A zone's evaluation in one cycle: its rank among the ranked zones, total and grade."""

    evaluation: Evaluation
    ranked_count: int

    @property
    def year(self) -> int:
        return self.evaluation.cycle.year

    @property
    def rank(self) -> int | None:
        return self.evaluation.rank

    @property
    def total(self) -> Decimal | None:
        return self.evaluation.total

    @property
    def grade(self) -> int | None:
        return self.evaluation.grade

    @property
    def grade_label(self) -> str:
        return Grade.label_of(self.grade)

    @property
    def next_grade(self) -> int | None:
        """The better grade this result could reach; None at the top grade."""
        return self.grade - 1 if self.grade and self.grade > 1 else None

    @property
    def next_grade_label(self) -> str:
        return Grade.label_of(self.next_grade)

    @property
    def is_provisional(self) -> bool:
        """The cycle is not published: its ranks may still change."""
        return not self.evaluation.cycle.is_published

    @property
    def is_demo(self) -> bool:
        return self.evaluation.cycle.is_demo

    @property
    def is_imported(self) -> bool:
        """Graded before zonetracker: the grade as published, no scores kept."""
        return self.evaluation.cycle.imported


def zone_results(zone: Zone, user: AbstractBaseUser | AnonymousUser) -> list[CycleResult]:
    """The zone's evaluations that ``user`` may see, oldest cycle first, in one query.

    Everyone sees the published cycles; those who work on evaluations also see the cycles
    under way, whose ranks are provisional.
    """
    evaluations = zone_evaluations(zone, published_only=not works_on_evaluations(user))
    return [CycleResult(e, e.ranked_count) for e in evaluations]


@dataclass(frozen=True)
class RankExplanation:
    """Why a result has its rank: what each dimension adds, and what the next grade needs."""

    result: CycleResult
    dimensions: list[DimensionShare]
    points_to_next_grade: Decimal | None
    adjustments: list[AdjustmentLine]
    adjustment_total: Decimal
    adjustment_cap: Decimal

    @property
    def bar_scale(self) -> Decimal:
        """The largest weight share: its bar spans the width, the others are drawn to scale."""
        return max((d.weight_share for d in self.dimensions), default=Decimal(100))


def why_this_rank(results: list[CycleResult]) -> RankExplanation | None:
    """The explanation of the latest ranked result, in a fixed number of queries.

    A published cycle's scores are frozen. In a cycle under way a score may have been cleared
    since the ranks were computed; such a rank is not explained.
    """
    ranked = [r for r in results if r.rank is not None]
    if not ranked:
        return None
    latest = ranked[-1]
    if latest.is_imported:
        return None
    if latest.is_provisional and missing_indicators(latest.evaluation):
        return None
    explanation = explain(latest.evaluation)
    if explanation is None:
        return None
    return RankExplanation(
        latest,
        explanation.dimensions,
        explanation.points_to_next_grade,
        explanation.adjustments,
        explanation.adjustment_total,
        latest.evaluation.cycle.adjustment_cap,
    )


def imported_latest(results: list[CycleResult]) -> CycleResult | None:
    """The latest result with a grade or a rank, when its cycle holds imported results: its
    rank cannot be explained, as no scores were kept."""
    graded = [r for r in results if r.rank is not None or r.grade is not None]
    if graded and graded[-1].is_imported:
        return graded[-1]
    return None


# --- the chart ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    year: int
    rank: int
    ranked_count: int
    provisional: bool


@dataclass(frozen=True)
class ChartSegment:
    """A line between two consecutive ranks; dashed when it leads to a provisional one."""

    x1: float
    y1: float
    x2: float
    y2: float
    provisional: bool


@dataclass(frozen=True)
class ChartTick:
    position: float
    label: str


@dataclass(frozen=True)
class RankChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    points: list[ChartPoint]
    segments: list[ChartSegment]
    x_ticks: list[ChartTick]
    y_ticks: list[ChartTick]
    lowest_rank: int  # the bottom of the axis: the most zones ranked in any cycle shown

    @property
    def has_provisional(self) -> bool:
        return any(point.provisional for point in self.points)


def rank_chart(results: list[CycleResult]) -> RankChart | None:
    """Where to draw each ranked cycle; None when the zone was never ranked."""
    ranked = [r for r in results if r.rank is not None]
    if not ranked:
        return None
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    lowest_rank = max(max(r.ranked_count for r in ranked), max(r.rank for r in ranked), 2)
    first_year, last_year = ranked[0].year, ranked[-1].year

    def x_of(year: int) -> float:
        if first_year == last_year:
            return round((left + right) / 2, 1)
        return round(left + (year - first_year) / (last_year - first_year) * (right - left), 1)

    def y_of(rank: int) -> float:
        return round(top + (rank - 1) / (lowest_rank - 1) * (bottom - top), 1)

    points = [
        ChartPoint(
            x=x_of(r.year),
            y=y_of(r.rank),
            year=r.year,
            rank=r.rank,
            ranked_count=r.ranked_count,
            provisional=r.is_provisional,
        )
        for r in ranked
    ]
    segments = [
        ChartSegment(a.x, a.y, b.x, b.y, provisional=a.provisional or b.provisional)
        for a, b in itertools.pairwise(points)
    ]
    return RankChart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
        points=points,
        segments=segments,
        x_ticks=[ChartTick(p.x, str(p.year)) for p in points],
        y_ticks=[ChartTick(y_of(rank), str(rank)) for rank in rank_ticks(lowest_rank)],
        lowest_rank=lowest_rank,
    )


def rank_ticks(lowest_rank: int, *, count: int = 4) -> list[int]:
    """Ranks to mark on the axis: 1, round steps in between, and the lowest rank."""
    raw_step = (lowest_rank - 1) / count
    magnitude = 10 ** math.floor(math.log10(raw_step)) if raw_step >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step)
    ticks = [1, *range(step, lowest_rank, step)]
    # A round tick crowding the lowest rank's label is dropped.
    if len(ticks) > 1 and lowest_rank - ticks[-1] < step / 2:
        ticks.pop()
    return sorted({*ticks, lowest_rank})
