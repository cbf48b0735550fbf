"""Pages composed of both apps: the home page, with the register in figures and the evaluations."""

from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.views import defaults

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


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, except when the database could not be reached (restarting, down,
    locked for too long): then 503, a page that needs no database, and a Retry-After.

    Django calls this while handling the exception, and has logged it with its traceback for
    the operator; the user sees neither the traceback nor a half-done change, because every
    write is one transaction that the database rolled back.
    """
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return defaults.server_error(request)
