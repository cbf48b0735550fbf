"""The province, region and batch filters, declared once and shared by every list page."""

from __future__ import annotations

import datetime

import pytest

from evaluations.filters import EvaluationFilter
from evaluations.models import Cycle, Evaluation
from evaluations.ranking_filters import RankingFilter
from registry.filters import ZoneFilter
from registry.models import Region, Zone
from tests.factories import make_batch, make_province, make_zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def east_and_west() -> dict[str, Zone]:
    first, second = make_batch(number=1), make_batch(number=2)
    return {
        "east": make_zone(name_en="East", province=make_province(region=Region.EAST), batch=first),
        "west": make_zone(name_en="West", province=make_province(region=Region.WEST), batch=second),
    }


def test_zones_and_evaluations_are_narrowed_alike_by_province_region_and_batch(east_and_west):
    east, west = east_and_west["east"], east_and_west["west"]
    cycle = Cycle.objects.create(year=2021, cutoff=datetime.date(2020, 12, 31))
    Evaluation.objects.bulk_create(Evaluation(cycle=cycle, zone=zone) for zone in (east, west))
    evaluations = Evaluation.objects.order_by("zone__name_en")
    for query, expected in [
        ({"province": west.province.pk}, ["West"]),
        ({"region": Region.EAST}, ["East"]),
        ({"batch": east.batch.pk}, ["East"]),
    ]:
        zones = ZoneFilter(query, queryset=Zone.objects.order_by("name_en")).qs
        assert [zone.name_en for zone in zones] == expected, query
        for filter_set in (EvaluationFilter, RankingFilter):
            shown = filter_set(query, queryset=evaluations).qs
            assert [e.zone.name_en for e in shown] == expected, (filter_set, query)


def test_a_page_filtering_evaluations_leaves_the_zone_lists_filters_as_they_were(east_and_west):
    # The path to the zone is set on each filter set's own copy of the filters: an evaluation
    # filter set made first must not make the zone list look for a zone inside its zones.
    RankingFilter({"region": Region.WEST}, queryset=Evaluation.objects.all()).qs.count()
    zones = ZoneFilter({"region": Region.WEST}, queryset=Zone.objects.all())
    assert zones.filters["region"].field_name == "province__region"
    assert [zone.name_en for zone in zones.qs] == ["West"]
