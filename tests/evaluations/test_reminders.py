"""Deadlines for entry and approval: overdue work marked in the queue, and daily reminders."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evaluations.models import Cycle, Evaluation, EvaluationStatus, Notification, NotificationKind
from tests.factories import PASSWORD, make_user
from zonetracker.permissions import APPROVER

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def addresses(alice, bob, carol, erin):
    for user in (alice, bob, carol, erin):
        user.email = f"{user.username}@example.org"
        user.save()


@pytest.fixture
def work(cycle: Cycle, carol: User, erin: User) -> Cycle:
    """Alpha and Bravo to carol (Alpha submitted), Charlie to erin."""
    Evaluation.objects.filter(cycle=cycle, zone__name_en__in=["Alpha", "Bravo"]).update(
        reviewer=carol
    )
    Evaluation.objects.filter(cycle=cycle, zone__name_en="Charlie").update(reviewer=erin)
    Evaluation.objects.filter(cycle=cycle, zone__name_en="Alpha").update(
        status=EvaluationStatus.SUBMITTED, submitted_by=carol
    )
    return cycle


def set_deadlines(cycle: Cycle, entry: datetime.date | None, approval: datetime.date | None):
    cycle.entry_deadline = entry
    cycle.approval_deadline = approval
    cycle.full_clean()
    cycle.save()


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def test_reminders_go_one_per_person_listing_their_work_near_the_deadlines(work, bob):
    set_deadlines(work, TODAY + 2 * DAY, TODAY + 3 * DAY)

    run()

    by_address = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_address) == ["bob@example.org", "carol@example.org", "erin@example.org"]
    carol_mail = by_address["carol@example.org"].body
    assert "Bravo (2021)" in carol_mail  # to enter
    assert "Alpha (2021)" not in carol_mail  # submitted already
    assert f"To enter by {(TODAY + 2 * DAY).isoformat()}" in carol_mail
    assert "乙市" in carol_mail
    bob_mail = by_address["bob@example.org"].body
    assert "Alpha (2021)" in bob_mail
    assert f"To approve by {(TODAY + 3 * DAY).isoformat()}" in bob_mail


def test_reminders_are_sent_once_a_day_however_often_the_command_runs(work):
    set_deadlines(work, TODAY - DAY, TODAY - DAY)

    run()
    first = len(mail.outbox)
    run()

    assert first == 3
    assert len(mail.outbox) == first
    assert Notification.objects.filter(kind=NotificationKind.REMINDER).count() == first


def test_a_dry_run_says_who_would_be_reminded_and_sends_and_records_nothing(work):
    set_deadlines(work, TODAY, TODAY)

    out = run("--dry-run")

    assert "carol <carol@example.org>: 1 to enter, 0 to approve" in out
    assert "bob <bob@example.org>: 0 to enter, 1 to approve" in out
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_nobody_is_reminded_far_from_a_deadline_or_without_one(work):
    set_deadlines(work, TODAY + 30 * DAY, None)
    run()
    assert mail.outbox == []


def test_an_approver_is_not_reminded_of_what_four_eyes_forbids_them(work, bob):
    frank = make_user("frank", APPROVER)
    frank.email = "frank@example.org"
    frank.save()
    # frank edited Alpha's evaluation (saved, so that its history, which four eyes reads,
    # records it).
    alpha = Evaluation.objects.get(cycle=work, zone__name_en="Alpha")
    alpha.last_edited_by = frank
    alpha.save()
    set_deadlines(work, None, TODAY)

    run()

    assert [m.to for m in mail.outbox] == [["bob@example.org"]]


def test_a_cycle_in_review_reminds_approvers_but_no_longer_asks_for_entry(work):
    set_deadlines(work, TODAY - DAY, TODAY - DAY)
    Cycle.objects.filter(pk=work.pk).update(status="in_review")
    run()
    assert [m.to for m in mail.outbox] == [["bob@example.org"]]


def test_a_published_cycle_reminds_nobody(work):
    set_deadlines(work, TODAY - DAY, TODAY - DAY)
    Cycle.objects.filter(pk=work.pk).update(status="published")
    run()
    assert mail.outbox == []


def test_the_approval_deadline_cannot_come_before_the_entry_deadline(cycle):
    with pytest.raises(ValidationError, match="approval deadline"):
        set_deadlines(cycle, TODAY, TODAY - DAY)


# --- overdue in the queue -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "entry", "approval", "overdue"),
    [
        (EvaluationStatus.DRAFT, -1, None, True),
        (EvaluationStatus.RETURNED, -1, None, True),
        (EvaluationStatus.DRAFT, 0, None, False),  # due today is not late yet
        (EvaluationStatus.DRAFT, None, -1, False),
        (EvaluationStatus.SUBMITTED, -5, 1, False),
        (EvaluationStatus.SUBMITTED, -5, -1, True),
        (EvaluationStatus.APPROVED, -5, -1, False),
    ],
)
def test_an_evaluation_is_overdue_past_the_deadline_of_the_step_it_waits_on(
    cycle, status, entry, approval, overdue
):
    set_deadlines(
        cycle,
        None if entry is None else TODAY + entry * DAY,
        None if approval is None else TODAY + approval * DAY,
    )
    evaluation = cycle.evaluations.first()
    evaluation.status = status
    assert evaluation.is_overdue is overdue


def test_the_queue_marks_overdue_evaluations(work, bob):
    set_deadlines(work, TODAY - DAY, TODAY + DAY)
    client = Client()
    client.login(username="bob", password=PASSWORD)

    page = client.get(reverse("evaluations:cycle_evaluations", args=[work.year])).content.decode()

    # Bravo and Charlie are still to enter after the deadline; Alpha waits for approval in time.
    assert page.count('<span class="badge badge--overdue">overdue</span>') == 2
    chinese = client.get(
        reverse("evaluations:cycle_evaluations", args=[work.year]),
        headers={"accept-language": "zh-hans"},
    ).content.decode()
    assert chinese.count(">已逾期</span>") == 2


def test_deadlines_are_set_in_the_admin_while_the_cycle_is_open(cycle, alice):
    client = Client()
    client.login(username="alice", password=PASSWORD)
    url = reverse("admin:evaluations_cycle_change", args=[cycle.pk])
    page = client.get(url).content.decode()
    assert 'name="entry_deadline"' in page
    assert 'name="approval_deadline"' in page
    Cycle.objects.filter(pk=cycle.pk).update(status="published")
    assert 'name="entry_deadline"' not in client.get(url).content.decode()
