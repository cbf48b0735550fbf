"""The product's URLs and /bench/ping/, a trivial view that exists only in the benchmark."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def ping(request: HttpRequest) -> HttpResponse:
    """The least a Django view can do: what every page costs before its own work."""
    return HttpResponse(b"pong", content_type="text/plain")


urlpatterns = [
    path("bench/ping/", ping, name="bench_ping"),
    path("", include("zonetracker.urls")),
]
