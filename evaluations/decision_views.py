"""The decisions page of a cycle: the exit rule's recommendations and what Approvers decided.

Approvers and Administrators read it; only Approvers record decisions, each through
``evaluations.services.decision_record``, which holds the rules (a published cycle, a
rationale, one decision per recommendation) and the effect on the zone's status.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evaluations.forms import DecisionForm
from evaluations.models import Cycle, Decision, Grade
from evaluations.selectors import cycle_recommendations, recent_published_cycles, zone_grades
from evaluations.services import can_decide, decision_record

# The grades shown beside a recommendation: at least this many published cycles, and always
# as many as the exit rule looks back on.
RECENT_CYCLES = 3


@dataclass(frozen=True)
class GradeInCycle:
    """A zone's grade in one published cycle; None where it was not graded."""

    year: int
    grade: int | None

    @property
    def label(self) -> str:
        return Grade.label_of(self.grade)


@dataclass(frozen=True)
class DecisionRow:
    """One recommendation with the zone's recent grades, and a form for whoever may decide."""

    decision: Decision
    grades: list[GradeInCycle]
    form: DecisionForm | None


# --- access ------------------------------------------------------------------------------


def reads_decisions(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Approvers decide; Administrators follow what was decided."""
    return user.has_perm("evaluations.follow_decisions")


def _get_cycle_for_user(request: HttpRequest, year: int) -> Cycle:
    # The role is checked before the cycle is looked up, so that nobody else learns which
    # cycles exist.
    if not reads_decisions(request.user):
        raise PermissionDenied(_("Only Approvers and Administrators read the decisions."))
    return get_object_or_404(Cycle, year=year)


# --- views -------------------------------------------------------------------------------


@login_required
def cycle_decisions(request: HttpRequest, year: int) -> HttpResponse:
    cycle = _get_cycle_for_user(request, year)
    return _render_decisions(request, cycle)


@login_required
@require_POST
def decision_record_view(request: HttpRequest, year: int, pk: int) -> HttpResponse:
    """Record an Approver's decision on one recommendation, then back to the page (PRG)."""
    cycle = _get_cycle_for_user(request, year)
    decision = get_object_or_404(Decision.objects.with_related(), pk=pk, cycle=cycle)
    # Checked before the form is read, so that an Administrator learns this first.
    if not request.user.has_perm("evaluations.decide", decision):
        raise PermissionDenied(_("Only Approvers may record decisions."))
    form = DecisionForm(request.POST, decision=decision)
    if not form.is_valid():
        return _render_decisions(request, cycle, bound_form=form)
    try:
        decision = decision_record(
            decision=decision,
            outcome=form.cleaned_data["outcome"],
            rationale=form.cleaned_data["rationale"],
            by=request.user,
        )
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            form.add_service_errors(error)
            return _render_decisions(request, cycle, bound_form=form)
        # The state does not allow it (not published, decided meanwhile, zone exited):
        # nothing was changed, and the page shows how things stand now.
        messages.error(request, " ".join(error.messages))
        return _render_decisions(request, cycle, status=400)
    messages.success(
        request,
        _("%(zone)s: “%(outcome)s” is recorded. The zone is now %(status)s.")
        % {
            "zone": decision.zone.name,
            "outcome": decision.get_outcome_display(),
            "status": decision.zone.get_status_display(),
        },
    )
    url = reverse("evaluations:cycle_decisions", kwargs={"year": cycle.year})
    return redirect(f"{url}#decision-{decision.pk}")


# --- reading -----------------------------------------------------------------------------


def _render_decisions(
    request: HttpRequest,
    cycle: Cycle,
    *,
    bound_form: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = decision_rows(cycle, request.user, bound_form=bound_form) if cycle.is_published else []
    pending = [row for row in rows if not row.decision.is_decided]
    return render(
        request,
        "evaluations/decisions.html",
        {
            "cycle": cycle,
            "pending": pending,
            "decided": [row for row in rows if row.decision.is_decided],
            "may_decide": request.user.has_perm("evaluations.decide"),
        },
        status=status,
    )


def decision_rows(
    cycle: Cycle, user: AbstractBaseUser, *, bound_form: DecisionForm | None = None
) -> list[DecisionRow]:
    """The cycle's recommendations by zone name, with grades and forms, in three queries."""
    decisions = cycle_recommendations(cycle)
    if not decisions:
        return []
    # At least RECENT_CYCLES, and always as many as the exit rule looks back on.
    recent = recent_published_cycles(cycle, count=max(RECENT_CYCLES, cycle.exit_after))
    grades = zone_grades((cycle_id for cycle_id, _year in recent), (d.zone_id for d in decisions))
    rows = []
    for decision in decisions:
        form = None
        if can_decide(user, decision):
            if bound_form is not None and bound_form.decision.pk == decision.pk:
                form = bound_form
            else:
                form = DecisionForm(decision=decision)
        rows.append(
            DecisionRow(
                decision=decision,
                grades=[
                    GradeInCycle(year, grades.get((cycle_id, decision.zone_id)))
                    for cycle_id, year in recent
                ],
                form=form,
            )
        )
    return rows
