"""The decisions page of a cycle: the exit rule's recommendations and what Approvers decided.

Approvers and Administrators read it, a page of the table at a time; only Approvers record
decisions, one in its row or several with one outcome and rationale, each through
``evaluations.services.decision_record``, which holds the rules (a published cycle, a
rationale, one decision per recommendation) and the effect on the zone's status. An exit is
applied only after a confirmation page has said what it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evaluations.forms import DecisionFilterForm, DecisionForm, DecisionsForm
from evaluations.models import Cycle, Decision, Evaluation, Grade
from evaluations.selectors import (
    cycle_decision_cases,
    cycle_decision_counts,
    evaluations_withdrawn_on_exit,
    recent_published_cycles,
    zone_grades,
)
from evaluations.services import can_decide, decision_record, decisions_record_many
from zonetracker.punctuation import sentences

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


@dataclass(frozen=True)
class ExitCase:
    """A zone an exit is about to concern, and the open evaluations the exit withdraws."""

    decision: Decision
    withdrawn: list[Evaluation]


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
    """Record an Approver's decision on one recommendation, then back to the page (PRG).

    An exit is first shown its confirmation page; it is applied only when that page's POST
    comes back with the confirmation.
    """
    cycle = _get_cycle_for_user(request, year)
    decision = get_object_or_404(Decision.objects.with_related(), pk=pk, cycle=cycle)
    # Checked before the form is read, so that an Administrator learns this first.
    if not request.user.has_perm("evaluations.decide", decision):
        raise PermissionDenied(_("Only Approvers may record decisions."))
    form = DecisionForm(request.POST, decision=decision)
    if not form.is_valid():
        return _render_decisions(request, cycle, bound_form=form)
    if form.needs_exit_confirmation:
        return _render_exit_confirmation(request, cycle, [decision], form)
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
        messages.error(request, sentences(error.messages))
        return _render_decisions(request, cycle, status=400)
    messages.success(request, _recorded_message(decision))
    return redirect(f"{_page_url(request, cycle)}#decision-{decision.pk}")


@login_required
@require_POST
def decisions_record_many_view(request: HttpRequest, year: int) -> HttpResponse:
    """Record one outcome with one rationale on the selected recommendations, each its own
    decision; those refused are listed with the reason. An exit is confirmed first.
    """
    cycle = _get_cycle_for_user(request, year)
    if not request.user.has_perm("evaluations.decide"):
        raise PermissionDenied(_("Only Approvers may record decisions."))
    form = DecisionsForm(request.POST, cycle=cycle)
    if not form.is_valid():
        return _render_decisions(request, cycle, bulk_form=form)
    decisions = sorted(form.cleaned_data["decisions"], key=lambda d: (d.zone.name, d.pk))
    if form.needs_exit_confirmation:
        return _render_exit_confirmation(request, cycle, decisions, form)
    try:
        result = decisions_record_many(
            decisions=decisions,
            outcome=form.cleaned_data["outcome"],
            rationale=form.cleaned_data["rationale"],
            by=request.user,
        )
    except ValidationError as error:
        form.add_service_errors(error)
        return _render_decisions(request, cycle, bulk_form=form)
    for decision in result.recorded:
        messages.success(request, _recorded_message(decision))
    for refused in result.refused:
        messages.error(
            request,
            _("%(zone)s: not recorded. %(reason)s")
            % {"zone": refused.decision.zone.name, "reason": refused.reason},
        )
    return redirect(_page_url(request, cycle))


# --- reading -----------------------------------------------------------------------------


def _recorded_message(decision: Decision) -> str:
    return _("%(zone)s: “%(outcome)s” is recorded. The zone is now %(status)s.") % {
        "zone": decision.zone.name,
        "outcome": decision.get_outcome_display(),
        "status": decision.zone.get_status_display(),
    }


def _page_url(request: HttpRequest, cycle: Cycle) -> str:
    """The decisions page with the filters and page the request came from (and no others)."""
    url = reverse("evaluations:cycle_decisions", kwargs={"year": cycle.year})
    query = _filter_query(request)
    return f"{url}?{query}" if query else url


def _filter_query(request: HttpRequest, *, with_page: bool = True) -> str:
    kept = QueryDict(mutable=True)
    for name in (*FILTER_PARAMETERS, *(["page"] if with_page else [])):
        if request.GET.get(name):
            kept[name] = request.GET[name]
    return kept.urlencode()


FILTER_PARAMETERS = ("state", "recommendation", "per_page")


def _render_decisions(
    request: HttpRequest,
    cycle: Cycle,
    *,
    bound_form: DecisionForm | None = None,
    bulk_form: DecisionsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    filters = DecisionFilterForm(request.GET)
    context = {
        "cycle": cycle,
        "filterset": {"form": filters},  # the shape includes/filter_form.html reads
        "may_decide": request.user.has_perm("evaluations.decide"),
        "query": _filter_query(request),
        "filter_query": _filter_query(request, with_page=False),
    }
    if cycle.is_published:
        counts = cycle_decision_counts(cycle)
        cases = cycle_decision_cases(
            cycle, state=filters.value("state"), recommendation=filters.value("recommendation")
        )
        page = Paginator(cases, filters.value("per_page")).get_page(request.GET.get("page"))
        context.update(
            counts=counts,
            page=page,
            rows=decision_rows(cycle, list(page), request.user, bound_form=bound_form),
            bulk_form=bulk_form or DecisionsForm(cycle=cycle),
            bulk_selected={
                str(pk) for pk in (bulk_form.data.getlist("decisions") if bulk_form else [])
            },
        )
    return render(request, "evaluations/decisions.html", context, status=status)


def decision_rows(
    cycle: Cycle,
    decisions: list[Decision],
    user: AbstractBaseUser,
    *,
    bound_form: DecisionForm | None = None,
) -> list[DecisionRow]:
    """The rows of these recommendations with the zones' latest grades and a form for each
    that ``user`` may decide, in two queries.
    """
    if not decisions:
        return []
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


def _render_exit_confirmation(
    request: HttpRequest,
    cycle: Cycle,
    decisions: list[Decision],
    form: DecisionForm | DecisionsForm,
) -> HttpResponse:
    """Say what the exit does to each zone, and ask for the confirmation; nothing changes."""
    withdrawn: dict[int, list[Evaluation]] = {}
    for evaluation in evaluations_withdrawn_on_exit(cycle, (d.zone_id for d in decisions)):
        withdrawn.setdefault(evaluation.zone_id, []).append(evaluation)
    return render(
        request,
        "evaluations/decision_exit_confirm.html",
        {
            "cycle": cycle,
            "cases": [ExitCase(d, withdrawn.get(d.zone_id, [])) for d in decisions],
            "rationale": form.cleaned_data["rationale"],
            "bulk": isinstance(form, DecisionsForm),
            "action": request.get_full_path(),
            "back": _page_url(request, cycle),
            "exit_on": timezone.localdate(),
        },
    )
