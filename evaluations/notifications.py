"""Notifications: who hears of a change to an evaluation, a cycle or a decision, and how.

The services call one ``notify_*`` function inside their transaction: the notifications are
written with the change (or not at all), and the e-mails leave once it is committed. A
notification keeps its kind and parameters, not sentences, so that the site words it in the
reader's language; an e-mail carries both languages, as a user's language is not recorded.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    EvaluationStatus,
    Notification,
    NotificationKind,
    Outcome,
)
from registry.models import in_active_language
from zonetracker.cache import cache_forget, cache_read, cache_write

logger = logging.getLogger(__name__)

_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# The languages an e-mail is written in, English first.
_MAIL_LANGUAGES = ("en", "zh-hans")


# --- who ----------------------------------------------------------------------------------


def _holders(permission: str) -> QuerySet:
    """Active users granted ``permission`` through a role or directly (superusers are not
    everyone's colleague: they hear only of what they hold a role for)."""
    return (
        get_user_model()
        .objects.with_perm(permission, include_superusers=False, backend=_MODEL_BACKEND)
        .filter(is_active=True)
    )


def approvers_of(evaluation: Evaluation) -> QuerySet:
    """The Approvers who may approve ``evaluation``: not whoever entered a score of it, last
    edited it or submitted it (four eyes, as ``permissions.entered_or_edited`` says)."""
    enterers = evaluation.scores.filter(entered_by__isnull=False).values("entered_by")
    return (
        _holders("evaluations.approve_evaluation")
        .exclude(pk__in=[evaluation.submitted_by_id, evaluation.last_edited_by_id])
        .exclude(pk__in=enterers)
    )


def evaluation_workers() -> QuerySet:
    """Everyone who works on evaluations: they may read them (Reviewers, Approvers,
    Administrators)."""
    return _holders("evaluations.view_evaluation")


# --- what ---------------------------------------------------------------------------------


def _zone_params(evaluation_or_decision: Evaluation | Decision) -> dict[str, object]:
    zone = evaluation_or_decision.zone
    return {
        "zone_zh": zone.name_zh,
        "zone_en": zone.name_en,
        "year": evaluation_or_decision.cycle.year,
    }


def notification_text(kind: str, params: dict) -> str:
    """The notification worded in the active language."""
    zone = in_active_language(params.get("zone_zh", ""), params.get("zone_en", ""))
    year = params.get("year", "")
    if kind == NotificationKind.RETURNED:
        return _("Your evaluation of %(zone)s (%(year)s) was returned: %(reason)s") % {
            "zone": zone,
            "year": year,
            "reason": params.get("reason", ""),
        }
    if kind == NotificationKind.SUBMITTED:
        return _("The evaluation of %(zone)s (%(year)s) awaits your approval.") % {
            "zone": zone,
            "year": year,
        }
    if kind == NotificationKind.PUBLISHED:
        return _("The evaluation of %(year)s is published.") % {"year": year}
    if kind == NotificationKind.REPORTED:
        return _("The report of %(zone)s (%(year)s) awaits your review.") % {
            "zone": zone,
            "year": year,
        }
    if kind == NotificationKind.FORWARDED:
        return _("The report of %(zone)s (%(year)s) awaits your verification.") % {
            "zone": zone,
            "year": year,
        }
    if kind == NotificationKind.DECIDED:
        outcome = params.get("outcome", "")
        label = Outcome(outcome).label if outcome in Outcome.values else outcome
        return _("Decision on %(zone)s after the evaluation of %(year)s: %(outcome)s.") % {
            "zone": zone,
            "year": year,
            "outcome": label,
        }
    if kind == NotificationKind.REMINDER:
        return _(
            "Reminder, deadlines near or past: evaluations to enter, %(to_enter)s; "
            "to approve, %(to_approve)s."
        ) % {
            "to_enter": len(params.get("to_enter", [])),
            "to_approve": len(params.get("to_approve", [])),
        }
    return str(NotificationKind(kind).label) if kind in NotificationKind.values else kind


def _reminder_lines(params: dict) -> list[str]:
    """The e-mail's list of what a reminder is about, one line per evaluation."""
    lines = []
    for key, heading in (
        ("to_enter", _("To enter by %(deadline)s:")),
        ("to_approve", _("To approve by %(deadline)s:")),
    ):
        for item in params.get(key, []):
            zone = in_active_language(item["zone_zh"], item["zone_en"])
            lines.append(
                f"- {zone} ({item['year']}) · "
                + heading % {"deadline": item["deadline"]}
                + f" {settings.ZONETRACKER_SITE_URL}{item['link']}"
            )
    return lines


# --- sending ------------------------------------------------------------------------------


def _mail_for(notification: Notification) -> EmailMessage:
    """The e-mail of one notification: its text in each language, and its link."""
    subjects, parts = [], []
    link = f"{settings.ZONETRACKER_SITE_URL}{notification.link}" if notification.link else ""
    for language in _MAIL_LANGUAGES:
        with translation.override(language):
            subjects.append(str(NotificationKind(notification.kind).label))
            text = notification_text(notification.kind, notification.params)
            lines = [text, *_reminder_lines(notification.params)]
            if link:
                lines.append(link)
            parts.append("\n".join(lines))
    return EmailMessage(
        subject="zonetracker: " + " / ".join(subjects),
        body="\n\n——\n\n".join(parts),
        to=[notification.recipient.email],
    )


# How often a notification's e-mail is tried (when it is written, then by each
# ``send_reminders``) before it is logged as failed and left on the site alone.
MAIL_ATTEMPTS = 5


def notifications_mail(notifications: Sequence[Notification]) -> int:
    """Send the e-mail of each notification whose recipient has an address, over one
    connection; returns how many were sent.

    A mail server that fails is logged, not raised: the change the mail tells of is already
    made, and the site still shows it. The notifications stay ``mail_pending`` for
    ``notifications_mail_retry``; after ``MAIL_ATTEMPTS`` failures each is logged as failed.
    """
    with_address = [n for n in notifications if n.recipient.email]
    without = [n.pk for n in notifications if not n.recipient.email]
    if without:
        Notification.objects.filter(pk__in=without).update(mail_pending=False)
    if not with_address:
        return 0
    keys = [n.pk for n in with_address]
    try:
        sent = get_connection().send_messages([_mail_for(n) for n in with_address]) or 0
    except Exception:  # any transport error: the notification itself stays
        logger.exception("Notification e-mails could not be sent; %s kept to send again", len(keys))
        Notification.objects.filter(pk__in=keys).update(mail_attempts=F("mail_attempts") + 1)
        given_up = Notification.objects.filter(
            pk__in=keys, mail_attempts__gte=MAIL_ATTEMPTS
        ).select_related("recipient")
        for notification in given_up:
            logger.error(
                "Notification %s: its e-mail to %s failed %s times and is given up; the "
                "notification stays on the site",
                notification.pk,
                notification.recipient.email,
                notification.mail_attempts,
            )
        given_up.update(mail_pending=False)
        return 0
    Notification.objects.filter(pk__in=keys).update(
        mail_pending=False, mail_attempts=F("mail_attempts") + 1
    )
    return sent


def notifications_mail_retry() -> tuple[int, int]:
    """Send again the e-mails still waiting (the mail server was down, or the process ended
    before sending); returns how many were sent and how many still wait."""
    waiting = list(
        Notification.objects.filter(mail_pending=True).select_related("recipient").order_by("pk")
    )
    sent = notifications_mail(waiting)
    return sent, Notification.objects.filter(mail_pending=True).count()


def _notify(
    recipients: Iterable[AbstractBaseUser],
    *,
    kind: str,
    params: dict,
    link: str,
    by: AbstractBaseUser | None,
) -> list[Notification]:
    """Write one notification per recipient (never to ``by``, who made the change) and send
    their e-mails once the transaction commits."""
    seen: set[int] = set()
    notifications = []
    for user in recipients:
        if user is None or user.pk in seen or (by is not None and user.pk == by.pk):
            continue
        seen.add(user.pk)
        notifications.append(
            Notification(
                recipient=user,
                kind=kind,
                params=params,
                link=link,
                mail_pending=bool(user.email),
            )
        )
    Notification.objects.bulk_create(notifications)
    unread_counts_forget(seen)
    if notifications:
        transaction.on_commit(lambda: notifications_mail(notifications))
    return notifications


def notify_returned(*, evaluation: Evaluation, by: AbstractBaseUser) -> list[Notification]:
    """Tell the evaluation's reviewer (or whoever submitted it) that it came back, and why."""
    return _notify(
        [evaluation.reviewer or evaluation.submitted_by],
        kind=NotificationKind.RETURNED,
        params={**_zone_params(evaluation), "reason": evaluation.return_reason},
        link=evaluation.get_absolute_url(),
        by=by,
    )


def _report_link(evaluation: Evaluation) -> str:
    return reverse("evaluations:report_detail", kwargs={"pk": evaluation.pk})


def notify_reported(*, evaluation: Evaluation, by: AbstractBaseUser) -> list[Notification]:
    """Tell the reviewers of the zone's province that its report awaits them."""
    return _notify(
        _holders("evaluations.forward_evaluation").filter(
            reviewed_provinces__province_id=evaluation.zone.province_id
        ),
        kind=NotificationKind.REPORTED,
        params=_zone_params(evaluation),
        link=_report_link(evaluation),
        by=by,
    )


def notify_report_returned(*, evaluation: Evaluation, by: AbstractBaseUser) -> list[Notification]:
    """Tell the zone's reporters that the province sent their report back, and why."""
    return _notify(
        _holders("evaluations.report_evaluation").filter(
            reported_zones__zone_id=evaluation.zone_id
        ),
        kind=NotificationKind.RETURNED,
        params={**_zone_params(evaluation), "reason": evaluation.return_reason},
        link=_report_link(evaluation),
        by=by,
    )


def notify_forwarded(*, evaluation: Evaluation, by: AbstractBaseUser) -> list[Notification]:
    """Tell the evaluation's Ministry reviewer that the report awaits verification."""
    return _notify(
        [evaluation.reviewer],
        kind=NotificationKind.FORWARDED,
        params=_zone_params(evaluation),
        link=_report_link(evaluation),
        by=by,
    )


def notify_submitted(*, evaluation: Evaluation, by: AbstractBaseUser) -> list[Notification]:
    """Tell each Approver who may approve it that the evaluation awaits them."""
    return _notify(
        approvers_of(evaluation),
        kind=NotificationKind.SUBMITTED,
        params=_zone_params(evaluation),
        link=evaluation.get_absolute_url(),
        by=by,
    )


def notify_published(*, cycle: Cycle, by: AbstractBaseUser | None) -> list[Notification]:
    """Tell everyone who works on evaluations that the cycle's results are published."""
    return _notify(
        evaluation_workers(),
        kind=NotificationKind.PUBLISHED,
        params={"year": cycle.year},
        link=reverse("evaluations:cycle_rankings", kwargs={"year": cycle.year}),
        by=by,
    )


def notify_decided(*, decision: Decision, by: AbstractBaseUser) -> list[Notification]:
    """Tell the zone's reviewers of that cycle (assigned, or who submitted) the decision."""
    evaluation = (
        Evaluation.objects.filter(cycle_id=decision.cycle_id, zone_id=decision.zone_id)
        .select_related("reviewer", "submitted_by")
        .first()
    )
    recipients = [evaluation.reviewer, evaluation.submitted_by] if evaluation else []
    return _notify(
        recipients,
        kind=NotificationKind.DECIDED,
        params={**_zone_params(decision), "outcome": decision.outcome},
        link=decision.zone.get_absolute_url(),
        by=by,
    )


# --- reading ------------------------------------------------------------------------------


# How long a count is kept in a shared cache: a reader that counted just before a change
# committed may store the old count after it was forgotten; it lasts no longer than this.
UNREAD_TIMEOUT = 60


def unread_count_key(user_pk: int) -> str:
    return f"zonetracker:unread:{user_pk}"


def unread_count(user: AbstractBaseUser) -> int:
    """How many of ``user``'s notifications are unread. Every page's header shows it: with a
    cache that every process shares (``settings.CACHE_SHARED``) it is kept there, and
    forgotten whenever a notification is written or read (``unread_counts_forget``)."""
    if not settings.CACHE_SHARED:
        return Notification.objects.filter(recipient=user).unread().count()
    key = unread_count_key(user.pk)
    count = cache_read(key)
    if count is None:
        count = Notification.objects.filter(recipient=user).unread().count()
        cache_write(key, count, timeout=UNREAD_TIMEOUT)
    return count


def unread_counts_forget(user_pks: Iterable[int]) -> None:
    """Forget the kept unread counts of these users, now and once the transaction commits
    (a count taken in between would be the old one)."""
    keys = [unread_count_key(pk) for pk in set(user_pks)]
    if not keys or not settings.CACHE_SHARED:
        return
    cache_forget(keys)
    transaction.on_commit(lambda: cache_forget(keys))


def notifications_mark_read(*, user: AbstractBaseUser) -> int:
    """Mark all of ``user``'s notifications read; returns how many were unread."""
    marked = Notification.objects.filter(recipient=user).unread().update(read_at=timezone.now())
    unread_counts_forget([user.pk])
    return marked


# --- reminders ----------------------------------------------------------------------------


@dataclass
class Reminder:
    """What one person is reminded of: evaluations to enter and to approve."""

    recipient: AbstractBaseUser
    to_enter: list[dict] = field(default_factory=list)
    to_approve: list[dict] = field(default_factory=list)

    @property
    def params(self) -> dict:
        return {"to_enter": self.to_enter, "to_approve": self.to_approve}


def _reminder_item(evaluation: Evaluation, deadline: datetime.date) -> dict:
    return {
        **_zone_params(evaluation),
        "deadline": deadline.isoformat(),
        "link": evaluation.get_absolute_url(),
    }


def reminders_due(*, today: datetime.date, days: int) -> list[Reminder]:
    """Who has work near (within ``days``) or past a deadline of an unpublished cycle.

    Reviewers: their evaluations still to enter (draft or returned) against the entry
    deadline. Approvers: the submitted evaluations they may approve (four eyes) against the
    approval deadline. One reminder per person, by user name; people who were reminded
    today already are left out, so that running this twice a day sends nothing new.
    """
    horizon = today + datetime.timedelta(days=days)
    cycles = Cycle.objects.filter(status__in=[CycleStatus.OPEN, CycleStatus.IN_REVIEW])
    reminders: dict[int, Reminder] = {}

    def reminder_of(user: AbstractBaseUser) -> Reminder:
        return reminders.setdefault(user.pk, Reminder(recipient=user))

    # Scores are entered only while a cycle is open for entry.
    for cycle in cycles.filter(status=CycleStatus.OPEN, entry_deadline__lte=horizon):
        to_enter = (
            Evaluation.objects.for_cycle(cycle)
            .filter(
                reviewer__isnull=False,
                reviewer__is_active=True,
                status__in=[EvaluationStatus.DRAFT, EvaluationStatus.RETURNED],
            )
            .select_related("zone", "reviewer", "cycle")
            .order_by("zone__name_en")
        )
        for evaluation in to_enter:
            reminder_of(evaluation.reviewer).to_enter.append(
                _reminder_item(evaluation, cycle.entry_deadline)
            )
    approval_cycles = list(cycles.filter(approval_deadline__lte=horizon))
    if approval_cycles:
        for approver in _holders("evaluations.approve_evaluation").order_by("pk"):
            awaiting = (
                Evaluation.objects.filter(cycle__in=approval_cycles)
                .awaiting_approval_by(approver)
                .distinct()
                .select_related("zone", "cycle")
                .order_by("cycle__year", "zone__name_en")
            )
            for evaluation in awaiting:
                reminder_of(approver).to_approve.append(
                    _reminder_item(evaluation, evaluation.cycle.approval_deadline)
                )
    reminded_today = set(
        Notification.objects.filter(
            kind=NotificationKind.REMINDER, created_at__date=today
        ).values_list("recipient_id", flat=True)
    )
    return sorted(
        (r for pk, r in reminders.items() if pk not in reminded_today),
        key=lambda r: r.recipient.get_username(),
    )


def reminders_send(reminders: Sequence[Reminder]) -> list[Notification]:
    """Record each reminder as a notification (what makes a second run today send nothing)
    and e-mail it; returns the notifications."""
    with transaction.atomic():
        notifications = Notification.objects.bulk_create(
            Notification(
                recipient=r.recipient,
                kind=NotificationKind.REMINDER,
                params=r.params,
                link=reverse("evaluations:current_cycle_evaluations"),
                mail_pending=bool(r.recipient.email),
            )
            for r in reminders
        )
    notifications_mail(notifications)
    return notifications
