"""The navigation's data for every page, read once per request and only when a page shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

if TYPE_CHECKING:
    from evaluations.dashboard import Navigation


def navigation_of(request: HttpRequest) -> Navigation:
    """What the navigation offers the person making ``request``: read on first use, then kept
    on the request, so that every template of the response shares the same few queries.
    """
    from evaluations.dashboard import navigation

    if not hasattr(request, "_navigation"):
        request._navigation = navigation(request.user)
    return request._navigation


def navigation(request: HttpRequest) -> dict[str, object]:
    """``navigation`` in every template: lazy, so that a page without the site's navigation
    (the admin's, say) reads nothing for it.
    """
    return {"navigation": SimpleLazyObject(lambda: navigation_of(request))}
