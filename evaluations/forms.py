"""Forms of the evaluation pages: score entry, an approver's approve and return, decisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from evaluations.models import (
    Cycle,
    Decision,
    Dimension,
    Indicator,
    Outcome,
    Recommendation,
    Score,
)
from evaluations.selectors import AWAITING, DECIDED
from evaluations.services import ScoreInput, scores_problems
from evaluations.values import (
    VALUE_DECIMAL_PLACES,
    VALUE_QUANTUM,
    validate_value_fits,
    value_from_text,
)

NOTE_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 2000
# The decisions table's page sizes; the first is the default.
DECISIONS_PER_PAGE = (25, 50, 100)


class ValueField(forms.DecimalField):
    """A score's value, or an indicator's bound, read and checked by ``evaluations.values``.

    The same reading as ``import_scores`` (full-width digits allowed, no commas) and the same
    message as every other path for a value the column cannot hold.
    """

    default_error_messages = {"invalid": _("Enter a number, such as 7 or 12.5.")}

    def __init__(self, **kwargs) -> None:
        # What fits is value_problem's rule, not Django's digit counts (which would also
        # refuse 7.50000, and say it in other words).
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        super().__init__(**kwargs)
        self.validators.append(validate_value_fits)

    def to_python(self, value: object) -> Decimal | None:
        if value in self.empty_values:
            return None
        try:
            return value_from_text(value)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def clean(self, value: object) -> Decimal | None:
        value = super().clean(value)
        if value is None or value.as_tuple().exponent >= -VALUE_DECIMAL_PLACES:
            return value
        # 7.50000 fits, being 7.5: given as the column keeps it, so a model's own digit
        # check (the admin's) agrees.
        return value.quantize(VALUE_QUANTUM)


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator of the entry form: its value and note fields (or saved score)."""

    indicator: Indicator
    score: Score | None
    value: forms.BoundField | None
    note: forms.BoundField | None


@dataclass(frozen=True)
class FieldProblem:
    """A field of the entry form that needs attention, for the summary at the top of the page."""

    anchor: str  # the id of the field's input, which the summary links to
    label: str
    messages: list[str]


@dataclass(frozen=True)
class DimensionGroup:
    """The indicators of one dimension, in the framework's order."""

    dimension: str
    label: str
    rows: list[IndicatorRow]


def value_field_name(indicator: Indicator) -> str:
    return f"value_{indicator.pk}"


def note_field_name(indicator: Indicator) -> str:
    return f"note_{indicator.pk}"


class EvaluationEntryForm(forms.Form):
    """A value and a note for each of the cycle's indicators, and the version they were read at.

    The form reads numbers only; whether a number is within an indicator's range is the
    service's rule (``Indicator.validate_value`` through ``evaluation_save``).
    """

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    # Whether the draft was saved though the form shows problems (a submission refused for
    # missing values): the summary at the top says which.
    saved_draft = False

    def __init__(
        self,
        data: Mapping[str, str] | None = None,
        *,
        indicators: Iterable[Indicator],
        scores: Mapping[int, Score],
        version: int,
    ) -> None:
        self.indicators = list(indicators)
        initial: dict[str, object] = {"version": version}
        for indicator in self.indicators:
            score = scores.get(indicator.pk)
            if score is not None:
                initial[value_field_name(indicator)] = plain_number(score.value)
                initial[note_field_name(indicator)] = score.note
        super().__init__(data, initial=initial)
        self.scores = scores
        for indicator in self.indicators:
            self.fields[value_field_name(indicator)] = ValueField(
                label=_("Value"),
                required=False,
                # A text box keeps whatever was typed, even when it is not a number, so the
                # message can be read next to it; a number box would blank it.
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "decimal",
                        "autocomplete": "off",
                        "aria-describedby": f"indicator-{indicator.pk}-about",
                        "class": "score-input",
                    }
                ),
            )
            self.fields[note_field_name(indicator)] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=NOTE_MAX_LENGTH,
                widget=forms.TextInput(attrs={"class": "note-input"}),
            )

    def score_inputs(self) -> dict[int, ScoreInput]:
        """What was typed for each indicator, keyed by indicator id, for ``evaluation_save``."""
        return {
            indicator.pk: ScoreInput(
                self.cleaned_data[value_field_name(indicator)],
                self.cleaned_data[note_field_name(indicator)],
            )
            for indicator in self.indicators
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Place the service's messages, keyed by indicator code, next to their indicators."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        by_code = {indicator.code: indicator for indicator in self.indicators}
        for code, messages in error.message_dict.items():
            indicator = by_code.get(code)
            self.add_error(value_field_name(indicator) if indicator else None, messages)

    def check_ranges(self) -> None:
        """Add the service's range messages for the values that read as numbers.

        Called when some value cannot be read at all (nothing is saved then, and the service
        is not asked): the page still names every problem at once, not one round at a time.
        """
        by_pk = {indicator.pk: indicator for indicator in self.indicators}
        readable = {
            indicator.pk: ScoreInput(self.cleaned_data[value_field_name(indicator)])
            for indicator in self.indicators
            if self.cleaned_data.get(value_field_name(indicator)) is not None
        }
        problems = scores_problems(by_pk, readable)
        if problems:
            self.add_service_errors(ValidationError(problems))

    def problems(self) -> list[FieldProblem]:
        """Every value or note with an error, in the form's order, with its messages."""
        found = []
        for indicator in self.indicators:
            for name, label in [
                (value_field_name(indicator), f"{indicator.code} {indicator.name}"),
                (
                    note_field_name(indicator),
                    _("Note on %(code)s") % {"code": indicator.code},
                ),
            ]:
                if name in self.errors:
                    found.append(
                        FieldProblem(
                            anchor=self[name].id_for_label,
                            label=label,
                            messages=list(self.errors[name]),
                        )
                    )
        return found

    def mark_missing(self, indicators: Iterable[Indicator]) -> None:
        self.saved_draft = True
        for indicator in indicators:
            self.add_error(value_field_name(indicator), _("Enter a value before submitting."))

    def groups(self) -> list[DimensionGroup]:
        return group_by_dimension(
            IndicatorRow(
                indicator=indicator,
                score=self.scores.get(indicator.pk),
                value=self[value_field_name(indicator)],
                note=self[note_field_name(indicator)],
            )
            for indicator in self.indicators
        )


def read_only_groups(
    indicators: Iterable[Indicator], scores: Mapping[int, Score]
) -> list[DimensionGroup]:
    """The saved scores grouped as the entry form groups them, for those who may not edit."""
    return group_by_dimension(
        IndicatorRow(indicator=indicator, score=scores.get(indicator.pk), value=None, note=None)
        for indicator in indicators
    )


def group_by_dimension(rows: Iterable[IndicatorRow]) -> list[DimensionGroup]:
    """Rows grouped by dimension in the declared order of ``Dimension``; empty ones left out."""
    by_dimension: dict[str, list[IndicatorRow]] = {}
    for row in rows:
        by_dimension.setdefault(row.indicator.dimension, []).append(row)
    return [
        DimensionGroup(dimension=value, label=label, rows=by_dimension[value])
        for value, label in Dimension.choices
        if value in by_dimension
    ]


class VersionForm(forms.Form):
    """The version of the evaluation that an approver read before approving."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ReturnForm(VersionForm):
    reason = forms.CharField(
        label=_("Reason for return"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the evaluation is returned.")},
    )


def plain_number(value: object) -> str | None:
    """A stored Decimal without the trailing zeros of its four decimal places (7.5000 -> 7.5)."""
    if value is None or value == "":
        return None
    if not isinstance(value, Decimal):
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


RATIONALE_MAX_LENGTH = 4000
# No outcome is chosen for the approver: the rule's recommendation is shown beside the choice,
# and the decision is what the approver picks, never what was left selected.
OUTCOME_CHOICES = [("", _("Choose…")), *Outcome.choices]
OUTCOME_REQUIRED = _("Choose retain, warn, rectify or exit.")
RATIONALE_REQUIRED = _("Write the rationale of the decision.")


class OutcomeChoiceMixin(forms.Form):
    """An outcome and a rationale, with an exit's confirmation, shared by the decision forms.

    ``confirm_exit`` is set only by the confirmation page, after it said what an exit does;
    an exit without it is shown that page and changes nothing.
    """

    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=OUTCOME_CHOICES,
        error_messages={"required": OUTCOME_REQUIRED},
    )
    rationale = forms.CharField(
        label=_("Rationale"),
        max_length=RATIONALE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 1}),
        error_messages={"required": RATIONALE_REQUIRED},
    )
    confirm_exit = forms.BooleanField(required=False, widget=forms.HiddenInput)

    @property
    def needs_exit_confirmation(self) -> bool:
        """An exit chosen and not yet confirmed (the form must be valid)."""
        return (
            self.cleaned_data["outcome"] == Outcome.EXIT and not self.cleaned_data["confirm_exit"]
        )

    def add_service_errors(self, error: ValidationError) -> None:
        """Place the service's messages next to the field they are about."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class DecisionForm(OutcomeChoiceMixin):
    """An approver's decision on one recommendation, in its row of the decisions table.

    Whether the decision may be taken at all (an Approver, a published cycle, not decided
    yet) is the service's rule, ``decision_record``.
    """

    def __init__(self, *args, decision: Decision, **kwargs) -> None:
        # Each recommendation on the page has its own form: ids must not collide.
        kwargs.setdefault("auto_id", f"decision-{decision.pk}-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.decision = decision


class DecisionsForm(OutcomeChoiceMixin):
    """The same outcome and rationale for several of a cycle's recommendations."""

    decisions = forms.ModelMultipleChoiceField(
        label=pgettext_lazy("decisions filter", "Cases"),
        queryset=Decision.objects.none(),
        error_messages={
            "required": _("Select at least one case in the table."),
            "invalid_choice": _("%(value)s is not a recommendation of this cycle."),
            "invalid_pk_value": _("%(pk)s is not a recommendation of this cycle."),
        },
    )

    def __init__(self, *args, cycle: Cycle, **kwargs) -> None:
        kwargs.setdefault("auto_id", "bulk-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["decisions"].queryset = Decision.objects.for_cycle(cycle).with_related()
        self.fields["rationale"].widget.attrs["rows"] = 2


class DecisionFilterForm(forms.Form):
    """The decisions table's filters and page size; a value it does not know is ignored."""

    state = forms.ChoiceField(
        label=pgettext_lazy("decisions filter", "Cases"),
        required=False,
        choices=[
            ("", pgettext_lazy("decisions filter", "all")),
            (AWAITING, _("awaiting a decision")),
            (DECIDED, pgettext_lazy("decisions filter", "decided")),
        ],
    )
    recommendation = forms.ChoiceField(
        label=_("Recommendation"),
        required=False,
        choices=[("", pgettext_lazy("decisions filter", "any")), *Recommendation.choices],
    )
    per_page = forms.TypedChoiceField(
        label=_("Rows per page"),
        required=False,
        coerce=int,
        empty_value=DECISIONS_PER_PAGE[0],
        choices=[(size, str(size)) for size in DECISIONS_PER_PAGE],
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "filter-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def value(self, name: str) -> str | int:
        """The field's value if valid, else its default (the form is always bound to GET)."""
        self.is_valid()  # keeps the valid fields in cleaned_data, drops the others
        return self.cleaned_data.get(name, self.fields[name].clean(""))
