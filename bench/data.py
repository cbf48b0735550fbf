"""Synthetic registers for the benchmark: provinces, batches, zones and two scored cycles.

Everything is made in bulk (setup is not what is measured) but through the product's own
functions where a page depends on what they write: the default framework is loaded by
``framework_load``, cycles are opened by ``cycle_open`` and ranked by ``rankings_compute``.
Names say "Synthetic" so that nobody mistakes a bench database for the register.
"""

from __future__ import annotations

import datetime
import random
import secrets
import string
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from evaluations.framework import framework_load
from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    EvaluationStatus,
    Grade,
    Indicator,
    Outcome,
    Recommendation,
    Score,
)
from evaluations.services import cycle_open, rankings_compute
from registry.importing import provinces_import
from registry.models import Batch, Province, Zone, ZoneKind, ZoneStatus
from zonetracker.permissions import APPROVER

SIZES = (165, 2_000, 10_000)
PREVIOUS_YEAR, CURRENT_YEAR = 2022, 2023
SEED = 20150307
USERNAME = "bench-approver"

# Seven batches, all approved before the first cut-off, so that every zone is evaluated in
# both cycles and every rank can move.
BATCH_DATES = [
    datetime.date(2015, 3, 7),
    datetime.date(2016, 1, 6),
    datetime.date(2018, 7, 24),
    datetime.date(2019, 12, 15),
    datetime.date(2020, 4, 27),
    datetime.date(2021, 3, 1),
    datetime.date(2021, 9, 1),
]
KINDS = [ZoneKind.CITY, ZoneKind.PREFECTURE, ZoneKind.COUNTY_LEVEL_CITY, ZoneKind.NEW_AREA]


@dataclass(frozen=True)
class BenchRegister:
    """What the measurements need to find in a built register."""

    size: int
    approver: User
    previous: Cycle
    current: Cycle
    zone_slug: str  # a zone ranked in the middle of the current cycle


def register_build(*, size: int, seed: int = SEED) -> BenchRegister:
    """Provinces, the default framework, ``size`` zones and two cycles, all scored.

    The previous cycle is ranked and published, with decisions on its weakest zones; the
    current one is scored and approved but left open, for ``rankings_compute`` to rank.
    """
    rng = random.Random(seed)
    provinces_import(raw=(settings.BASE_DIR / "fixtures" / "provinces.csv").read_bytes())
    framework_load()
    with transaction.atomic():
        zones = _zones_create(size, rng)
        approver = User.objects.create_user(username=USERNAME, first_name="Bench")
        approver.groups.add(Group.objects.get(name=APPROVER))
    quality = {zone.pk: rng.betavariate(5, 2) for zone in zones}

    previous = cycle_open(year=PREVIOUS_YEAR)
    _scores_fill(previous, quality, rng, approver)
    rankings_compute(cycle=previous)
    cycle_publish_quickly(previous, approver)
    decided = list(previous.decisions.order_by("zone_id").values_list("zone_id", flat=True)[::2])
    previous.decisions.filter(zone_id__in=decided).update(
        outcome=Outcome.WARN,
        rationale="Synthetic decision of the benchmark.",
        decided_by=approver,
        decided_at=timezone.now(),
    )
    Zone.objects.filter(pk__in=decided).update(
        status=ZoneStatus.ON_NOTICE, status_changed_on=datetime.date(2023, 5, 1)
    )

    for zone_id in quality:
        quality[zone_id] = min(max(quality[zone_id] + rng.gauss(0, 0.08), 0), 1)
    current = cycle_open(year=CURRENT_YEAR)
    _scores_fill(current, quality, rng, approver)
    middle = sorted(quality, key=quality.get)[len(quality) // 2]
    # The planner's statistics of the tables just filled, as autovacuum gathers them within
    # a minute of a bulk load: without them PostgreSQL plans for tables of a few rows.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return BenchRegister(
        size=size,
        approver=approver,
        previous=previous,
        current=current,
        zone_slug=Zone.objects.get(pk=middle).slug,
    )


def cycle_publish_quickly(cycle: Cycle, approver: User) -> None:
    """Publish a ranked cycle without the rule's history lookups: setup, not measurement.

    Writes what ``cycle_publish`` leaves for the pages: the status, and a recommendation for
    each zone at the failing grade (exit when it failed the cycle before as well).
    """
    now = timezone.now()
    Cycle.objects.filter(pk=cycle.pk).update(
        status=CycleStatus.PUBLISHED, published_at=now, published_by=approver
    )
    cycle.refresh_from_db()
    failing_before = set(
        Evaluation.objects.filter(
            cycle__year__lt=cycle.year, cycle__status=CycleStatus.PUBLISHED, grade=Grade.STARTING
        ).values_list("zone_id", flat=True)
    )
    Decision.objects.bulk_create(
        [
            Decision(
                cycle=cycle,
                zone_id=zone_id,
                recommendation=(
                    Recommendation.EXIT if zone_id in failing_before else Recommendation.WARN
                ),
            )
            for zone_id in cycle.evaluations.filter(grade=Grade.STARTING).values_list(
                "zone_id", flat=True
            )
        ],
        batch_size=1000,
    )


def session_cookie(user: User) -> str:
    """The ``Cookie`` header of a browser signed in as ``user``: its session, stored in the
    database, and the CSRF cookie that a browser holds after its first page."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf_secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf_secret}"


def _zones_create(size: int, rng: random.Random) -> list[Zone]:
    provinces = list(Province.objects.order_by("code"))
    batches = Batch.objects.bulk_create(
        [
            Batch(number=n, approved_on=date, document_no=f"Synthetic {n}")
            for n, date in enumerate(BATCH_DATES, start=1)
        ]
    )
    zones = [
        Zone(
            name_zh=f"合成试验区{n:05d}",
            name_en=f"Synthetic Zone {n:05d}",
            slug=f"synthetic-zone-{n:05d}",
            province=provinces[rng.randrange(len(provinces))],
            batch=batches[n % len(batches)],
            kind=KINDS[n % len(KINDS)],
        )
        for n in range(1, size + 1)
    ]
    # With their "added" history records: the zone page's timeline reads them.
    return bulk_create_with_history(zones, Zone, batch_size=1000)


def _value(indicator: Indicator, quality: float, rng: random.Random) -> Decimal:
    """A plausible figure for a zone of the given quality (0 weak .. 1 strong)."""
    if indicator.kind == "points":
        top = float(indicator.max_points)
        return Decimal(str(round(min(max(quality * top + rng.gauss(0, top * 0.12), 0), top), 1)))
    if indicator.log_scale:
        raw = Decimal(str(round(10 ** (quality * 3 + rng.gauss(0, 0.25)), 2)))
        return max(raw, indicator.min_value or Decimal("0.01"))
    if indicator.min_value is not None and indicator.min_value < 0:
        return Decimal(str(round(-20 + quality * 60 + rng.gauss(0, 8), 1)))
    return Decimal(max(0, round(quality * 40 + rng.gauss(0, 4))))


def _scores_fill(
    cycle: Cycle, quality: dict[int, float], rng: random.Random, reviewer: User
) -> None:
    """Every indicator scored for every evaluation, all approved (scores without history)."""
    indicators = list(cycle.indicators.in_order())
    now = timezone.now()
    evaluations = list(cycle.evaluations.order_by("pk").values_list("pk", "zone_id"))
    with transaction.atomic():
        Score.objects.bulk_create(
            (
                Score(
                    evaluation_id=evaluation_id,
                    indicator=indicator,
                    value=_value(indicator, quality[zone_id], rng),
                    entered_by=reviewer,
                    entered_at=now,
                )
                for evaluation_id, zone_id in evaluations
                for indicator in indicators
            ),
            batch_size=2000,
        )
        cycle.evaluations.update(
            status=EvaluationStatus.APPROVED,
            reviewer=reviewer,
            last_edited_by=reviewer,
            submitted_by=reviewer,
            submitted_at=now,
            approved_at=now,
        )
