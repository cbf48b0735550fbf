"""Pages of the register: the zones, one zone (with what other apps add to it), the batches."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from registry.filters import ZoneFilter, ZoneOrder
from registry.models import Batch, Zone
from registry.selectors import exit_change, zone_status_changes
from registry.zone_page import zone_sections

ZONES_PER_PAGE = 50

# The register's columns with their headers, in the order they are shown; those on
# ZoneOrder's whitelist are sortable.
ZONE_COLUMNS = [
    ("name", _("Zone")),
    ("province", _("Province")),
    ("region", _("Region")),
    ("batch", _("Batch")),
    ("kind", _("Kind")),
    ("status", _("Status")),
]


@login_required
def zone_list(request: HttpRequest) -> HttpResponse:
    filterset = ZoneFilter(request.GET, queryset=Zone.objects.with_related())
    order = ZoneOrder.parse(request.GET.get("order"))
    # A filter that could not be read matches nothing: showing the unfiltered register under
    # a filter the user believes applied would mislead more than an empty table with the error.
    zones = order.apply(filterset.qs) if filterset.is_valid() else Zone.objects.none()
    # get_page() turns a page number that is not a number into the first page and one past
    # the end into the last page, so a stale or hand-edited link still shows zones.
    page = Paginator(zones, ZONES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/zone_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "columns": order.headers(ZONE_COLUMNS),
            "order": order,
        },
    )


@login_required
def zone_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One zone: its facts and its status timeline, with the sections other apps add to it
    (the evaluations add its ranks and the decisions behind its status changes).

    Reads a fixed number of queries however many cycles and status changes the zone has.
    """
    zone = get_object_or_404(Zone.objects.with_related(), slug=slug)
    context: dict[str, object] = {"zone": zone, "timeline": zone_status_changes(zone)}
    section_templates: list[str] = []
    for section in zone_sections():
        contribution = dict(section(request, zone, context))
        if template := contribution.pop("template", None):
            section_templates.append(template)
        context.update(contribution)
    context["section_templates"] = section_templates
    context["exit_change"] = exit_change(zone, context["timeline"])
    return render(request, "registry/zone_detail.html", context)


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = list(Batch.objects.with_zone_counts())
    return render(
        request,
        "registry/batch_list.html",
        {"batches": batches, "zone_total": sum(batch.zone_count for batch in batches)},
    )
