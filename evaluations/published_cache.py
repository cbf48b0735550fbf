"""Published cycles' pages and API responses, served from the cache until something they
show changes.

A published cycle is frozen, but its pages also show decisions (taken after publication),
the register's names and the other cycles. Each cycle carries a version
(``Cycle.content_version``) that is part of every cache key of its pages; any change to a
cycle, a decision, a zone, a batch or a province gives every cycle a new version in the same
transaction (an UPDATE of a handful of rows), so no process or host can serve a page older
than what it shows, whatever cache backend it uses. Old entries are never read again and
age out.

Pages use ``published_fragment`` (the page's own part is cached; the header, which names
the signed-in user, is drawn for each request); whole responses (exports, JSON) use
``published_response``; an API that builds plain values uses ``published_cache_key`` with
``zonetracker.cache.cached_value``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from evaluations.models import Cycle, Decision
from registry.models import Batch, Province, Zone
from registry.signals import zones_written
from zonetracker.cache import (
    cached_value,
    not_modified,
    request_cache_key,
    response_etag,
    with_validators,
)

# Response headers kept with a cached response besides its content and content type.
KEPT_HEADERS = ("Content-Disposition", "Content-Language")


def cycles_changed() -> None:
    """Give every cycle's pages a new version, in the caller's transaction."""
    Cycle.objects.update(
        content_version=F("content_version") + 1, content_changed_at=timezone.now()
    )


def published_cache_key(request: HttpRequest, *, cycle: Cycle, kind: str, role: str) -> str:
    """The cache key of ``request`` for a published cycle's ``kind`` of response, as readers
    of ``role`` see it (roles are the caller's words: "works", "reads", "token" ...)."""
    return request_cache_key(
        request,
        kind=kind,
        version=f"{cycle.pk}.{cycle.content_version}.{int(cycle.is_demo)}",
        role=role,
    )


def last_modified(cycle: Cycle) -> datetime.datetime | None:
    """When what a published cycle's pages show last changed."""
    moments = [m for m in (cycle.published_at, cycle.content_changed_at) if m is not None]
    return max(moments, default=None)


def published_fragment(
    request: HttpRequest,
    *,
    cycle: Cycle,
    kind: str,
    role: str,
    build: Callable[[], str],
    render: Callable[[SafeString], HttpResponse],
) -> HttpResponse:
    """A page of a published cycle whose own part (``build()``, HTML) is cached.

    ``render`` draws the page around that part for this request. A browser whose copy is
    current gets a 304 without either being called.
    """
    key = published_cache_key(request, cycle=cycle, kind=kind, role=role)
    etag = response_etag(key, reader=request.user.pk)
    changed_at = last_modified(cycle)
    unchanged = not_modified(request, etag=etag, last_modified=changed_at)
    if unchanged is not None:
        return unchanged
    part = mark_safe(cached_value(key, lambda: str(build())))
    return with_validators(render(part), etag=etag, last_modified=changed_at)


def published_response(
    request: HttpRequest,
    *,
    cycle: Cycle,
    kind: str,
    role: str,
    build: Callable[[], HttpResponse],
) -> HttpResponse:
    """A whole response of a published cycle (an export, JSON), cached as it was built.

    Only a 200 is kept; anything else is built for each request.
    """
    key = published_cache_key(request, cycle=cycle, kind=kind, role=role)
    etag = response_etag(key)
    changed_at = last_modified(cycle)
    unchanged = not_modified(request, etag=etag, last_modified=changed_at)
    if unchanged is not None:
        return unchanged
    built: list[HttpResponse] = []

    def stored() -> dict[str, Any] | None:
        response = build()
        built.append(response)
        if hasattr(response, "render"):
            response.render()
        if response.status_code != 200 or response.streaming:
            return None
        return {
            "content": response.content,
            "content_type": response["Content-Type"],
            "headers": {name: response[name] for name in KEPT_HEADERS if name in response},
        }

    kept = cached_value(key, stored)
    if kept is None:
        return built[0]
    response = HttpResponse(kept["content"], content_type=kept["content_type"])
    for name, value in kept["headers"].items():
        response[name] = value
    return with_validators(response, etag=etag, last_modified=changed_at)


def _changed(sender: type, **kwargs: Any) -> None:
    cycles_changed()


def connect_signals() -> None:
    """Whatever a published page shows, changed anywhere (services, admin, imports), gives
    every cycle a new version."""
    for model in (Cycle, Decision, Zone, Batch, Province):
        post_save.connect(_changed, sender=model, dispatch_uid=f"published-cache-{model.__name__}")
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"published-cache-delete-{model.__name__}"
        )
    zones_written.connect(_changed, dispatch_uid="published-cache-zones-written")
