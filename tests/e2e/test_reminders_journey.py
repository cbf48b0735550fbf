"""A deadline passes: the queue marks the late work, the daily reminder e-mails the reviewer,
and she finds it among her notifications, in English and in Chinese."""

import datetime
from io import StringIO

from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from evaluations.framework import framework_load
from evaluations.services import cycle_open, evaluation_assign
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_user, make_zone
from zonetracker.permissions import ADMINISTRATOR, REVIEWER


def a_late_evaluation() -> None:
    alice = make_user("alice", ADMINISTRATOR)
    carol = make_user("carol", REVIEWER)
    carol.email = "carol@example.org"
    carol.save()
    make_zone(name_en="Alpha", name_zh="甲市")
    framework_load()
    cycle = cycle_open(year=2030, cutoff=datetime.date(2029, 12, 31))
    cycle.entry_deadline = timezone.localdate() - datetime.timedelta(days=1)
    cycle.save()
    evaluation_assign(evaluations=cycle.evaluations.all(), reviewer=carol, by=alice)


def test_a_reviewer_is_reminded_of_late_work_and_reads_it_in_both_languages(page):
    a_late_evaluation()
    log_in(page, "carol", PASSWORD)

    page.goto("/evaluations/")
    expect(page.locator(".badge--overdue")).to_have_text("overdue")

    call_command("send_reminders", stdout=StringIO())
    [reminder] = mail.outbox
    assert reminder.to == ["carol@example.org"]
    assert "Alpha (2030)" in reminder.body and "甲市" in reminder.body

    page.goto("/")
    nav_link = page.get_by_role("link", name="Notifications 1")
    expect(nav_link).to_be_visible()
    nav_link.click()
    expect(
        page.get_by_text(
            "Reminder, deadlines near or past: evaluations to enter, 1; to approve, 0."
        )
    ).to_be_visible()

    page.get_by_label("Language").select_option(label="简体中文")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="通知")).to_be_visible()
    expect(
        page.get_by_text("提醒：截止日期临近或已过，待填报评估1项，待审核评估0项。")
    ).to_be_visible()
    page.get_by_role("button", name="全部标记为已读").click()
    expect(page.get_by_role("link", name="通知", exact=True)).to_be_visible()

    page.goto("/evaluations/")
    expect(page.locator(".badge--overdue")).to_have_text("已逾期")
