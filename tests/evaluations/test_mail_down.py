"""The mail server down: the change is made, its notification kept, its e-mail sent later.

An e-mail that could not leave (the server refused, or the process ended before sending)
waits on its notification (``mail_pending``); ``send_reminders`` sends it again; after
``MAIL_ATTEMPTS`` failures it is logged as failed. Never lost silently, never a 500.
"""

from __future__ import annotations

import io
import logging

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from evaluations.models import Evaluation, EvaluationStatus, Notification, NotificationKind
from evaluations.notifications import MAIL_ATTEMPTS
from evaluations.services import evaluation_save, evaluation_submit
from tests.evaluations.test_services import full_scores

pytestmark = pytest.mark.faults


@pytest.fixture
def submitted(cycle, alice, bob, carol) -> Evaluation:
    """Alpha's evaluation, entered and submitted by carol; bob and carol have addresses."""
    for user in (bob, carol):
        user.email = f"{user.username}@example.org"
        user.save()
    evaluation = cycle.evaluations.get(zone__name_en="Alpha")
    Evaluation.objects.filter(pk=evaluation.pk).update(reviewer=carol)
    evaluation.refresh_from_db()
    evaluation_save(
        evaluation=evaluation, by=carol, scores=full_scores(evaluation), version=evaluation.version
    )
    return evaluation_submit(evaluation=evaluation, by=carol)


@pytest.fixture
def mail_server_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # nothing listens there: the connection is refused
    settings.EMAIL_TIMEOUT = 1


def mail_server_up(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def return_through_the_page(client: Client, evaluation: Evaluation, bob, callbacks):
    client.force_login(bob)
    with callbacks(execute=True):
        return client.post(
            reverse("evaluations:evaluation_return", args=[evaluation.pk]),
            {"version": evaluation.version, "reason": "The export figure lacks its source."},
        )


def test_a_return_with_the_mail_server_down_succeeds_and_keeps_the_e_mail_to_send(
    client, submitted, bob, carol, mail_server_down, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.ERROR, logger="evaluations.notifications"):
        response = return_through_the_page(
            client, submitted, bob, django_capture_on_commit_callbacks
        )

    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == EvaluationStatus.RETURNED
    notification = Notification.objects.get(recipient=carol, kind=NotificationKind.RETURNED)
    assert notification.mail_pending
    assert notification.mail_attempts == 1
    assert "kept to send again" in caplog.text


def test_send_reminders_sends_the_e_mail_once_the_server_is_back(
    client, submitted, bob, carol, mail_server_down, settings, django_capture_on_commit_callbacks
):
    return_through_the_page(client, submitted, bob, django_capture_on_commit_callbacks)
    mail_server_up(settings)

    call_command("send_reminders", stdout=(output := io.StringIO()))

    # bob's of the submission (its on-commit send never ran in the fixture) and carol's.
    assert [m.to for m in mail.outbox] == [["bob@example.org"], ["carol@example.org"]]
    assert "was returned" in mail.outbox[1].body
    assert not Notification.objects.filter(mail_pending=True).exists()
    assert "2 notification e-mails sent that had failed before; 0 still waiting" in (
        output.getvalue()
    )

    call_command("send_reminders", stdout=io.StringIO())
    assert len(mail.outbox) == 2  # sent once, not again


def test_an_e_mail_not_sent_before_the_process_ended_is_sent_by_the_next_run(
    submitted, bob, carol, settings
):
    """The notification commits with the change; a process killed before its on-commit send
    leaves the e-mail waiting, not lost."""
    mail_server_up(settings)
    notification = Notification.objects.get(recipient=bob, kind=NotificationKind.SUBMITTED)
    assert notification.mail_pending  # the fixture's on-commit send never ran

    call_command("send_reminders", stdout=io.StringIO())

    assert [m.to for m in mail.outbox] == [["bob@example.org"]]
    notification.refresh_from_db()
    assert not notification.mail_pending


def test_an_e_mail_that_keeps_failing_is_logged_as_failed_and_the_notification_stays(
    submitted, bob, mail_server_down, caplog
):
    with caplog.at_level(logging.ERROR, logger="evaluations.notifications"):
        for _attempt in range(MAIL_ATTEMPTS):
            call_command("send_reminders", stdout=io.StringIO())

    notification = Notification.objects.get(recipient=bob, kind=NotificationKind.SUBMITTED)
    assert not notification.mail_pending
    assert notification.mail_attempts == MAIL_ATTEMPTS
    assert f"its e-mail to bob@example.org failed {MAIL_ATTEMPTS} times and is given up" in (
        caplog.text
    )
    assert Notification.objects.filter(recipient=bob).unread().count() == 1
