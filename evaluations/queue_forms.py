"""The form of the work queue's bulk actions: which evaluations, and what to do with them."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from evaluations.forms import REASON_MAX_LENGTH
from zonetracker import permissions

# More than the largest page: a bulk action takes the rows of one page, and no more than this.
MOST_AT_ONCE = 500


class EvaluationIdsField(forms.Field):
    """The ids of the checked evaluations (the ``evaluation`` checkboxes), as integers."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one evaluation."),
        "invalid": _("The selection could not be read; select the evaluations again."),
        "too_many": _("Select at most %(limit)s evaluations at once."),
    }

    def to_python(self, value: object) -> list[int]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        try:
            ids = sorted({int(item) for item in value})
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if len(ids) > MOST_AT_ONCE:
            raise ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": MOST_AT_ONCE}
            )
        return ids


class BulkActionForm(forms.Form):
    """Approve, return (with one reason) or assign (to one reviewer) the checked evaluations.

    Who may do which is the services' to check; this form only reads what was asked.
    """

    APPROVE = "approve"
    RETURN = "return"
    ASSIGN = "assign"

    action = forms.ChoiceField(
        choices=[(APPROVE, _("Approve")), (RETURN, _("Return")), (ASSIGN, _("Assign"))],
        error_messages={"required": _("Choose what to do with the selected evaluations.")},
    )
    evaluation = EvaluationIdsField()
    reason = forms.CharField(
        label=_("Reason for return"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reviewer = forms.ModelChoiceField(
        label=_("Reviewer"),
        queryset=permissions.reviewers(),
        required=False,
        empty_label=_("Choose a reviewer"),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        action = cleaned.get("action")
        if action == self.RETURN and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Say why the evaluations are returned."))
        if action == self.ASSIGN and cleaned.get("reviewer") is None:
            self.add_error("reviewer", _("Choose the reviewer to assign the evaluations to."))
        return cleaned
