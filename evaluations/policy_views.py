"""The what-if page: another policy tried on a cycle, and saved as its policy while open.

Approvers and Administrators try (``evaluations.try_policy``): trying is a GET and writes
nothing. Saving is a POST that ``cycle_policy_change`` checks again (Administrators, a cycle
not published).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evaluations.models import Cycle
from evaluations.policy import what_if, what_if_dataset
from evaluations.policy_forms import PolicyTrialForm, WhatIfFilterForm
from evaluations.services import cycle_policy_change
from zonetracker.tables import CONTENT_TYPES, table_bytes

EXPORTS = ("csv", "xlsx")


def _cycle_for_trial(request: HttpRequest, year: int) -> Cycle:
    # The role first, so that nobody else learns which cycles exist.
    if not request.user.has_perm("evaluations.try_policy"):
        raise PermissionDenied(_("Only Approvers and Administrators try other policies."))
    return get_object_or_404(Cycle, year=year)


@login_required
def cycle_what_if(request: HttpRequest, year: int) -> HttpResponse:
    """The grades and recommendations of the cycle under its policy and under the trial in
    the query string; ``?format=csv`` or ``xlsx`` downloads the zones shown."""
    cycle = _cycle_for_trial(request, year)
    export_format = request.GET.get("format", "")
    if export_format and export_format not in EXPORTS:
        raise BadRequest("Unknown export format.")
    indicators = list(cycle.indicators.in_order())
    # Bound even without a trial: the fields left out keep the cycle's values.
    form = PolicyTrialForm(request.GET, cycle=cycle, indicators=indicators)
    filter_form = WhatIfFilterForm(request.GET)
    filter_form.is_valid()
    result = what_if(cycle=cycle, trial=form.trial()) if form.is_valid() else None
    rows = filter_form.filter(result.rows) if result else []
    if export_format:
        dataset = what_if_dataset(rows)
        dataset.title = str(cycle.year)
        response = HttpResponse(
            table_bytes(dataset, export_format), content_type=CONTENT_TYPES[export_format]
        )
        response["Content-Disposition"] = (
            f'attachment; filename="zonetracker-what-if-{cycle.year}.{export_format}"'
        )
        return response
    return render(
        request,
        "evaluations/what_if.html",
        {
            "cycle": cycle,
            "form": form,
            "filter_form": filter_form,
            "result": result,
            "rows": rows,
            "may_save": (
                not cycle.is_frozen
                and request.user.has_perm("evaluations.change_cycle")
                and result is not None
                and not form.is_the_cycles()
            ),
        },
    )


@login_required
@require_POST
def cycle_what_if_save(request: HttpRequest, year: int) -> HttpResponse:
    """Save the trial as the cycle's policy (and weights); refused on a published cycle."""
    cycle = _cycle_for_trial(request, year)
    form = PolicyTrialForm(request.POST, cycle=cycle, indicators=list(cycle.indicators.in_order()))
    url = reverse("evaluations:cycle_what_if", kwargs={"year": cycle.year})
    if not form.is_valid():
        messages.error(request, _("The policy was not saved: correct the trial first."))
        return redirect(url)
    try:
        cycle_policy_change(
            cycle=cycle, by=request.user, policy=form.policy_changes(), weights=form.weights()
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(url)
    messages.success(
        request,
        _("The trial is now the policy of the evaluation of %(year)s.") % {"year": cycle.year},
    )
    return redirect(url)
