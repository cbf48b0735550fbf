"""Pages that give an overview of a cycle: its progress per reviewer and per province, and its
methodology, how zones are graded and removed.

The progress is for Administrators and Approvers; the methodology is public exactly where the
rankings are, through the rankings' own access rule.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from evaluations.dashboard import follows_progress
from evaluations.models import Cycle, EvaluationStatus, ExitRule, Grade
from evaluations.ranking_views import latest_readable_cycle, with_readable_cycle
from evaluations.selectors import cycle_framework, cycle_progress_tables, years_without_ranks


@login_required
def cycle_progress(request: HttpRequest, year: int) -> HttpResponse:
    """The cycle's evaluations counted per reviewer and per province, by status."""
    # The role is checked before the cycle is looked up, so that nobody else learns which
    # cycles exist.
    if not follows_progress(request.user):
        raise PermissionDenied(_("Only Approvers and Administrators follow the progress."))
    cycle = get_object_or_404(Cycle, year=year)
    tables = cycle_progress_tables(cycle, not_assigned_name=_("Not assigned"))
    return render(
        request,
        "evaluations/progress.html",
        {
            "cycle": cycle,
            "tables": tables,
            "status_labels": [label for _status, label in EvaluationStatus.choices],
        },
    )


def latest_methodology(request: HttpRequest) -> HttpResponse:
    """The methodology of the latest cycle whose rankings the reader may read."""
    return latest_readable_cycle(request, "evaluations:cycle_methodology")


# The rankings' own rule (sign-in first, then 404, then 403), so that the methodology is
# readable exactly where the rankings are.
@with_readable_cycle
def cycle_methodology(request: HttpRequest, cycle: Cycle) -> HttpResponse:
    """How the cycle's zones are scored, ranked, graded and removed, from the cycle's own
    framework and policy."""
    return render(
        request,
        "evaluations/methodology.html",
        {
            "cycle": cycle,
            "framework": cycle_framework(cycle),
            "grade_labels": [str(label) for _grade, label in Grade.choices],
            "failing_grade_label": Grade.label_of(cycle.failing_grade),
            "years_without_ranks": (
                years_without_ranks(cycle) if cycle.exit_rule != ExitRule.GRADE_RUN else []
            ),
        },
    )
