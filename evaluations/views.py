"""Pages of the evaluations: a cycle's work queue, and one evaluation's entry and approval.

Every write goes through ``evaluations.services``, which holds the rules and the permission
checks; these views parse the request, check who may read the page, call a service and render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from evaluations.access import (
    can_read,
    offers_return,
    works_on_evaluations,
)
from evaluations.filters import EvaluationFilter
from evaluations.forms import (
    EvaluationEntryForm,
    ReturnForm,
    VersionForm,
    read_only_groups,
)
from evaluations.models import Cycle, Evaluation, EvaluationStatus, Indicator, Score
from evaluations.selectors import (
    evaluation_indicators_and_scores,
    evaluation_score_history,
    evaluation_status_changes,
)
from evaluations.services import (
    EditConflict,
    can_approve,
    can_edit,
    evaluation_approve,
    evaluation_return,
    evaluation_save,
    evaluation_submit,
    missing_indicators,
)
from registry.models import in_active_language
from zonetracker.permissions import entered_or_edited

EVALUATIONS_PER_PAGE = 50

# The entry page lists at most this many score changes, newest first; the admin keeps them all.
SCORE_HISTORY_LIMIT = 200


# --- access ------------------------------------------------------------------------------


def _get_evaluation_for_user(request: HttpRequest, pk: int) -> Evaluation:
    evaluation = get_object_or_404(Evaluation.objects.with_related(), pk=pk)
    if not can_read(request.user, evaluation):
        raise PermissionDenied(_("You may not read this evaluation."))
    return evaluation


# --- the work queue ----------------------------------------------------------------------


@login_required
def current_cycle_evaluations(request: HttpRequest) -> HttpResponse:
    """The work queue of the current cycle, which is where the navigation leads."""
    if not works_on_evaluations(request.user):
        raise PermissionDenied
    cycle = Cycle.objects.current()
    if cycle is None:
        messages.info(request, _("No evaluation cycle has been opened yet."))
        return redirect("home")
    return redirect("evaluations:cycle_evaluations", year=cycle.year)


@login_required
def cycle_evaluations(request: HttpRequest, year: int) -> HttpResponse:
    if not works_on_evaluations(request.user):
        raise PermissionDenied
    cycle = get_object_or_404(Cycle, year=year)
    in_cycle = Evaluation.objects.for_cycle(cycle)
    filterset = EvaluationFilter(
        request.GET,
        queryset=in_cycle.with_related()
        .with_last_change()
        .order_by(in_active_language("zone__name_zh", "zone__name_en")),
        request=request,
    )
    # As on the register: a filter that cannot be read matches nothing rather than everything.
    evaluations = filterset.qs if filterset.is_valid() else Evaluation.objects.none()
    page = Paginator(evaluations, EVALUATIONS_PER_PAGE).get_page(request.GET.get("page"))
    counts = in_cycle.status_counts()
    return render(
        request,
        "evaluations/cycle_evaluations.html",
        {
            "cycle": cycle,
            "filterset": filterset,
            "page_obj": page,
            "status_counts": [
                (status, label, counts[status]) for status, label in EvaluationStatus.choices
            ],
            "evaluation_total": sum(counts.values()),
        },
    )


# --- one evaluation ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def evaluation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The entry form; a POST saves it as a draft."""
    evaluation = _get_evaluation_for_user(request, pk)
    if request.method == "POST":
        return _save_entry(request, evaluation, submit=False)
    return _render_evaluation(request, evaluation)


@login_required
@require_POST
def evaluation_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Save what was typed, then hand the evaluation to the approvers."""
    evaluation = _get_evaluation_for_user(request, pk)
    return _save_entry(request, evaluation, submit=True)


@login_required
@require_POST
def evaluation_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = _get_evaluation_for_user(request, pk)
    form = VersionForm(request.POST)
    if not form.is_valid():
        raise BadRequest("The version of the evaluation is missing.")
    try:
        evaluation_approve(
            evaluation=evaluation, by=request.user, version=form.cleaned_data["version"]
        )
    except EditConflict:
        messages.error(request, _changed_meanwhile_message(_("Nothing was approved.")))
        return redirect(evaluation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(evaluation)
    messages.success(request, _("The evaluation is approved."))
    return redirect(evaluation)


@login_required
@require_POST
def evaluation_return_view(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = _get_evaluation_for_user(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        if "version" in form.errors:
            raise BadRequest("The version of the evaluation is missing.")
        return _render_evaluation(request, evaluation, return_form=form)
    try:
        evaluation_return(
            evaluation=evaluation,
            by=request.user,
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
        )
    except EditConflict:
        messages.error(request, _changed_meanwhile_message(_("Nothing was returned.")))
        return redirect(evaluation)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            form.add_error(None, error)
            return _render_evaluation(request, evaluation, return_form=form)
        messages.error(request, " ".join(error.messages))
        return redirect(evaluation)
    messages.success(
        request,
        _("The evaluation is returned to %(reviewer)s.")
        % {"reviewer": _name(evaluation.reviewer) or _("its reviewer")},
    )
    return redirect(evaluation)


def _save_entry(request: HttpRequest, evaluation: Evaluation, *, submit: bool) -> HttpResponse:
    # Checked before the form is read, so that someone who may not edit learns that first.
    if not can_edit(request.user, evaluation):
        raise PermissionDenied(_("You may not edit this evaluation."))
    indicators, scores = evaluation_indicators_and_scores(evaluation)
    form = EvaluationEntryForm(
        request.POST, indicators=indicators, scores=scores, version=evaluation.version
    )
    if not form.is_valid():
        # Nothing is saved until every value is valid; the page names every problem at once.
        form.check_ranges()
        return _render_evaluation(request, evaluation, form=form)
    try:
        evaluation_save(
            evaluation=evaluation,
            by=request.user,
            scores=form.score_inputs(),
            version=form.cleaned_data["version"],
        )
    except EditConflict as conflict:
        return _render_conflict(request, conflict)
    except ValidationError as error:
        # Nothing was saved; each message goes next to the value it is about.
        form.add_service_errors(error)
        return _render_evaluation(request, evaluation, form=form)
    if submit:
        try:
            evaluation_submit(evaluation=evaluation, by=request.user, version=evaluation.version)
        except EditConflict as conflict:
            return _render_conflict(request, conflict)
        except ValidationError as error:
            # The values are saved, but the evaluation is not complete enough to submit.
            return _render_incomplete(request, evaluation, error)
    if submit:
        messages.success(request, _("The evaluation is submitted for approval."))
    else:
        messages.success(request, _("The draft is saved."))
    return redirect(evaluation)


def _typed_form(request: HttpRequest, evaluation: Evaluation):
    """The entry form holding what the user typed, at the evaluation's current version."""
    indicators, scores = evaluation_indicators_and_scores(evaluation)
    data = request.POST.copy()
    data["version"] = str(evaluation.version)
    form = EvaluationEntryForm(
        data, indicators=indicators, scores=scores, version=evaluation.version
    )
    form.is_valid()
    return indicators, scores, form


def _render_conflict(request: HttpRequest, conflict: EditConflict) -> HttpResponse:
    """The form again with what the user typed, what changed meanwhile, and the new version.

    Saving again from here is then a deliberate overwrite of the changes listed.
    """
    evaluation = Evaluation.objects.with_related().get(pk=conflict.evaluation.pk)
    indicators, scores, form = _typed_form(request, evaluation)
    return _render_evaluation(
        request,
        evaluation,
        form=form,
        indicators=indicators,
        scores=scores,
        conflict=conflict,
        status=409,
    )


def _render_incomplete(
    request: HttpRequest, evaluation: Evaluation, error: ValidationError
) -> HttpResponse:
    indicators, scores, form = _typed_form(request, evaluation)
    form.add_error(None, error)
    form.mark_missing(missing_indicators(evaluation))
    messages.warning(request, _("The draft is saved, but it cannot be submitted yet."))
    return _render_evaluation(request, evaluation, form=form, indicators=indicators, scores=scores)


def _changed_meanwhile_message(outcome: str) -> str:
    return " ".join(
        [_("Someone changed this evaluation after you opened it."), outcome, _("Check it again.")]
    )


def _render_evaluation(
    request: HttpRequest,
    evaluation: Evaluation,
    *,
    form: EvaluationEntryForm | None = None,
    return_form: ReturnForm | None = None,
    indicators: list[Indicator] | None = None,
    scores: dict[int, Score] | None = None,
    conflict: EditConflict | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    if indicators is None or scores is None:
        indicators, scores = evaluation_indicators_and_scores(evaluation)
    editable = can_edit(user, evaluation)
    if editable and form is None:
        form = EvaluationEntryForm(indicators=indicators, scores=scores, version=evaluation.version)
    may_approve = can_approve(user, evaluation)
    may_return = offers_return(user, evaluation)
    # An Approver who entered or edited a submitted evaluation is told why they cannot approve.
    own_work = may_return and not may_approve and entered_or_edited(user, evaluation)
    history, history_cut = evaluation_score_history(
        evaluation, indicators, limit=SCORE_HISTORY_LIMIT
    )
    return render(
        request,
        "evaluations/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "cycle": evaluation.cycle,
            "editable": editable,
            "form": form if editable else None,
            "groups": form.groups() if editable else read_only_groups(indicators, scores),
            "may_approve": may_approve,
            "may_return": may_return,
            "own_work": own_work,
            "return_form": return_form or ReturnForm(initial={"version": evaluation.version}),
            "conflict": conflict,
            "score_history": history,
            "score_history_cut": history_cut,
            "score_history_limit": SCORE_HISTORY_LIMIT,
            "status_changes": evaluation_status_changes(evaluation),
        },
        status=status,
    )


def _name(user: AbstractBaseUser | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
