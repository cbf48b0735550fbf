"""The annual report of a published cycle: the printable page and its PDF.

Readable exactly where the cycle's rankings are (``with_readable_cycle``); a cycle that is
not published has no report.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from evaluations.models import Cycle
from evaluations.published_cache import published_response
from evaluations.ranking_views import with_readable_cycle
from evaluations.report_pdf import pdf_problem, report_filename, report_html, report_pdf


def _published(cycle: Cycle) -> None:
    if not cycle.is_published:
        raise Http404(_("The evaluation of %(year)s is not published yet.") % {"year": cycle.year})


@with_readable_cycle
def annual_report(request: HttpRequest, cycle: Cycle) -> HttpResponse:
    """The report as a page, with a print stylesheet (A4, page numbers, no navigation)."""
    _published(cycle)
    # The same for every reader (no header, no form): kept whole per cycle version and
    # language, with its ETag and Last-Modified (evaluations.published_cache).
    return published_response(
        request,
        cycle=cycle,
        kind="annual-report",
        role="all",
        build=lambda: HttpResponse(
            report_html(cycle, for_pdf=False, request=request, pdf_link_problem=pdf_problem())
        ),
    )


@with_readable_cycle
def annual_report_pdf(request: HttpRequest, cycle: Cycle) -> HttpResponse:
    """The report as a PDF made on the server; 503 where this machine cannot make one."""
    _published(cycle)
    if pdf_problem():
        return HttpResponse(
            _("The PDF cannot be made on this server; print the report page instead."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(report_pdf(cycle), content_type="application/pdf")
    filename = report_filename(cycle, get_language() or "en")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
