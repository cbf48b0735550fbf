"""Published cycles in the open-data API: their policy and framework, their results and the
decisions taken on them. Nothing of a cycle that is not published, and no one's name.

The results carry the columns of ``export_rankings`` (DESIGN §5) from the same rows
(``rankings.ranking_rows``), plus what each dimension adds to the total.
"""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers
from rest_framework.response import Response

from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    Grade,
    Indicator,
    Outcome,
    Recommendation,
)
from evaluations.published_cache import published_cache_key
from evaluations.rankings import RankingRow, dimension_points, ranking_rows
from evaluations.selectors import publication_changed_at
from registry.api import ApiPlaceFilterSet
from zonetracker.api import Conditional, WholeCyclePagination
from zonetracker.cache import cached_value

# --- filters ----------------------------------------------------------------------------


class ResultApiFilter(ApiPlaceFilterSet):
    zone_path = "zone__"

    grade = django_filters.ChoiceFilter(choices=Grade.choices)

    class Meta:
        model = Evaluation
        fields = ["province", "region", "batch", "grade"]


class CycleApiFilter(django_filters.FilterSet):
    class Meta:
        model = Cycle
        fields = ["year"]


class DecisionApiFilter(ApiPlaceFilterSet):
    zone_path = "zone__"

    year = django_filters.NumberFilter(field_name="cycle__year")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    grade = django_filters.ChoiceFilter(
        choices=Grade.choices, method="filter_grade", help_text="The zone's grade that cycle."
    )

    class Meta:
        model = Decision
        fields = ["year", "province", "region", "batch", "grade", "outcome"]

    def filter_grade(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        graded = Evaluation.objects.filter(
            cycle=OuterRef("cycle"), zone=OuterRef("zone"), grade=value
        )
        return queryset.filter(Exists(graded))


# --- serializers -------------------------------------------------------------------------


class IndicatorSerializer(serializers.ModelSerializer):
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    max_points = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, allow_null=True
    )

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name_zh",
            "name_en",
            "dimension",
            "kind",
            "weight",
            "max_points",
            "unit_zh",
            "unit_en",
            "higher_is_better",
            "log_scale",
        ]


class PolicySerializer(serializers.Serializer):
    grade1_size = serializers.IntegerField(help_text="Grade 1 goes to the top N ranks.")
    grade2_threshold = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False
    )
    grade3_threshold = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False
    )
    adjustment_cap = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        coerce_to_string=False,
        help_text="The bonus and penalty points of a zone add up to at most ± this.",
    )
    rule = serializers.CharField(
        source="exit_rule",
        help_text="The exit rule: grade-run, region-bottom or region-and-nation-bottom.",
    )
    failing_grade = serializers.IntegerField(help_text="Zones at this grade or worse are warned.")
    bottom = serializers.IntegerField(
        source="exit_bottom", help_text="For the bottom rules: the K lowest-ranked zones."
    )
    exit_after = serializers.IntegerField(
        help_text="N: the failing or bottom cycles that lead to an exit recommendation."
    )
    within = serializers.IntegerField(
        source="exit_within", help_text="For region-bottom: N of the zone's last M cycles."
    )
    rationale_public = serializers.BooleanField(
        help_text="Whether decisions on this cycle show their rationale."
    )


class CycleSerializer(serializers.ModelSerializer):
    published_on = serializers.SerializerMethodField()
    demo = serializers.BooleanField(source="is_demo", help_text="Demonstration data.")
    policy = PolicySerializer(source="*")
    indicators = IndicatorSerializer(many=True)

    class Meta:
        model = Cycle
        fields = ["year", "cutoff", "published_on", "demo", "policy", "indicators"]

    def get_published_on(self, cycle: Cycle) -> datetime.date | None:
        return cycle.published_at.date() if cycle.published_at else None


class ResultSerializer(serializers.Serializer):
    """One line of ``export_rankings``, and each dimension's points."""

    rank = serializers.IntegerField(allow_null=True)
    zone = serializers.CharField(help_text="The zone's English name.")
    name_zh = serializers.CharField()
    slug = serializers.CharField()
    province = serializers.CharField(help_text="The province's English name.")
    region = serializers.CharField()
    batch = serializers.IntegerField()
    total = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False, allow_null=True
    )
    grade = serializers.IntegerField(allow_null=True, help_text="1 (best) to 4.")
    previous_rank = serializers.IntegerField(
        allow_null=True, help_text="Rank in the previous published cycle."
    )
    recommendation = serializers.ChoiceField(
        choices=["", Recommendation.WARN.value, Recommendation.EXIT.value],
        help_text="What the exit rule recommended: empty, warn or exit.",
    )
    decision = serializers.ChoiceField(
        choices=["", *Outcome.values], help_text="The decision taken: empty or its outcome."
    )
    dimensions = serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False),
        allow_null=True,
        help_text="Points each dimension adds to the total; null where they cannot be told.",
    )
    demo = serializers.BooleanField(help_text="Demonstration data, not official results.")

    def to_representation(self, row: RankingRow) -> dict[str, object]:
        record = row.export_record()
        record["slug"] = row.zone.slug
        record["demo"] = row.evaluation.cycle.is_demo
        record["dimensions"] = self.context["dimension_points"].get(row.evaluation.pk)
        return super().to_representation(record)


class DecisionSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="cycle.year")
    zone = serializers.CharField(source="zone.name_en", help_text="The zone's English name.")
    name_zh = serializers.CharField(source="zone.name_zh")
    slug = serializers.CharField(source="zone.slug")
    province = serializers.CharField(source="zone.province.name_en")
    region = serializers.CharField(source="zone.province.region")
    batch = serializers.IntegerField(source="zone.batch.number")
    decided_on = serializers.SerializerMethodField()
    rationale = serializers.SerializerMethodField(
        help_text="Why, where the cycle's policy makes rationales public; else null."
    )

    class Meta:
        model = Decision
        fields = [
            "year",
            "zone",
            "name_zh",
            "slug",
            "province",
            "region",
            "batch",
            "recommendation",
            "outcome",
            "decided_on",
            "rationale",
        ]

    def get_decided_on(self, decision: Decision) -> datetime.date | None:
        return decision.decided_at.date() if decision.decided_at else None

    def get_rationale(self, decision: Decision) -> str | None:
        return decision.rationale if decision.cycle.rationale_public else None


# --- endpoints ---------------------------------------------------------------------------


class PublishedView(Conditional):
    def changed_at(self) -> datetime.datetime | None:
        return publication_changed_at()


def _published_cycles() -> QuerySet[Cycle]:
    return Cycle.objects.published().prefetch_related(
        Prefetch("indicators", queryset=Indicator.objects.in_order())
    )


class CycleList(PublishedView, generics.ListAPIView):
    """The published cycles, latest first, with their policy and indicators (weights)."""

    serializer_class = CycleSerializer
    filterset_class = CycleApiFilter

    def get_queryset(self) -> QuerySet[Cycle]:
        return _published_cycles().order_by("-year")


class CycleDetail(PublishedView, generics.RetrieveAPIView):
    """One published cycle; 404 for a year not published."""

    serializer_class = CycleSerializer
    lookup_field = "year"

    def get_queryset(self) -> QuerySet[Cycle]:
        return _published_cycles()


class ResultList(PublishedView, generics.ListAPIView):
    """A published cycle's results in rank order, with the columns of ``export_rankings``;
    filters: province, region, batch, grade. 404 for a year not published."""

    serializer_class = ResultSerializer
    filterset_class = ResultApiFilter
    pagination_class = WholeCyclePagination

    def cycle(self) -> Cycle:
        if not hasattr(self, "_cycle"):
            self._cycle = get_object_or_404(Cycle.objects.published(), year=self.kwargs["year"])
        return self._cycle

    def changed_at(self) -> datetime.datetime | None:
        self.cycle()  # an unpublished year is a 404 before any 304
        return super().changed_at()

    def get_queryset(self) -> QuerySet[Evaluation]:
        if getattr(self, "swagger_fake_view", False):
            return Evaluation.objects.none()
        return Evaluation.objects.for_cycle(self.cycle())

    def list(self, request, *args, **kwargs) -> HttpResponse | Response:
        # A published cycle's results change only with a new version of the cycle (a
        # decision, the register) or a new moment of the published data (the ETag's): the
        # answer's values are kept per version, moment, language, query and host (the pages'
        # links name it), and drawn in the format asked for each time.
        role = f"api@{request.get_host()}@{getattr(self, 'changed_stamp', '-')}"
        renderer = getattr(request, "accepted_renderer", None)
        if renderer is not None and renderer.format == "json":
            # JSON, as programs read it, is kept as written (a whole cycle is 1,000 rows).
            key = published_cache_key(
                request, cycle=self.cycle(), kind="api-results.json", role=role
            )
            content = cached_value(
                key,
                lambda: renderer.render(
                    self.results_data(), request.accepted_media_type, self.get_renderer_context()
                ),
            )
            return HttpResponse(content, content_type=renderer.media_type)
        key = published_cache_key(request, cycle=self.cycle(), kind="api-results", role=role)
        return Response(cached_value(key, self.results_data))

    def results_data(self) -> dict[str, object]:
        rows = ranking_rows(self.cycle(), self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(rows)
        points = dimension_points(
            self.cycle(), {row.evaluation.pk: row.evaluation.total for row in page}
        )
        serializer = ResultSerializer(
            page, many=True, context={**self.get_serializer_context(), "dimension_points": points}
        )
        return self.get_paginated_response(serializer.data).data


class DecisionList(PublishedView, generics.ListAPIView):
    """The decisions taken on published cycles; filters: year, province, region, batch, grade,
    outcome."""

    serializer_class = DecisionSerializer
    filterset_class = DecisionApiFilter

    def get_queryset(self) -> QuerySet[Decision]:
        return (
            Decision.objects.filter(cycle__status=CycleStatus.PUBLISHED)
            .exclude(outcome="")
            .select_related("cycle", "zone__province", "zone__batch")
            .order_by("-cycle__year", "zone__name_en")
        )
