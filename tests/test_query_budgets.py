"""Query budgets: what a page, an import or a ranking costs in SQL does not grow with the register.

Each test measures the same work at two sizes and expects the same number of queries (the
larger under ``django_assert_max_num_queries`` of the smaller's count), plus an upper bound
that keeps the count itself in check. Sizes stay small: the per-statement limits of SQLite's
bulk inserts are not reached, so any difference is a query per row.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations.framework import framework_load
from evaluations.models import (
    Cycle,
    CycleStatus,
    Evaluation,
    EvaluationStatus,
    Indicator,
    Score,
)
from evaluations.services import cycle_entries, cycle_open, rankings_compute
from registry.importing import zones_import
from registry.models import Batch, Province, Zone
from tests.factories import make_batch, make_province, make_user
from tests.registry.batch_files import csv_file, zone_row
from zonetracker.permissions import APPROVER

pytestmark = pytest.mark.django_db

YEARS = (2022, 2023)


def count_queries(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured.captured_queries)


def page_queries(client: Client, url: str) -> int:
    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, url

    return count_queries(get)


# --- a register that grows --------------------------------------------------------------------


def _value(indicator: Indicator, n: int) -> Decimal:
    if indicator.kind == "points":
        return indicator.max_points * Decimal(n % 11) / 10
    return Decimal(1 + (n * 37) % 500)


def grow_register(size: int) -> None:
    """Zones up to ``size``, each evaluated and fully scored in both cycles, both ranked.

    The first cycle ends up published and the second open, as the pages see them in a year.
    """
    if not Province.objects.exists():
        framework_load()
        make_province()
        make_batch(approved_on=datetime.date(2020, 1, 1))
    province, batch = Province.objects.get(), Batch.objects.get()
    start = Zone.objects.count()
    Zone.objects.bulk_create(
        Zone(
            name_zh=f"预算市{n}",
            name_en=f"Budget {n:03d}",
            slug=f"budget-{n:03d}",
            province=province,
            batch=batch,
        )
        for n in range(start, size)
    )
    for year in YEARS:
        cycle = Cycle.objects.filter(year=year).first() or cycle_open(year=year)
        Cycle.objects.filter(pk=cycle.pk).update(status=CycleStatus.OPEN)
        cycle.refresh_from_db()
        evaluated = set(cycle.evaluations.values_list("zone_id", flat=True))
        Evaluation.objects.bulk_create(
            Evaluation(cycle=cycle, zone=zone, status=EvaluationStatus.APPROVED)
            for zone in Zone.objects.exclude(pk__in=evaluated)
        )
        cycle.evaluations.update(status=EvaluationStatus.APPROVED)
        scored = set(Score.objects.filter(evaluation__cycle=cycle).values_list("evaluation_id"))
        Score.objects.bulk_create(
            Score(evaluation=evaluation, indicator=indicator, value=_value(indicator, n + year))
            for n, evaluation in enumerate(cycle.evaluations.order_by("pk"))
            if (evaluation.pk,) not in scored
            for indicator in cycle.indicators.all()
        )
        rankings_compute(cycle=cycle)
    Cycle.objects.filter(year=YEARS[0]).update(status=CycleStatus.PUBLISHED)


def page_urls() -> list[str]:
    """Every page under a budget; one that no longer reverses fails the test, not skips it."""
    current, published = YEARS[-1], YEARS[0]
    return [
        reverse("registry:zone_list"),
        reverse("evaluations:cycle_evaluations", args=[current]),
        reverse("evaluations:cycle_evaluations", args=[published]),
        reverse("registry:zone_detail", args=["budget-005"]),
        reverse("evaluations:cycle_rankings", args=[current]),
        reverse("evaluations:cycle_rankings", args=[published]),
        reverse("home"),
        reverse("evaluations:cycle_progress", args=[current]),
        reverse("evaluations:cycle_methodology", args=[current]),
        reverse("evaluations:cycle_methodology", args=[published]),
        reverse("evaluations:cycle_what_if", args=[current]) + "?grade1_size=3&show=all",
        reverse("evaluations:cycle_what_if", args=[published]) + "?exit_rule=region-bottom",
        reverse("evaluations:annual_report", args=[published]),
    ]


# --- pages ------------------------------------------------------------------------------------


def test_the_pages_read_as_many_queries_for_60_zones_as_for_15(django_assert_max_num_queries):
    client = Client()
    client.force_login(make_user("bob", APPROVER))
    grow_register(15)
    small = {url: page_queries(client, url) for url in page_urls()}

    grow_register(60)

    for url, budget in small.items():
        with django_assert_max_num_queries(budget, info=url):
            response = client.get(url)
        assert response.status_code == 200
        # Session, user, roles and the page's own reads: a handful, never one per zone.
        assert budget <= 15, (url, budget)


# --- compute_rankings -------------------------------------------------------------------------


def test_compute_rankings_takes_as_many_queries_for_40_evaluations_as_for_10(
    django_assert_max_num_queries,
):
    grow_register(10)
    cycle = Cycle.objects.get(year=YEARS[-1])
    cycle.evaluations.update(total=None, rank=None, grade=None)
    small = count_queries(lambda: rankings_compute(cycle=cycle))

    grow_register(40)
    cycle.evaluations.update(total=None, rank=None, grade=None)

    with django_assert_max_num_queries(small):
        results = rankings_compute(cycle=cycle)
    assert len(results) == 40 and all(result.ranked for result in results)
    # Indicators, evaluations and scores, the rows to update, the update and its history
    # (and the savepoints of the transaction).
    assert small <= 10


def test_cycle_entries_reads_a_cycle_in_two_queries(django_assert_num_queries):
    grow_register(12)
    cycle = Cycle.objects.get(year=YEARS[-1])

    with django_assert_num_queries(2):
        entries = cycle_entries(cycle)

    assert len(entries) == 12
    assert all(len(entry.values) == cycle.indicators.count() for entry in entries)


# --- imports ------------------------------------------------------------------------------------


@pytest.fixture
def provinces(db) -> None:
    from django.conf import settings

    from registry.importing import provinces_import

    provinces_import(raw=(settings.BASE_DIR / "fixtures" / "provinces.csv").read_bytes())


def batch_of(count: int, *, batch: int, english: str = "Zone") -> bytes:
    return csv_file(
        [
            zone_row(f"预算{batch}批{n}市", f"{english} {batch}-{n}", batch=str(batch))
            for n in range(count)
        ]
    )


@pytest.mark.usefixtures("provinces")
def test_an_import_takes_as_many_queries_for_70_new_zones_as_for_20(
    django_assert_max_num_queries,
):
    small = count_queries(lambda: zones_import(raw=batch_of(20, batch=8)))

    with django_assert_max_num_queries(small):
        summary = zones_import(raw=batch_of(70, batch=9))

    assert (summary.new, summary.updated) == (70, 0)
    assert Zone.history.filter(history_type="+").count() == 90
    # Provinces, batches, zones by either name, slugs, the new batch, the inserts and their
    # history records, six savepoints; on PostgreSQL django-import-export also resets the id
    # sequence after new rows.
    assert small <= 18


@pytest.mark.usefixtures("provinces")
def test_an_import_updates_70_zones_in_as_many_queries_as_20(django_assert_max_num_queries):
    zones_import(raw=batch_of(20, batch=8))
    zones_import(raw=batch_of(70, batch=9))
    small = count_queries(lambda: zones_import(raw=batch_of(20, batch=8, english="Renamed")))

    with django_assert_max_num_queries(small):
        summary = zones_import(raw=batch_of(70, batch=9, english="Renamed"))

    assert (summary.new, summary.updated) == (0, 70)
    assert Zone.objects.filter(name_en__startswith="Renamed").count() == 90
    assert Zone.history.filter(history_type="~").count() == 90


@pytest.mark.usefixtures("provinces")
def test_a_reimport_that_changes_nothing_writes_nothing():
    raw = batch_of(30, batch=8)
    zones_import(raw=raw)

    with CaptureQueriesContext(connection) as captured:
        summary = zones_import(raw=raw)

    assert (summary.new, summary.updated, summary.unchanged) == (0, 0, 30)
    writes = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
