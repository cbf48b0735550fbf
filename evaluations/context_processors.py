"""What every page's layout needs from the evaluations: the user's unread notifications."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from evaluations.notifications import unread_count


def notifications(request: HttpRequest) -> dict[str, object]:
    """``unread_notifications``: how many of the user's notifications are unread (0 when
    signed out). Counted only when a template reads it, so pages that do not show it pay
    no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count_of(request))}


def unread_count_of(request: HttpRequest) -> int:
    """The signed-in user's unread notifications, counted once per request."""
    if not hasattr(request, "_unread_notifications"):
        request._unread_notifications = unread_count(request.user)
    return request._unread_notifications
