"""Bulk writes with history (zonetracker.bulk): the same rows and records as simple-history's."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from registry.models import Zone, ZoneStatus
from tests.factories import make_batch, make_province, make_user
from zonetracker.bulk import history_copy, rows_update

pytestmark = pytest.mark.django_db

# What a history record says about its row, besides its own id.
RECORD_FIELDS = [
    "id",
    "name_zh",
    "name_en",
    "slug",
    "province_id",
    "batch_id",
    "kind",
    "status",
    "status_changed_on",
    "history_type",
    "history_user_id",
    "history_change_reason",
]


def new_zones(prefix: str, count: int = 3) -> list[Zone]:
    province, batch = make_province(), make_batch()
    return Zone.objects.bulk_create(
        Zone(
            name_zh=f"{prefix}{n}市",
            name_en=f"{prefix} {n}",
            slug=f"{prefix.lower()}-{n}",
            province=province,
            batch=batch,
            kind="city",
        )
        for n in range(count)
    )


def records_of(zones: list[Zone]) -> list[dict]:
    """The zones' history records as plain values, without their own ids."""
    rows = Zone.history.filter(id__in=[zone.pk for zone in zones])
    return list(rows.order_by("history_type", "id").values(*RECORD_FIELDS, "history_date"))


def records_both_ways(zones: list[Zone], **options) -> tuple[list[dict], list[dict]]:
    """The records history_copy writes, and those simple-history writes, of the same rows."""
    history_copy(zones, Zone, **options)
    copied = records_of(zones)
    Zone.history.filter(id__in=[zone.pk for zone in zones]).delete()
    Zone.history.bulk_history_create(zones, **options)
    return copied, records_of(zones)


def test_copied_records_of_new_rows_are_those_simple_history_would_write():
    alice = make_user("alice")
    zones = new_zones("A")

    copied, built = records_both_ways(
        zones, update=False, default_user=alice, default_date=timezone.now()
    )

    assert copied == built
    assert {record["history_type"] for record in copied} == {"+"}
    assert {record["history_user_id"] for record in copied} == {alice.pk}


def test_copied_records_of_updated_rows_are_those_simple_history_would_write():
    zones = new_zones("B")
    for zone in zones:
        zone.status, zone.status_changed_on = ZoneStatus.ON_NOTICE, datetime.date(2024, 5, 1)
    rows_update(zones, ["status", "status_changed_on"])

    copied, built = records_both_ways(
        zones, update=True, default_change_reason="warned", default_date=timezone.now()
    )

    assert copied == built
    assert {(r["history_type"], r["status"]) for r in copied} == {("~", ZoneStatus.ON_NOTICE)}
    assert {r["history_change_reason"] for r in copied} == {"warned"}


def test_objects_with_their_own_history_user_get_simple_historys_records():
    alice, bob = make_user("alice"), make_user("bob")
    zones = new_zones("C", 2)
    zones[1]._history_user = bob

    history_copy(zones, Zone, update=False, default_user=alice)

    users = dict(
        Zone.history.filter(id__in=[z.pk for z in zones]).values_list("id", "history_user")
    )
    assert users == {zones[0].pk: alice.pk, zones[1].pk: bob.pk}


def test_nothing_to_copy_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        history_copy([], Zone, update=True)


def test_rows_update_writes_the_named_fields_of_each_row_and_nothing_else():
    zones = new_zones("D")
    for n, zone in enumerate(zones):
        zone.name_en = f"Renamed {n}"
        zone.status = ZoneStatus.EXITED  # changed in memory, not named: not written

    assert rows_update(zones, ["name_en"]) == 3

    assert list(
        Zone.objects.filter(pk__in=[z.pk for z in zones]).values_list("name_en", "status")
    ) == [(f"Renamed {n}", ZoneStatus.ACTIVE) for n in range(3)]
