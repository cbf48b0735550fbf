"""Filters of a cycle's work queue."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from evaluations.models import Evaluation, EvaluationStatus
from registry.filters import ZonePlaceFilterSet
from zonetracker import permissions


def reviewers(request) -> QuerySet:
    """Everyone who may be assigned an evaluation, by name."""
    return permissions.reviewers()


class EvaluationFilter(ZonePlaceFilterSet):
    """The work queue's filters; each choice list is read in one query."""

    zone_path = "zone__"

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

    class Meta:
        model = Evaluation
        fields = ["status", "reviewer", "province", "region", "batch", "mine"]

    def filter_mine(
        self, queryset: QuerySet[Evaluation], name: str, value: bool
    ) -> QuerySet[Evaluation]:
        if not value:
            return queryset
        return queryset.assigned_to(self.request.user)
