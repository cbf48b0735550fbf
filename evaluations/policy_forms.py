"""The what-if page's forms: a trial policy (the cycle's fields and its weights) and the
rows shown."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from evaluations.models import Cycle, Indicator, IndicatorKind
from evaluations.policy import Trial, trial_cycle, trial_of
from evaluations.services import POLICY_FIELDS

WEIGHT_PREFIX = "weight_"


class PolicyTrialForm(forms.Form):
    """Another policy for ``cycle``: its policy fields as on the cycle, and one weight per
    weighted indicator. Every field starts at the cycle's own value, so a field left out
    keeps it; a bound form that is valid gives its ``trial()``."""

    def __init__(self, *args, cycle: Cycle, indicators: list[Indicator], **kwargs) -> None:
        # No colon after a label: each language would punctuate its own.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.cycle = cycle
        self.weighted = [i for i in indicators if i.kind != IndicatorKind.ADJUSTMENT]
        for name, field in forms.fields_for_model(Cycle, fields=POLICY_FIELDS).items():
            field.initial = getattr(cycle, name)
            field.required = True
            self.fields[name] = field
        for indicator in self.weighted:
            self.fields[f"{WEIGHT_PREFIX}{indicator.pk}"] = forms.DecimalField(
                label=f"{indicator.code} {indicator.name}",
                initial=indicator.weight,
                min_value=Decimal("0.01"),
                max_digits=6,
                decimal_places=2,
            )
        if self.is_bound:
            # A field the request leaves out keeps the cycle's value.
            data = self.data.copy()
            for name, field in self.fields.items():
                if name not in data:
                    data[name] = field.initial
            self.data = data

    def policy_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in POLICY_FIELDS]

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"{WEIGHT_PREFIX}{i.pk}"] for i in self.weighted]

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.tried = trial_cycle(self.cycle, self.policy_changes())
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, messages in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, messages)
            else:
                self.add_error(None, error)
        return cleaned

    def policy_changes(self) -> dict[str, object]:
        return {name: self.cleaned_data[name] for name in POLICY_FIELDS}

    def weights(self) -> dict[int, Decimal]:
        """The weights that differ from the cycle's, by indicator id."""
        return {
            i.pk: self.cleaned_data[f"{WEIGHT_PREFIX}{i.pk}"]
            for i in self.weighted
            if self.cleaned_data[f"{WEIGHT_PREFIX}{i.pk}"] != i.weight
        }

    def weights_tried(self) -> bool:
        """Whether the trial touches the weights (changed, or wrong): their fields show."""
        if any(field.errors for field in self.weight_fields()):
            return True
        return self.is_valid() and bool(self.weights())

    def trial(self) -> Trial:
        return trial_of(self.tried, self.weights())

    def is_the_cycles(self) -> bool:
        """Whether the trial is the cycle's policy as it stands."""
        return not self.weights() and all(
            self.cleaned_data[name] == getattr(self.cycle, name) for name in POLICY_FIELDS
        )


class WhatIfFilterForm(forms.Form):
    """Which zones the page lists."""

    SHOW_CHOICES = [
        ("changed", _("zones whose grade or recommendation changes")),
        ("grade", _("zones whose grade changes")),
        ("recommendation", _("zones whose recommendation changes")),
        ("all", _("every zone")),
    ]
    show = forms.ChoiceField(label=_("Show"), choices=SHOW_CHOICES, required=False)
    search = forms.CharField(label=_("Zone"), required=False, max_length=100)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def filter(self, rows: list) -> list:
        show = self.cleaned_data.get("show") or "changed"
        search = (self.cleaned_data.get("search") or "").strip().casefold()
        if show == "changed":
            rows = [r for r in rows if r.changed]
        elif show == "grade":
            rows = [r for r in rows if r.grade_changed]
        elif show == "recommendation":
            rows = [r for r in rows if r.recommendation_changed]
        if search:
            rows = [
                r
                for r in rows
                if search in r.zone.name_en.casefold() or search in r.zone.name_zh.casefold()
            ]
        return rows
