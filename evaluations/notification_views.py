"""The notifications page: a user's own notifications, newest first, and marking them read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evaluations.models import Notification
from evaluations.notifications import notification_text, notifications_mark_read

PAGE_SIZE = 50


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The signed-in user's notifications, 50 a page; nobody sees another's."""
    page = Paginator(Notification.objects.for_user(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    items = [(n, notification_text(n.kind, n.params)) for n in page.object_list]
    return render(request, "notifications/list.html", {"page_obj": page, "items": items})


@login_required
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    """Mark every notification of the signed-in user read, and say how many."""
    count = notifications_mark_read(user=request.user)
    messages.success(request, _("%(count)s notifications marked read.") % {"count": count})
    return redirect("evaluations:notification_list")
