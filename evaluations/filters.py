"""Filters, sort orders and page sizes of a cycle's work queue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import django_filters
from django import forms
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from evaluations.models import Evaluation, EvaluationStatus
from registry.filters import ColumnOrder, ZonePlaceFilterSet
from registry.models import in_active_language, zone_name_ordering
from zonetracker import permissions

# How many evaluations a page of the queue may show; the first is nobody's choice but the default.
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50

# The zone field holding a name's pinyin (``hangzhou``), searched as well once the register
# keeps one; until then the search reads the Chinese and English names and the slug.


def reviewers(request) -> QuerySet:
    """Everyone who may be assigned an evaluation, by name."""
    return permissions.reviewers()


def pinyin_pattern(text: str) -> str:
    """A pattern that finds typed pinyin (``hangzhou``, ``hang zhou``, ``hang2zhou1``) in a
    zone's pinyin key (``hang2 zhou1 shi4``): the letters in order, with tone numbers and
    spaces allowed between them. Empty for text that is not pinyin."""
    letters = re.sub(r"[\s1-5]", "", text.strip().lower())
    if not re.fullmatch(r"[a-z\u00fc]+", letters):
        return ""
    return "[1-5 ]*".join(letters.replace("\u00fc", "v"))


class EvaluationFilter(ZonePlaceFilterSet):
    """The work queue's filters and page size; each choice list is read in one query."""

    zone_path = "zone__"

    q = django_filters.CharFilter(
        label=_("Zone name contains"), method="filter_name", max_length=100, strip=True
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=EvaluationStatus.choices, empty_label=_("Any status")
    )
    reviewer = django_filters.ModelChoiceFilter(
        label=_("Reviewer"),
        queryset=reviewers,
        empty_label=_("Any reviewer"),
        null_label=_("Not assigned"),
    )
    mine = django_filters.BooleanFilter(
        label=_("Assigned to me"), method="filter_mine", widget=forms.CheckboxInput
    )
    per_page = django_filters.ChoiceFilter(
        label=_("Per page"),
        choices=[(str(size), str(size)) for size in PAGE_SIZES],
        empty_label=None,
        method="keep_all",
    )

    class Meta:
        model = Evaluation
        fields = ["q", "status", "reviewer", "province", "region", "batch", "mine", "per_page"]

    def __init__(self, data=None, *args, **kwargs) -> None:
        # The page size select shows the size in use when the query names none.
        if data is not None and not data.get("per_page"):
            data = data.copy()
            data["per_page"] = str(DEFAULT_PAGE_SIZE)
        super().__init__(data, *args, **kwargs)

    def filter_name(
        self, queryset: QuerySet[Evaluation], name: str, value: str
    ) -> QuerySet[Evaluation]:
        # Either language and the slug: people paste a Chinese name as often as they type an
        # English one; and pinyin, typed with or without spaces and tones ("hang zhou").
        matches = Q()
        for field in ["name_zh", "name_en", "slug"]:
            matches |= Q(**{f"zone__{field}__icontains": value})
        if pattern := pinyin_pattern(value):
            matches |= Q(zone__name_pinyin__iregex=pattern)
        return queryset.filter(matches)

    def filter_mine(
        self, queryset: QuerySet[Evaluation], name: str, value: bool
    ) -> QuerySet[Evaluation]:
        if not value:
            return queryset
        return queryset.assigned_to(self.request.user)

    def keep_all(
        self, queryset: QuerySet[Evaluation], name: str, value: str
    ) -> QuerySet[Evaluation]:
        # The page size chooses how many rows a page shows, not which rows match.
        return queryset

    @property
    def page_size(self) -> int:
        """The page size asked for, once the filters are valid; the default otherwise."""
        if not self.is_valid():
            return DEFAULT_PAGE_SIZE
        return int(self.form.cleaned_data.get("per_page") or DEFAULT_PAGE_SIZE)


@dataclass(frozen=True)
class QueueOrder(ColumnOrder):
    """A sort order of the work queue (``zone``, ``-submitted``, ...)."""

    COLUMNS: ClassVar[tuple[str, ...]] = ("zone", "province", "reviewer", "status", "submitted")
    DEFAULT_COLUMN: ClassVar[str] = "zone"

    def apply(self, evaluations: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
        # Names sort in the active language, as they are shown; the zone's name breaks ties so
        # that pages are stable (an evaluation per zone and cycle, names unique). Empty
        # reviewers and submission dates go last whichever way the column is read.
        zone_name = F(zone_name_ordering("zone__"))
        keys = {
            "zone": zone_name,
            "province": F(in_active_language("zone__province__name_zh", "zone__province__name_en")),
            "reviewer": F("reviewer__username"),
            "status": Case(
                *(
                    When(status=value, then=Value(rank))
                    for rank, value in enumerate(EvaluationStatus.values)
                ),
                output_field=IntegerField(),
            ),
            "submitted": F("submitted_at"),
        }
        key = keys[self.column]
        ordering = key.desc(nulls_last=True) if self.descending else key.asc(nulls_last=True)
        if self.column == "zone":
            return evaluations.order_by(ordering)
        return evaluations.order_by(ordering, zone_name.asc())
