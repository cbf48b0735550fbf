"""The rankings pages: a cycle's rankings with filters, a chart and CSV/XLSX exports.

Who may read them: a published cycle's rankings, anyone signed in (and everyone when
``settings.PUBLIC_RANKINGS`` is on); a cycle not yet published, only those who work on the
evaluations (Reviewers, Approvers, Administrators), as provisional rankings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from evaluations.access import works_on_evaluations
from evaluations.models import Cycle, Evaluation
from evaluations.published_cache import published_fragment, published_response
from evaluations.ranking_filters import RankingFilter
from evaluations.ranking_table import (
    export_filename,
    ranking_page,
    ranking_table,
    ranking_table_dataset,
)
from evaluations.tile_map import cycle_tile_map, measure_links, measure_of
from zonetracker.tables import CONTENT_TYPES, table_bytes

# Rows per page: a page lists this many zones; exports and charts cover every zone shown.
RANKINGS_PER_PAGE = 100

# ?format=... → the file the table is downloaded as.
EXPORTS = ("csv", "xlsx")


# --- access ------------------------------------------------------------------------------


def readable_cycles(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Cycle]:
    """The cycles whose rankings ``user`` may read, latest first."""
    if works_on_evaluations(user):
        return Cycle.objects.order_by("-year")
    if user.is_authenticated or settings.PUBLIC_RANKINGS:
        return Cycle.objects.published().order_by("-year")
    return Cycle.objects.none()


def with_readable_cycle(
    view: Callable[[HttpRequest, Cycle], HttpResponse],
) -> Callable[[HttpRequest, int], HttpResponse]:
    """Resolve ``year`` to a cycle the user may read: sign-in first, then 404, then 403.

    Someone not signed in is sent to sign in, unless rankings are public and the cycle is
    published; whether a year exists is told only to those who may read some rankings.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, year: int) -> HttpResponse:
        user = request.user
        if not user.is_authenticated and not settings.PUBLIC_RANKINGS:
            return redirect_to_login(request.get_full_path())
        cycle = get_object_or_404(Cycle, year=year)
        if not cycle.is_published and not works_on_evaluations(user):
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise PermissionDenied(
                _("The evaluation of %(year)s is not published yet.") % {"year": cycle.year}
            )
        return view(request, cycle)

    return wrapper


# --- pages -------------------------------------------------------------------------------


def latest_readable_cycle(request: HttpRequest, page: str) -> HttpResponse:
    """Send the reader to ``page`` (a URL name taking the year) of the latest cycle whose
    rankings they may read: the latest published one; for those who work on evaluations, the
    latest cycle when none is published yet."""
    user = request.user
    if not user.is_authenticated and not settings.PUBLIC_RANKINGS:
        return redirect_to_login(request.get_full_path())
    cycles = readable_cycles(user)
    cycle = cycles.published().first() or cycles.first()
    if cycle is None:
        if not user.is_authenticated:
            raise Http404(_("No rankings have been published yet."))
        messages.info(request, _("No rankings have been published yet."))
        return redirect("home")
    return redirect(page, year=cycle.year)


def latest_rankings(request: HttpRequest) -> HttpResponse:
    """The latest rankings the reader may read."""
    return latest_readable_cycle(request, "evaluations:cycle_rankings")


@with_readable_cycle
def cycle_rankings(request: HttpRequest, cycle: Cycle) -> HttpResponse:
    """The cycle's rankings, filtered; ``?format=csv`` or ``xlsx`` downloads what is shown."""
    export_format = request.GET.get("format", "")
    if export_format and export_format not in EXPORTS:
        raise BadRequest("Unknown export format.")
    # Read only when the page or export is built: a cached one needs none of it.
    filterset = RankingFilter(
        request.GET, queryset=Evaluation.objects.for_cycle(cycle), request=request
    )

    def filtered() -> QuerySet[Evaluation]:
        # As on the register: a filter that cannot be read matches nothing, not everything.
        return filterset.qs if filterset.is_valid() else Evaluation.objects.none()

    if export_format:

        def export() -> HttpResponse:
            table = ranking_table(cycle, filtered())
            response = HttpResponse(
                table_bytes(ranking_table_dataset(table), export_format),
                content_type=CONTENT_TYPES[export_format],
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{export_filename(cycle, export_format)}"'
            )
            return response

        if not cycle.is_published:
            return export()
        return published_response(
            request, cycle=cycle, kind="rankings-export", role="any", build=export
        )

    def content() -> str:
        table = ranking_page(
            cycle, filtered(), page=request.GET.get("page"), per_page=RANKINGS_PER_PAGE
        )
        measure = measure_of(request.GET.get("map"))
        return render_to_string(
            "evaluations/includes/rankings_content.html",
            {
                "cycle": cycle,
                "table": table,
                "page_obj": table.page_obj,
                "filterset": filterset,
                "filtered": any(filterset.data.get(name) for name in filterset.filters),
                "other_cycles": [
                    c for c in readable_cycles(request.user).only("year", "status") if c != cycle
                ],
                "works_on_evaluations": works_on_evaluations(request.user),
                "tile_map": cycle_tile_map(cycle, measure),
                "measure_links": measure_links(request.GET, measure),
            },
            request=request,
        )

    def page(part: str) -> HttpResponse:
        return render(request, "evaluations/rankings.html", {"cycle": cycle, "content": part})

    if not cycle.is_published:
        return page(content())
    return published_fragment(
        request,
        cycle=cycle,
        kind="rankings",
        role=lambda: reader_role(request.user),
        build=content,
        render=page,
    )


def reader_role(user: AbstractBaseUser | AnonymousUser) -> str:
    """What a published cycle's pages show differs only between those who work on the
    evaluations (links to the work queue, provisional years) and everybody else."""
    return "works" if works_on_evaluations(user) else "reads"
