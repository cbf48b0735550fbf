"""A small published world for the open-data API's tests.

    2021 (published): Alpha 1, Bravo 2, Delta 3, Charlie 4
    2022 (published): Bravo 1, Alpha 2, Delta 3, Echo 4, Charlie 5
    2023 (open):      Alpha 1, Echo 2

Alpha, Bravo and Echo are in Eastshire (east), Charlie and Delta in Westshire (west); Alpha
and Charlie came in the first batch, the others in the second. After 2022 Charlie was
recommended for exit and exited (rationale "Graded 4 twice."); Delta was recommended a
warning nobody has decided yet.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    EvaluationStatus,
    Outcome,
    Recommendation,
)
from registry.models import Batch, Province, Region, Zone
from tests.factories import make_batch, make_province, make_zone


@dataclass(frozen=True)
class World:
    east: Province
    west: Province
    first: Batch
    second: Batch
    zones: dict[str, Zone]
    cycles: dict[int, Cycle]


def make_cycle(year: int, *, published: bool = True, is_demo: bool = False) -> Cycle:
    return Cycle.objects.create(
        year=year,
        cutoff=Cycle.default_cutoff(year),
        status=CycleStatus.PUBLISHED if published else CycleStatus.OPEN,
        published_at=timezone.now() if published else None,
        is_demo=is_demo,
    )


def evaluate(cycle: Cycle, zone: Zone, rank: int, total: str, grade: int) -> Evaluation:
    return Evaluation.objects.create(
        cycle=cycle,
        zone=zone,
        status=EvaluationStatus.APPROVED,
        rank=rank,
        total=Decimal(total),
        grade=grade,
    )


def build_world() -> World:
    east = make_province(name_en="Eastshire", name_zh="东省", region=Region.EAST)
    west = make_province(name_en="Westshire", name_zh="西省", region=Region.WEST)
    first = make_batch(approved_on=datetime.date(2016, 1, 6))
    second = make_batch(approved_on=datetime.date(2018, 7, 24))
    places = {
        "Alpha": ("甲市", east, first),
        "Bravo": ("乙市", east, second),
        "Charlie": ("丙市", west, first),
        "Delta": ("丁市", west, second),
        "Echo": ("戊市", east, second),
    }
    zones = {
        name: make_zone(name_en=name, name_zh=name_zh, province=province, batch=batch)
        for name, (name_zh, province, batch) in places.items()
    }
    c2021, c2022, c2023 = make_cycle(2021), make_cycle(2022), make_cycle(2023, published=False)
    for cycle, lines in {
        c2021: [
            ("Alpha", 1, "91.00", 1),
            ("Bravo", 2, "88.00", 2),
            ("Delta", 3, "70.00", 3),
            ("Charlie", 4, "50.00", 4),
        ],
        c2022: [
            ("Bravo", 1, "93.25", 1),
            ("Alpha", 2, "90.50", 2),
            ("Delta", 3, "66.00", 3),
            ("Echo", 4, "61.75", 3),
            ("Charlie", 5, "42.10", 4),
        ],
        c2023: [("Alpha", 1, "95.00", 1), ("Echo", 2, "80.00", 2)],
    }.items():
        for name, rank, total, grade in lines:
            evaluate(cycle, zones[name], rank, total, grade)
    Decision.objects.create(
        cycle=c2022,
        zone=zones["Charlie"],
        recommendation=Recommendation.EXIT,
        outcome=Outcome.EXIT,
        rationale="Graded 4 twice.",
        decided_at=timezone.now(),
    )
    Decision.objects.create(cycle=c2022, zone=zones["Delta"], recommendation=Recommendation.WARN)
    return World(
        east=east,
        west=west,
        first=first,
        second=second,
        zones=zones,
        cycles={2021: c2021, 2022: c2022, 2023: c2023},
    )
