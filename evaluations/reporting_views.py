"""Pages of the reporting chain: the reports in a user's scope with their completeness, one
report (the zone's entry, the province's forward or return, the Ministry's verification),
and evidence files.

Every write goes through ``evaluations.reporting``, which checks the user's scope again.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evaluations.access import can_read
from evaluations.evidence import KINDS
from evaluations.models import Cycle, Evaluation, Evidence
from evaluations.report_forms import EvidenceForm, ReportForm, ReportReturnForm, VerifyForm
from evaluations.report_selectors import (
    FlagCount,
    completeness_by_province,
    flag_counts,
    report_lines,
    reports_for,
)
from evaluations.reporting import (
    can_add_evidence,
    can_forward,
    can_report,
    can_verify,
    evidence_add,
    report_forward,
    report_return,
    report_save,
    report_submit,
    report_verify,
    step_done_already,
    step_status,
)
from evaluations.services import EditConflict

REPORTS_PER_PAGE = 50


def works_in_chain(user) -> bool:
    """Whoever takes part in the reporting chain or reads evaluations at the Ministry."""
    return user.is_authenticated and (
        user.has_perm("evaluations.view_evaluation")
        or user.has_perm("evaluations.report_evaluation")
        or user.has_perm("evaluations.forward_evaluation")
    )


def _get_report_for_user(request: HttpRequest, pk: int) -> Evaluation:
    evaluation = get_object_or_404(Evaluation.objects.with_related(), pk=pk)
    if not can_read(request.user, evaluation):
        raise PermissionDenied(_("You may not read this report."))
    return evaluation


@login_required
def cycle_reports(request: HttpRequest, year: int) -> HttpResponse:
    """The reports in the user's scope, and how far each province has come."""
    if not works_in_chain(request.user):
        raise PermissionDenied
    cycle = get_object_or_404(Cycle, year=year)
    reports = reports_for(request.user, cycle)
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    flags = flag_counts(cycle)
    in_scope = set(reports.values_list("pk", flat=True))
    return render(
        request,
        "evaluations/cycle_reports.html",
        {
            "cycle": cycle,
            "page_obj": page,
            "rows": [(report, flags.get(report.pk, FlagCount())) for report in page],
            "flag_total": sum(count.flags for pk, count in flags.items() if pk in in_scope),
            "without_reason_total": sum(
                count.without_reason for pk, count in flags.items() if pk in in_scope
            ),
            "completeness": completeness_by_province(reports, cycle),
        },
    )


@login_required
def current_reports(request: HttpRequest) -> HttpResponse:
    if not works_in_chain(request.user):
        raise PermissionDenied
    cycle = Cycle.objects.current()
    if cycle is None:
        messages.info(request, _("No evaluation cycle has been opened yet."))
        return redirect("home")
    return redirect("evaluations:cycle_reports", year=cycle.year)


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = _get_report_for_user(request, pk)
    return _render_report(request, evaluation)


def _render_report(
    request: HttpRequest,
    evaluation: Evaluation,
    *,
    report_form: ReportForm | None = None,
    verify_form: VerifyForm | None = None,
    return_form: ReportReturnForm | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    lines = report_lines(evaluation)
    indicators = [line.indicator for line in lines]
    scores = {line.indicator.pk: line.score for line in lines if line.score is not None}
    reporting, forwarding, verifying = (
        can_report(user, evaluation),
        can_forward(user, evaluation),
        can_verify(user, evaluation),
    )
    initial = {"version": evaluation.version}
    flagged = {line.indicator.pk for line in lines if line.flags}
    if reporting and report_form is None:
        report_form = ReportForm(
            initial=initial, indicators=indicators, scores=scores, flagged=flagged
        )
    if verifying and verify_form is None:
        verify_form = VerifyForm(initial=initial, indicators=indicators, scores=scores)
    rows = []
    for line in lines:
        pk = line.indicator.pk
        rows.append(
            {
                "line": line,
                "value": report_form[f"value_{pk}"] if reporting else None,
                "note": report_form[f"note_{pk}"] if reporting else None,
                "flag_reason": (
                    report_form[f"flag_reason_{pk}"]
                    if reporting and f"flag_reason_{pk}" in report_form.fields
                    else None
                ),
                "accepted": verify_form[f"accepted_{pk}"] if verifying else None,
                "reason": verify_form[f"reason_{pk}"] if verifying else None,
            }
        )
    return render(
        request,
        "evaluations/report_detail.html",
        {
            "evaluation": evaluation,
            "cycle": evaluation.cycle,
            "rows": rows,
            "reporting": reporting,
            "forwarding": forwarding,
            "verifying": verifying,
            "adding_evidence": can_add_evidence(user, evaluation),
            "report_form": report_form,
            "verify_form": verify_form,
            "return_form": return_form or ReportReturnForm(initial=initial),
            "problems": problems or [],
            "flag_count": sum(len(line.flags) for line in lines),
            "without_reason_count": sum(
                1 for line in lines if line.flags and not (line.score and line.score.flag_reason)
            ),
        },
        status=status,
    )


def _version(request: HttpRequest) -> int:
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError):
        raise BadRequest("The version of the report is missing.") from None


def _done_already(request: HttpRequest, evaluation: Evaluation, step: str) -> bool:
    """Whether this POST repeats the ``step`` that made the report what it is now."""
    if evaluation.status != step_status(step):
        return False
    if step == "forward":
        return step_done_already(evaluation, by=request.user, step=step, version=_version(request))
    lines = report_lines(evaluation)
    form = (ReportForm if step == "report" else VerifyForm)(
        request.POST,
        indicators=[line.indicator for line in lines],
        scores={line.indicator.pk: line.score for line in lines if line.score},
    )
    if not form.is_valid():
        return False
    if step == "report":
        values = {pk: entry.value for pk, entry in form.score_inputs().items()}
    else:
        values = {pk: choice.value for pk, choice in form.accepted().items()}
    return step_done_already(
        evaluation,
        by=request.user,
        step=step,
        version=form.cleaned_data["version"],
        values=values,
    )


@login_required
@require_POST
def report_save_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the zone's figures; with ``send`` in the form, report them to the province."""
    evaluation = _get_report_for_user(request, pk)
    if "send" in request.POST and _done_already(request, evaluation, "report"):
        messages.success(request, _("The report is sent to the province."))
        return redirect("evaluations:report_detail", pk=pk)
    if not can_report(request.user, evaluation):
        raise PermissionDenied(_("You may not report the figures of this zone."))
    lines = report_lines(evaluation)
    form = ReportForm(
        request.POST,
        indicators=[line.indicator for line in lines],
        scores={line.indicator.pk: line.score for line in lines if line.score},
        flagged={line.indicator.pk for line in lines if line.flags},
    )
    if not form.is_valid():
        return _render_report(request, evaluation, report_form=form, status=400)
    try:
        report_save(
            evaluation=evaluation,
            by=request.user,
            scores=form.score_inputs(),
            version=form.cleaned_data["version"],
        )
    except EditConflict:
        messages.error(request, _("Someone changed this report after you opened it."))
        return redirect("evaluations:report_detail", pk=pk)
    except ValidationError as error:
        return _render_report(
            request, evaluation, report_form=form, problems=error.messages, status=400
        )
    if "send" in request.POST:
        try:
            report_submit(evaluation=evaluation, by=request.user, version=evaluation.version)
        except ValidationError as error:
            messages.warning(request, _("The draft is saved, but it cannot be reported yet."))
            return _render_report(request, evaluation, problems=error.messages, status=400)
        messages.success(request, _("The report is sent to the province."))
    else:
        messages.success(request, _("The draft is saved."))
    return redirect("evaluations:report_detail", pk=pk)


@login_required
@require_POST
def report_forward_view(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = _get_report_for_user(request, pk)
    if _done_already(request, evaluation, "forward"):
        messages.success(request, _("The report is forwarded to the Ministry."))
        return redirect("evaluations:report_detail", pk=pk)
    try:
        report_forward(evaluation=evaluation, by=request.user, version=_version(request))
    except EditConflict:
        messages.error(request, _("Someone changed this report after you opened it."))
        return redirect("evaluations:report_detail", pk=pk)
    messages.success(request, _("The report is forwarded to the Ministry."))
    return redirect("evaluations:report_detail", pk=pk)


@login_required
@require_POST
def report_return_view(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = _get_report_for_user(request, pk)
    if not can_forward(request.user, evaluation):
        raise PermissionDenied(_("You may not return this report."))
    form = ReportReturnForm(request.POST)
    if not form.is_valid():
        return _render_report(request, evaluation, return_form=form, status=400)
    try:
        report_return(
            evaluation=evaluation,
            by=request.user,
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
        )
    except EditConflict:
        messages.error(request, _("Someone changed this report after you opened it."))
        return redirect("evaluations:report_detail", pk=pk)
    messages.success(request, _("The report is returned to the zone."))
    return redirect("evaluations:report_detail", pk=pk)


@login_required
@require_POST
def report_verify_view(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = _get_report_for_user(request, pk)
    if _done_already(request, evaluation, "verify"):
        messages.success(request, _("The report is verified and submitted for approval."))
        return redirect(evaluation)
    if not can_verify(request.user, evaluation):
        raise PermissionDenied(_("You may not verify this report."))
    lines = report_lines(evaluation)
    form = VerifyForm(
        request.POST,
        indicators=[line.indicator for line in lines],
        scores={line.indicator.pk: line.score for line in lines if line.score},
    )
    if not form.is_valid():
        return _render_report(request, evaluation, verify_form=form, status=400)
    try:
        report_verify(
            evaluation=evaluation,
            by=request.user,
            accepted=form.accepted(),
            version=form.cleaned_data["version"],
        )
    except EditConflict:
        messages.error(request, _("Someone changed this report after you opened it."))
        return redirect("evaluations:report_detail", pk=pk)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            form.add_problems(error.message_dict)
            return _render_report(request, evaluation, verify_form=form, status=400)
        return _render_report(
            request, evaluation, verify_form=form, problems=error.messages, status=400
        )
    messages.success(request, _("The report is verified and submitted for approval."))
    return redirect(evaluation)


@login_required
@require_POST
def evidence_upload_view(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = _get_report_for_user(request, pk)
    if not can_add_evidence(request.user, evaluation):
        raise PermissionDenied(_("You may not add evidence to this report."))
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("evaluations:report_detail", pk=pk)
    indicator = get_object_or_404(evaluation.cycle.indicators, pk=form.cleaned_data["indicator"])
    try:
        evidence_add(
            evaluation=evaluation,
            indicator=indicator,
            upload=form.cleaned_data["file"],
            by=request.user,
            replaces=form.cleaned_data["replaces"],
        )
    except ValidationError as error:
        messages.error(
            request,
            _("The file was not kept: %(reason)s") % {"reason": " ".join(error.messages)},
        )
        return redirect("evaluations:report_detail", pk=pk)
    messages.success(request, _("The evidence file is kept."))
    return redirect("evaluations:report_detail", pk=pk)


@login_required
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, to whoever may read its report: always an attachment, never sniffed."""
    evidence = get_object_or_404(Evidence.objects.select_related("evaluation__zone"), pk=pk)
    if not can_read(request.user, evidence.evaluation):
        raise PermissionDenied(_("You may not read this report."))
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.name,
        content_type=KINDS[evidence.kind][1],
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
