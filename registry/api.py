"""The register in the open-data API: provinces, batches and zones with their history of
status. Read-only; the access, paging, throttling and caching rules are ``zonetracker.api``'s.
"""

from __future__ import annotations

import datetime
from typing import ClassVar

import django_filters
from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics, serializers
from rest_framework.response import Response

from registry.models import Batch, Province, Region, Zone, ZoneStatus
from registry.selectors import register_changed_at, zones_status_histories
from zonetracker.api import Conditional

# --- filters ----------------------------------------------------------------------------


class ApiPlaceFilterSet(django_filters.FilterSet):
    """``province`` (code, English or Chinese name), ``region``, ``batch`` (number), for every
    list that reaches a zone; ``zone_path`` says how (``""``, ``"zone__"``)."""

    zone_path: ClassVar[str] = ""

    province = django_filters.CharFilter(
        method="filter_province", help_text="Province code (GB/T 2260), English or Chinese name."
    )
    region = django_filters.ChoiceFilter(choices=Region.choices, method="filter_region")
    batch = django_filters.NumberFilter(method="filter_batch", help_text="Batch number.")

    def filter_province(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        path = f"{self.zone_path}province__"
        return queryset.filter(
            Q(**{f"{path}code": value})
            | Q(**{f"{path}name_en__iexact": value})
            | Q(**{f"{path}name_zh": value})
        )

    def filter_region(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**{f"{self.zone_path}province__region": value})

    def filter_batch(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(**{f"{self.zone_path}batch__number": value})


class ZoneApiFilter(ApiPlaceFilterSet):
    status = django_filters.ChoiceFilter(choices=ZoneStatus.choices)

    class Meta:
        model = Zone
        fields = ["province", "region", "batch", "status"]


class ProvinceApiFilter(django_filters.FilterSet):
    region = django_filters.ChoiceFilter(choices=Region.choices)

    class Meta:
        model = Province
        fields = ["region"]


# --- serializers -------------------------------------------------------------------------


class ProvinceSerializer(serializers.ModelSerializer):
    zone_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Province
        fields = ["code", "name_zh", "name_en", "region", "zone_count"]


class BatchSerializer(serializers.ModelSerializer):
    zone_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Batch
        fields = ["number", "approved_on", "document_no", "zone_count"]


class StatusLineSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ZoneStatus.choices)
    since = serializers.DateField()


class ZoneSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province.name_en", read_only=True)
    province_code = serializers.CharField(source="province.code", read_only=True)
    region = serializers.CharField(source="province.region", read_only=True)
    batch = serializers.IntegerField(source="batch.number", read_only=True)
    approved_on = serializers.DateField(source="batch.approved_on", read_only=True)
    status_history = serializers.SerializerMethodField()

    class Meta:
        model = Zone
        fields = [
            "slug",
            "name_en",
            "name_zh",
            "kind",
            "province",
            "province_code",
            "region",
            "batch",
            "approved_on",
            "status",
            "status_changed_on",
            "status_history",
        ]

    @extend_schema_field(StatusLineSerializer(many=True))
    def get_status_history(self, zone: Zone) -> list[dict[str, object]]:
        lines = self.context["status_histories"].get(zone.pk, [])
        return StatusLineSerializer(
            [{"status": status, "since": since} for status, since in lines], many=True
        ).data


# --- endpoints ---------------------------------------------------------------------------


class RegisterView(Conditional):
    def changed_at(self) -> datetime.datetime | None:
        return register_changed_at()


class ProvinceList(RegisterView, generics.ListAPIView):
    """The 31 provinces with their region and number of zones."""

    serializer_class = ProvinceSerializer
    filterset_class = ProvinceApiFilter
    queryset = Province.objects.annotate(zone_count=Count("zones")).order_by("code")


class BatchList(RegisterView, generics.ListAPIView):
    """The State Council's batches of approvals with their number of zones."""

    serializer_class = BatchSerializer
    queryset = Batch.objects.with_zone_counts()


class ZoneHistories:
    """Reads the status histories of the zones being serialised, in one query."""

    def zones_context(self, zones: list[Zone]) -> dict[str, object]:
        return {
            **self.get_serializer_context(),
            "status_histories": zones_status_histories(zone.pk for zone in zones),
        }


class ZoneList(RegisterView, ZoneHistories, generics.ListAPIView):
    """The zones, with status and history of status; filters: province, region, batch,
    status."""

    serializer_class = ZoneSerializer
    filterset_class = ZoneApiFilter
    queryset = Zone.objects.with_related().order_by("batch__number", "name_en")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        serializer = ZoneSerializer(page, many=True, context=self.zones_context(page))
        return self.get_paginated_response(serializer.data)


class ZoneDetail(RegisterView, ZoneHistories, generics.RetrieveAPIView):
    """One zone by its slug."""

    serializer_class = ZoneSerializer
    queryset = Zone.objects.with_related()
    lookup_field = "slug"

    def retrieve(self, request, *args, **kwargs):
        zone = self.get_object()
        return Response(ZoneSerializer(zone, context=self.zones_context([zone])).data)
