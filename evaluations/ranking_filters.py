"""Filters of a cycle's rankings: region, province, batch and grade.

They narrow the evaluations shown; they never re-rank them, since ranks belong to the cycle.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluations.models import Evaluation, Grade
from registry.filters import ZonePlaceFilterSet


def grade_choices() -> list[tuple[int, str]]:
    """The grades with their number, best first: "1 · notable results"."""
    return [
        (grade.value, _("%(number)s · %(name)s") % {"number": grade.value, "name": grade.label})
        for grade in Grade
    ]


class RankingFilter(ZonePlaceFilterSet):
    """The rankings' filters; each choice list is read in at most one query."""

    zone_path = "zone__"

    grade = django_filters.ChoiceFilter(
        label=gettext_lazy("Grade"),
        choices=grade_choices,
        empty_label=gettext_lazy("All grades"),
    )

    class Meta:
        model = Evaluation
        fields = ["region", "province", "batch", "grade"]
