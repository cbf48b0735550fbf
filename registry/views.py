"""Pages of the register."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from registry.models import Batch, Zone


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@login_required
def zone_list(request: HttpRequest) -> HttpResponse:
    zones = Zone.objects.with_related()
    return render(request, "registry/zone_list.html", {"zones": zones})


@login_required
def zone_detail(request: HttpRequest, slug: str) -> HttpResponse:
    zone = get_object_or_404(Zone.objects.with_related(), slug=slug)
    return render(request, "registry/zone_detail.html", {"zone": zone})


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = Batch.objects.with_zone_counts()
    return render(request, "registry/batch_list.html", {"batches": batches})
