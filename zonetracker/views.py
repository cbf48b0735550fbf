"""Pages composed of both apps: the home page, with the register in figures and the evaluations."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static

from evaluations.dashboard import home_context as evaluations_home_context
from registry.selectors import register_figures


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The register in figures; for those who work on evaluations, the current cycle's progress
    and their queue.
    """
    return render(
        request,
        "home.html",
        {**register_figures(), **evaluations_home_context(request.user, query=request.GET)},
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """The site's icon where a browser asks for /favicon.ico (a page naming no icon)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
