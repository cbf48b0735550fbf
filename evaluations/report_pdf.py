"""The annual report as a PDF, made on the server by WeasyPrint from the report's page.

WeasyPrint needs the Pango library of the system. Where it cannot be loaded, ``pdf_problem``
says why, the page says that the PDF cannot be made here, and the printable page still
works. Nothing is fetched from the network: the stylesheets are read from the static files
and any other resource is refused.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders

# The report's stylesheets, as the page links them.
STYLESHEETS = ("css/site.css", "css/report.css")


@cache
def pdf_problem() -> str:
    """Why no PDF can be made on this machine; empty when it can."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as error:  # OSError: a system library is missing
        return str(error).splitlines()[0] if str(error) else error.__class__.__name__
    return ""


def _refuse(url: str, *args, **kwargs):
    raise ValueError(f"The report does not fetch {url}.")


def render_pdf(html: str) -> bytes:
    """The report page's HTML as PDF bytes."""
    from weasyprint import CSS, HTML

    # WeasyPrint reports each step and every CSS property it does not draw (the site's
    # stylesheet has many, for screens) at INFO and WARNING: only its errors are of interest.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    stylesheets = [CSS(filename=str(Path(finders.find(name)))) for name in STYLESHEETS]
    document = HTML(string=html, url_fetcher=_refuse, base_url="/")
    return document.write_pdf(stylesheets=stylesheets)


def report_html(cycle, *, for_pdf: bool, request=None, pdf_link_problem: str = "") -> str:
    """The report page's HTML in the active language; for the PDF without the links to the
    stylesheets (WeasyPrint is given them) and without the page's tools."""
    from django.template.loader import render_to_string

    from evaluations.annual_report import annual_report

    return render_to_string(
        "evaluations/annual_report.html",
        {"report": annual_report(cycle), "for_pdf": for_pdf, "pdf_problem": pdf_link_problem},
        request=request,
    )


def report_pdf(cycle) -> bytes:
    """The annual report of ``cycle`` as a PDF, in the active language."""
    return render_pdf(report_html(cycle, for_pdf=True))


def report_filename(cycle, language: str) -> str:
    return f"zonetracker-annual-report-{cycle.year}-{language}.pdf"
