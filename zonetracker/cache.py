"""Responses kept in Django's cache: keys, reads and writes that never fail a request, and
the validators (``ETag``, ``Last-Modified``) that let a browser ask "has it changed?".

The cache is a speed-up, never a source: when it cannot be reached (Redis down, say), every
read is a miss and every write is dropped, with a log line, and the page is built as if
nothing were cached. What varies a response (its version, language, query and the reader's
role) is part of its key, so an entry is never invalidated: a change makes a new version,
and the old entries age out.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long an entry is kept: a new version makes new keys, so this only bounds old entries.
TIMEOUT = 24 * 60 * 60


def request_cache_key(request: HttpRequest, *, kind: str, version: str, role: str) -> str:
    """The key of what ``request`` asks for: its kind, a version of what it shows, the active
    language, the reader's role and the query string (parameters in a stable order)."""
    query = "&".join(sorted(request.GET.urlencode().split("&")))
    digest = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()[:32]
    return f"zonetracker:{kind}:{version}:{get_language()}:{role}:{digest}"


def cache_read(key: str) -> Any:
    """What the cache holds under ``key``; None when nothing, or when the cache fails."""
    try:
        return cache.get(key)
    except Exception:  # any backend's error: a Redis outage must not fail the request
        logger.warning("The cache could not be read; %s is built uncached.", key, exc_info=True)
        return None


def cache_write(key: str, value: object, *, timeout: int = TIMEOUT) -> None:
    """Keep ``value`` under ``key``; a cache that fails is logged and skipped."""
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("The cache could not be written; %s stays uncached.", key, exc_info=True)


def cache_forget(keys: list[str]) -> None:
    """Delete ``keys``; a cache that fails is logged (what it holds then ages out)."""
    try:
        cache.delete_many(keys)
    except Exception:
        logger.warning("The cache could not forget %s.", keys, exc_info=True)


def cached_value(key: str, build: Callable[[], T], *, timeout: int = TIMEOUT) -> T:
    """The value stored under ``key``, or ``build()`` stored there now (built as if it were a
    miss when the cache fails)."""
    value = cache_read(key)
    if value is not None:
        return value
    value = build()
    cache_write(key, value, timeout=timeout)
    return value


def response_etag(key: str, *, reader: object = None) -> str:
    """A strong ETag for the response stored under ``key`` as ``reader`` sees it (a page's
    header names the signed-in user, so theirs differs from anybody else's)."""
    return quote_etag(hashlib.sha256(f"{key}|{reader}".encode()).hexdigest()[:32])


def not_modified(
    request: HttpRequest, *, etag: str, last_modified: datetime.datetime | None
) -> HttpResponse | None:
    """A 304 (or 412) when the browser's copy is still this one, otherwise None."""
    stamp = int(last_modified.timestamp()) if last_modified else None
    return get_conditional_response(request, etag=etag, last_modified=stamp)


def with_validators(
    response: HttpResponse, *, etag: str, last_modified: datetime.datetime | None
) -> HttpResponse:
    """Add the validators; the browser must ask again each time (``no-cache``), and only its
    own copy may be kept (``private``): a 304 costs the server almost nothing."""
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified.timestamp())
    response["Cache-Control"] = "private, no-cache"
    return response
