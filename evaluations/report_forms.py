"""Forms of the reporting chain: the zone's figures, the Ministry's accepted values, evidence."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from evaluations.forms import NOTE_MAX_LENGTH, REASON_MAX_LENGTH, ValueField, plain_number
from evaluations.models import Evidence, Indicator, Score
from evaluations.reporting import Accepted
from evaluations.services import ScoreInput


class ReportForm(forms.Form):
    """The zone's figure and note for each indicator, and the reason for each figure that is
    flagged, at the version the page was loaded."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        indicators: list[Indicator],
        scores: dict[int, Score],
        flagged: set[int] = frozenset(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        self.flagged = flagged
        for indicator in indicators:
            score = scores.get(indicator.pk)
            self.fields[f"value_{indicator.pk}"] = ValueField(
                label=indicator.name,
                required=False,
                initial=plain_number(score.reported_value) if score else None,
            )
            self.fields[f"note_{indicator.pk}"] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=NOTE_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=score.note if score else "",
            )
            if indicator.pk in flagged:
                self.fields[f"flag_reason_{indicator.pk}"] = forms.CharField(
                    label=_("Why the flagged figure is right"),
                    required=False,
                    max_length=REASON_MAX_LENGTH,
                    initial=score.flag_reason if score else "",
                )

    def score_inputs(self) -> dict[int, ScoreInput]:
        # A figure that is not flagged keeps the reason it has (None: keep the stored one).
        return {
            i.pk: ScoreInput(
                value=self.cleaned_data[f"value_{i.pk}"],
                note=self.cleaned_data[f"note_{i.pk}"],
                flag_reason=self.cleaned_data.get(f"flag_reason_{i.pk}"),
            )
            for i in self.indicators
        }

    def rows(self) -> list[tuple[Indicator, forms.BoundField, forms.BoundField]]:
        return [(i, self[f"value_{i.pk}"], self[f"note_{i.pk}"]) for i in self.indicators]


class VerifyForm(forms.Form):
    """The value the Ministry accepts for each figure, and why where it differs."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, indicators: list[Indicator], scores: dict[int, Score], **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        for indicator in indicators:
            score = scores.get(indicator.pk)
            self.fields[f"accepted_{indicator.pk}"] = ValueField(
                label=indicator.name,
                required=False,
                initial=plain_number(score.value) if score else None,
            )
            self.fields[f"reason_{indicator.pk}"] = forms.CharField(
                label=_("Reason where the accepted value differs"),
                required=False,
                max_length=REASON_MAX_LENGTH,
                initial=score.verification_reason if score else "",
            )

    def accepted(self) -> dict[int, Accepted]:
        return {
            i.pk: Accepted(
                value=self.cleaned_data[f"accepted_{i.pk}"],
                reason=self.cleaned_data[f"reason_{i.pk}"],
            )
            for i in self.indicators
        }

    def add_problems(self, problems: dict[str, list[str]]) -> None:
        by_code = {i.code: i for i in self.indicators}
        for code, messages in problems.items():
            indicator = by_code.get(code)
            self.add_error(f"accepted_{indicator.pk}" if indicator else None, messages)


class ReportReturnForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason for return"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EvidenceForm(forms.Form):
    indicator = forms.IntegerField(widget=forms.HiddenInput)
    replaces = forms.IntegerField(required=False, widget=forms.HiddenInput)
    file = forms.FileField(label=_("Evidence file"))

    def clean_replaces(self) -> Evidence | None:
        pk = self.cleaned_data.get("replaces")
        return Evidence.objects.filter(pk=pk).first() if pk else None
