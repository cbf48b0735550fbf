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
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from evaluations.access import (
    can_read,
    offers_return,
    works_on_evaluations,
)
from evaluations.filters import EvaluationFilter, QueueOrder
from evaluations.forms import (
    EvaluationEntryForm,
    ReturnForm,
    VersionForm,
    read_only_groups,
)
from evaluations.models import Cycle, Evaluation, EvaluationStatus, Indicator, Score
from evaluations.queue_forms import BulkActionForm
from evaluations.selectors import (
    NextTask,
    evaluation_indicators_and_scores,
    evaluation_score_history,
    evaluation_status_changes,
    next_evaluation_for,
)
from evaluations.services import (
    CHAIN_REPORT_MESSAGE,
    EditConflict,
    can_approve,
    can_edit,
    evaluation_approve,
    evaluation_return,
    evaluation_save,
    evaluation_submit,
    evaluations_approve_many,
    evaluations_assign_many,
    evaluations_return_many,
    missing_indicators,
    submitted_already,
)
from zonetracker.permissions import entered_or_edited
from zonetracker.punctuation import sentences

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


# The queue's columns with their headers, in the order they are shown; those on QueueOrder's
# whitelist are sortable.
QUEUE_COLUMNS = [
    ("zone", gettext_lazy("Zone")),
    ("province", gettext_lazy("Province")),
    ("batch", gettext_lazy("Batch")),
    ("reviewer", gettext_lazy("Reviewer")),
    ("status", gettext_lazy("Status")),
    ("submitted", gettext_lazy("Submitted")),
    ("last_change", gettext_lazy("Last change")),
]


@login_required
def cycle_evaluations(request: HttpRequest, year: int) -> HttpResponse:
    """The cycle's work queue: searched, filtered, sorted and paged from the query string;
    the bulk actions its user may take are offered on the rows of the page."""
    if not works_on_evaluations(request.user):
        raise PermissionDenied
    cycle = get_object_or_404(Cycle, year=year)
    in_cycle = Evaluation.objects.for_cycle(cycle)
    order = QueueOrder.parse(request.GET.get("order"))
    filterset = EvaluationFilter(
        request.GET,
        queryset=in_cycle.with_related().with_last_change(),
        request=request,
    )
    # As on the register: a filter that cannot be read matches nothing rather than everything.
    evaluations = order.apply(filterset.qs) if filterset.is_valid() else Evaluation.objects.none()
    page = Paginator(evaluations, filterset.page_size).get_page(request.GET.get("page"))
    counts = in_cycle.status_counts()
    user = request.user
    bulk = {
        "approve": user.has_perm("evaluations.approve_evaluation"),
        "return": user.has_perm("evaluations.return_evaluation"),
        "assign": user.has_perm("evaluations.assign_evaluation"),
    }
    return render(
        request,
        "evaluations/cycle_evaluations.html",
        {
            "cycle": cycle,
            "filterset": filterset,
            "order": order,
            "columns": order.headers(QUEUE_COLUMNS),
            "page_obj": page,
            "status_counts": [
                (status, label, counts[status]) for status, label in EvaluationStatus.choices
            ],
            "evaluation_total": sum(counts.values()),
            "bulk": bulk if any(bulk.values()) and not cycle.is_published else None,
            "bulk_form": BulkActionForm(),
        },
    )


@login_required
@require_POST
def cycle_evaluations_bulk(request: HttpRequest, year: int) -> HttpResponse:
    """Approve, return or assign the evaluations checked on the queue, each on its own.

    The services check who may (a refusal of the whole action is a 403, and nothing
    changes) and each evaluation's rules; the queue then says what was done and what was
    refused, and why.
    """
    if not works_on_evaluations(request.user):
        raise PermissionDenied
    cycle = get_object_or_404(Cycle, year=year)
    back = _queue_url(cycle, request.POST.get("query", ""))
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    action = form.cleaned_data["action"]
    evaluations = Evaluation.objects.for_cycle(cycle).filter(pk__in=form.cleaned_data["evaluation"])
    try:
        if action == BulkActionForm.APPROVE:
            outcome = evaluations_approve_many(evaluations=evaluations, by=request.user)
            done = ngettext(
                "%(count)d evaluation approved.",
                "%(count)d evaluations approved.",
                len(outcome.done),
            )
            refused = _("Not approved: %(zone)s. %(reason)s")
        elif action == BulkActionForm.RETURN:
            outcome = evaluations_return_many(
                evaluations=evaluations, by=request.user, reason=form.cleaned_data["reason"]
            )
            done = ngettext(
                "%(count)d evaluation returned.",
                "%(count)d evaluations returned.",
                len(outcome.done),
            )
            refused = _("Not returned: %(zone)s. %(reason)s")
        else:
            outcome = evaluations_assign_many(
                evaluations=evaluations, reviewer=form.cleaned_data["reviewer"], by=request.user
            )
            done = ngettext(
                "%(count)d evaluation assigned.",
                "%(count)d evaluations assigned.",
                len(outcome.done),
            )
            refused = _("Not assigned: %(zone)s. %(reason)s")
    except ValidationError as error:
        messages.error(request, sentences(error.messages))
        return redirect(back)
    if outcome.done or not outcome.refused:
        messages.success(request, done % {"count": len(outcome.done)})
    for refusal in outcome.refused:
        messages.error(
            request, refused % {"zone": refusal.evaluation.zone.name, "reason": refusal.reason}
        )
    return redirect(back)


def _queue_url(cycle: Cycle, query: str) -> str:
    """The queue with the filters, order and page the bulk action was taken from."""
    url = reverse("evaluations:cycle_evaluations", kwargs={"year": cycle.year})
    # Re-encoded from its parsed form, so only a query string can come back from the form.
    kept = QueryDict(query).urlencode()
    return f"{url}?{kept}" if kept else url


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
        messages.error(request, sentences(error.messages))
        return redirect(evaluation)
    messages.success(request, _("The evaluation is approved."))
    return _redirect_after(request, evaluation, NextTask.APPROVE)


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
        messages.error(request, sentences(error.messages))
        return redirect(evaluation)
    messages.success(
        request,
        _("The evaluation is returned to %(reviewer)s.")
        % {"reviewer": _name(evaluation.reviewer) or _("its reviewer")},
    )
    return redirect(evaluation)


def _save_entry(request: HttpRequest, evaluation: Evaluation, *, submit: bool) -> HttpResponse:
    if (
        submit
        and evaluation.status == EvaluationStatus.SUBMITTED
        and _submitted_again(request, evaluation)
    ):
        messages.success(request, _("The evaluation is submitted for approval."))
        return _redirect_after(request, evaluation, NextTask.ENTER)
    # Checked before the form is read, so that someone who may not edit learns that first.
    if not can_edit(request.user, evaluation):
        raise PermissionDenied(_("You may not edit this evaluation."))
    if evaluation.came_up_the_chain():
        # One path for the accepted values of a zone's figures: the report's verification.
        messages.error(request, CHAIN_REPORT_MESSAGE)
        return redirect("evaluations:report_detail", pk=evaluation.pk)
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
    return _redirect_after(request, evaluation, NextTask.ENTER)


def _submitted_again(request: HttpRequest, evaluation: Evaluation) -> bool:
    """Whether this POST repeats the submission that made ``evaluation`` what it is."""
    indicators, scores = evaluation_indicators_and_scores(evaluation)
    form = EvaluationEntryForm(
        request.POST, indicators=indicators, scores=scores, version=evaluation.version
    )
    return form.is_valid() and submitted_already(
        evaluation,
        by=request.user,
        scores=form.score_inputs(),
        version=form.cleaned_data["version"],
    )


def _redirect_after(request: HttpRequest, evaluation: Evaluation, task: str) -> HttpResponse:
    """Back to the evaluation; or, when its button said "and next", on to the next one of the
    user's queue for ``task``, or to the queue when none is left."""
    if request.POST.get("then") != "next":
        return redirect(evaluation)
    following = next_evaluation_for(request.user, after=evaluation, task=task)
    if following is not None:
        return redirect(following)
    if task == NextTask.APPROVE:
        messages.info(request, _("No other evaluation awaits your approval."))
    else:
        messages.info(request, _("No other evaluation assigned to you awaits entry."))
    return redirect("evaluations:cycle_evaluations", year=evaluation.cycle.year)


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
    return sentences(
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
    chain = any(score.reported_value is not None for score in scores.values())
    editable = can_edit(user, evaluation) and not chain
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
            "chain": chain,
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
