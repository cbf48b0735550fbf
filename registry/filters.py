"""Filters and sort orders of the zone register page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

import django_filters
from django import forms
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from registry.models import (
    Batch,
    Province,
    Region,
    Zone,
    ZoneStatus,
    in_active_language,
    zone_name_ordering,
)


class BatchChoiceField(forms.ModelChoiceField):
    """Batches labelled with their year as well, which is how people remember them."""

    def label_from_instance(self, obj: Batch) -> str:
        return _("Batch %(number)s (%(year)s)") % {
            "number": obj.number,
            "year": obj.approved_on.year,
        }


class BatchChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = BatchChoiceField


class ZonePlaceFilterSet(django_filters.FilterSet):
    """Where a zone is and when it came: its province, region and batch.

    Every page that lists zones, or what belongs to a zone (a cycle's evaluations, its
    rankings), filters by these three alike; ``zone_path`` says how the listed rows reach their
    zone: ``""`` for zones themselves, ``"zone__"`` for evaluations.
    """

    zone_path: ClassVar[str] = ""

    province = django_filters.ModelChoiceFilter(
        label=_("Province"),
        field_name="province",
        queryset=Province.objects.all(),
        empty_label=_("All provinces"),
    )
    region = django_filters.ChoiceFilter(
        label=_("Region"),
        field_name="province__region",
        choices=Region.choices,
        empty_label=_("All regions"),
    )
    batch = BatchChoiceFilter(
        label=_("Batch"),
        field_name="batch",
        queryset=Batch.objects.all(),
        empty_label=_("All batches"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Each instance filters on its own deep copy of the declared filters, so the path is
        # set here, once per page, rather than by declaring the three again in each subclass.
        for name in ("province", "region", "batch"):
            self.filters[name].field_name = self.zone_path + self.filters[name].field_name


class ZoneFilter(ZonePlaceFilterSet):
    """The register's filters; every choice list is read in one query."""

    q = django_filters.CharFilter(
        label=_("Name contains"), method="filter_name", max_length=100, strip=True
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=ZoneStatus.choices, empty_label=_("Any status")
    )

    class Meta:
        model = Zone
        fields = ["q", "province", "region", "batch", "status"]

    def filter_name(self, queryset: QuerySet[Zone], name: str, value: str) -> QuerySet[Zone]:
        # Either language: people paste a Chinese name as often as they type an English one.
        return queryset.filter(Q(name_zh__icontains=value) | Q(name_en__icontains=value))


@dataclass(frozen=True)
class ColumnHeader:
    """A header of a sortable table: its label, and where a click on it leads."""

    label: str
    order_param: str  # empty for a column that cannot be sorted
    aria_sort: str  # "ascending" or "descending" on the sorted column, empty elsewhere


@dataclass(frozen=True)
class ColumnOrder:
    """A sort order of a table: a whitelisted column, ascending or descending.

    Read from the ``order`` query parameter (``name``, ``-batch``, ...); anything not on the
    whitelist falls back to the default, so a hand-edited URL can only pick among the
    columns. A table names its ``COLUMNS`` and ``DEFAULT_COLUMN`` and says how it ``apply``s.
    """

    column: str
    descending: bool = False

    COLUMNS: ClassVar[tuple[str, ...]] = ()
    DEFAULT_COLUMN: ClassVar[str] = ""

    @classmethod
    def parse(cls, raw: str | None) -> Self:
        raw = (raw or "").strip()
        descending = raw.startswith("-")
        column = raw.removeprefix("-")
        if column not in cls.COLUMNS:
            return cls(cls.DEFAULT_COLUMN)
        return cls(column, descending)

    @property
    def param(self) -> str:
        """The value of the ``order`` query parameter that selects this order."""
        return f"-{self.column}" if self.descending else self.column

    def toggled(self, column: str) -> Self:
        """The order a click on ``column``'s header asks for: reversed if it is the current one."""
        if column == self.column:
            return type(self)(column, not self.descending)
        return type(self)(column)

    def headers(self, columns: list[tuple[str, str]]) -> list[ColumnHeader]:
        """The headers of a table's ``(column, label)`` list: those on the whitelist lead to
        their order, the sorted one says which way it is sorted."""
        headers = []
        for column, label in columns:
            if column not in self.COLUMNS:
                headers.append(ColumnHeader(label, "", ""))
                continue
            aria_sort = ""
            if column == self.column:
                aria_sort = "descending" if self.descending else "ascending"
            headers.append(ColumnHeader(label, self.toggled(column).param, aria_sort))
        return headers


@dataclass(frozen=True)
class ZoneOrder(ColumnOrder):
    """A sort order of the register."""

    COLUMNS: ClassVar[tuple[str, ...]] = ("name", "province", "region", "batch", "status")
    DEFAULT_COLUMN: ClassVar[str] = "batch"

    def apply(self, zones: QuerySet[Zone]) -> QuerySet[Zone]:
        # Names sort in the active language, as they are shown; the name also breaks ties so
        # that pages are stable (names are unique).
        name = F(zone_name_ordering())
        keys: dict[str, F | Case] = {
            "name": name,
            "province": F(in_active_language("province__name_zh", "province__name_en")),
            "region": _rank_in_choices("province__region", Region.values),
            "batch": F("batch__number"),
            "status": _rank_in_choices("status", ZoneStatus.values),
        }
        key = keys[self.column]
        ordering = key.desc() if self.descending else key.asc()
        if self.column == "name":
            return zones.order_by(ordering)
        return zones.order_by(ordering, name.asc())


def _rank_in_choices(field: str, values: list[str]) -> Case:
    """A choice's place in its declared order, to sort by instead of the alphabet.

    Regions then follow the statistics bureau (east, central, west, northeast) and statuses a
    zone's life (active, on notice, exited), in either language.
    """
    return Case(
        *(When(**{field: value}, then=Value(rank)) for rank, value in enumerate(values)),
        output_field=IntegerField(),
    )
