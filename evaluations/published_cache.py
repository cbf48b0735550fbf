"""Published cycles' pages and API responses, served from the cache until something they
show changes.

A published cycle is frozen, but its pages also show decisions (taken after publication),
the register's names and the other cycles. Each cycle carries a version
(``Cycle.content_version``) that is part of every cache key of its pages; any change to a
cycle, a decision, a zone, a batch or a province gives every cycle a new version in the same
transaction (an UPDATE of a handful of rows), so no process or host can serve a page older
than what it shows, whatever cache backend it uses. Old entries are never read again and
age out.

Pages use ``published_fragment`` (the page's own part is cached per role; the page as drawn,
whose header names the signed-in user, per reader); whole responses (exports, JSON) use
``published_response``; an API that builds plain values uses ``published_cache_key`` with
``zonetracker.cache.cached_value``.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from evaluations.context_processors import unread_count_of
from evaluations.models import Cycle, Decision
from registry.models import Batch, Province, Zone
from registry.signals import zones_written
from zonetracker.cache import (
    cache_read,
    cache_write,
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
    role: Callable[[], str],
    build: Callable[[], str],
    render: Callable[[SafeString], HttpResponse],
) -> HttpResponse:
    """A page of a published cycle whose own part (``build()``, HTML) is cached per
    ``role()``, and the whole page per reader.

    ``render`` draws the page around that part for this request. The page as drawn is kept
    for its reader too (``reader_copy_key``), so that reading it again costs a cache read; a
    browser whose copy is current gets a 304 without anything drawn.
    """
    page_key = published_cache_key(request, cycle=cycle, kind=kind, role="page")
    reader = reader_copy_key(request)
    etag = response_etag(page_key, reader=reader or request.user.pk)
    changed_at = last_modified(cycle)
    unchanged = not_modified(request, etag=etag, last_modified=changed_at)
    if unchanged is not None:
        return unchanged
    if reader:
        kept = cache_read(f"{page_key}:{reader}")
        if kept is not None:
            response = HttpResponse(kept, content_type="text/html; charset=utf-8")
            return with_validators(response, etag=etag, last_modified=changed_at)
    part_key = published_cache_key(request, cycle=cycle, kind=kind, role=role())
    part = mark_safe(cached_value(part_key, lambda: str(build())))
    response = render(part)
    if reader and response.status_code == 200:
        cache_write(f"{page_key}:{reader}", response.content)
    return with_validators(response, etag=etag, last_modified=changed_at)


def reader_copy_key(request: HttpRequest) -> str | None:
    """What makes a page as drawn for its reader theirs: their account, their unread
    notifications (the header counts them) and the CSRF secret its forms carry. None when
    the page must be drawn: messages wait to be shown, or the CSRF cookie is not set yet.
    """
    csrf_secret = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    if not csrf_secret or len(get_messages(request)):
        return None
    user = request.user
    unread = unread_count_of(request) if user.is_authenticated else 0
    return hashlib.sha256(f"{user.pk}|{unread}|{csrf_secret}".encode()).hexdigest()[:32]


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
