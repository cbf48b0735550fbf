"""The register's admin: changelists in bounded queries, nothing deleted, history read-only."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from registry.models import Batch, Province, Region, Zone, ZoneStatus
from tests.factories import make_batch, make_province, make_zone


@pytest.fixture
def admin_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def sixty_zones(db) -> list[Zone]:
    provinces = [
        make_province(code=f"{n}", name_zh=f"省{n}", name_en=f"Province {n}", region=region)
        for n, region in zip(range(80, 84), Region.values, strict=True)
    ]
    batches = [make_batch(number=n) for n in range(1, 4)]
    return [
        make_zone(
            name_zh=f"市{n}",
            name_en=f"City {n}",
            province=provinces[n % 4],
            batch=batches[n % 3],
            status=ZoneStatus.ON_NOTICE if n % 5 == 0 else ZoneStatus.ACTIVE,
        )
        for n in range(60)
    ]


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("admin:registry_zone_changelist", ""),
        ("admin:registry_zone_changelist", "?province__region__exact=west&status__exact=active"),
        ("admin:registry_zone_changelist", "?q=City+1"),
        ("admin:registry_batch_changelist", ""),
        ("admin:registry_province_changelist", ""),
    ],
)
def test_changelists_take_a_bounded_number_of_queries(
    admin_client: Client, sixty_zones: list[Zone], django_assert_max_num_queries, url_name, query
):
    admin_client.get(reverse(url_name))  # warm up the permission and content type caches

    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse(url_name) + query)

    assert response.status_code == 200


def test_the_zone_changelist_shows_province_region_and_batch(admin_client: Client, sixty_zones):
    response = admin_client.get(reverse("admin:registry_zone_changelist") + "?q=市7")

    html = response.content.decode()
    assert "City 7" in html and "市7" in html
    assert "Province 83" in html and "Northeast" in html
    assert response.context["cl"].result_count == 1


def test_the_batch_changelist_counts_zones(admin_client: Client, sixty_zones):
    response = admin_client.get(reverse("admin:registry_batch_changelist"))

    counts = {batch.number: batch.zone_count for batch in response.context["cl"].result_list}
    assert counts == {1: 20, 2: 20, 3: 20}


@pytest.mark.parametrize("model", [Zone, Batch, Province])
def test_nothing_of_the_register_can_be_deleted(admin_client: Client, sixty_zones, model):
    obj = model.objects.first()
    name = model._meta.model_name

    response = admin_client.get(reverse(f"admin:registry_{name}_delete", args=[obj.pk]))
    changelist = admin_client.get(reverse(f"admin:registry_{name}_changelist"))

    assert response.status_code == 403
    assert "delete_selected" not in changelist.context["cl"].model_admin.get_actions(
        changelist.wsgi_request
    )
    assert model.objects.filter(pk=obj.pk).exists()


def test_a_zone_keeps_its_batch_in_the_admin(admin_client: Client, sixty_zones):
    zone = sixty_zones[0]

    response = admin_client.get(reverse("admin:registry_zone_change", args=[zone.pk]))

    assert "batch" not in response.context["adminform"].form.fields
    assert "batch" in response.context["adminform"].readonly_fields


def test_history_can_be_read_but_not_reverted(admin_client: Client, sixty_zones):
    zone = sixty_zones[0]
    original_name = zone.name_en
    zone.name_en = "Renamed"
    zone.save()
    first_version = zone.history.earliest()

    listing = admin_client.get(reverse("admin:registry_zone_history", args=[zone.pk]))
    version_url = reverse(
        "admin:registry_zone_simple_history", args=[zone.pk, first_version.history_id]
    )
    version = admin_client.get(version_url)
    revert = admin_client.post(
        version_url,
        {
            "name_zh": zone.name_zh,
            "name_en": original_name,
            "province": zone.province_id,
            "kind": zone.kind,
            "status": zone.status,
            "_change_history": "1",
        },
    )

    assert listing.status_code == 200
    assert "Renamed" in listing.content.decode() or original_name in listing.content.decode()
    assert version.status_code == 200
    assert version.context["revert_disabled"] is True
    assert 'value="Revert' not in version.content.decode()
    assert revert.status_code == 403
    zone.refresh_from_db()
    assert zone.name_en == "Renamed"


def test_admin_changes_are_recorded_with_their_author(admin_client: Client, alice: User):
    province = make_province()
    batch = make_batch(approved_on=datetime.date(2024, 1, 1))

    admin_client.post(
        reverse("admin:registry_zone_add"),
        {
            "name_zh": "新市",
            "name_en": "Newtown",
            "province": province.pk,
            "batch": batch.pk,
            "kind": "city",
            "status": "active",
        },
    )

    zone = Zone.objects.get(name_zh="新市")
    assert zone.history.get().history_user == alice
