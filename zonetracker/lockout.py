"""The page a locked-out login gets: it says when the lock ends, as django-axes keeps it."""

from __future__ import annotations

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """Render the lockout page with the moment the lock of this user name and address ends.

    The cool-off runs from the failure that reached the limit (failures during the lock are
    not recorded: ``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT`` is off), so that moment is
    fixed and the page can name it.
    """
    username = get_client_username(request, credentials) or ""
    cool_off = get_cool_off(request)
    locking_attempt = (
        AccessAttempt.objects.filter(
            username=username,
            ip_address=getattr(request, "axes_ip_address", None) or get_client_ip_address(request),
        )
        .order_by("-attempt_time")
        .first()
    )
    unlocks_at = locking_attempt.attempt_time + cool_off if locking_attempt and cool_off else None
    return render(
        request,
        "registration/locked_out.html",
        {
            "unlocks_at": unlocks_at,
            "cool_off_minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
