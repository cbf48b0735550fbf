"""A reviewer fills an evaluation; an approver returns it, then approves the corrected one."""

import datetime
import re

from playwright.sync_api import expect

from evaluations.framework import framework_load
from evaluations.models import EvaluationStatus
from evaluations.services import cycle_open, evaluation_assign
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_user, make_zone
from zonetracker.permissions import ADMINISTRATOR, APPROVER, REVIEWER


def an_assigned_evaluation():
    alice = make_user("alice", ADMINISTRATOR)
    carol = make_user("carol", REVIEWER)
    make_user("bob", APPROVER)
    make_zone(name_en="Alpha", name_zh="甲市")
    framework_load()
    cycle = cycle_open(year=2030, cutoff=datetime.date(2029, 12, 31))
    evaluation_assign(evaluations=cycle.evaluations.all(), reviewer=carol, by=alice)
    return cycle.evaluations.get()


def fill_every_value(page, evaluation, p1: str) -> None:
    for indicator in evaluation.cycle.indicators.all():
        value = p1 if indicator.code == "P1" else "5"
        if indicator.code == "R2":
            value = "12.5"
        page.get_by_label(re.compile(rf"^Value of {indicator.code} ")).fill(value)


def test_an_evaluation_goes_from_entry_to_return_to_approval(browser, live_server):
    evaluation = an_assigned_evaluation()
    url = f"/evaluations/{evaluation.pk}/"

    reviewer = browser.new_context(base_url=live_server.url).new_page()
    log_in(reviewer, "carol", PASSWORD)
    reviewer.goto(url)
    fill_every_value(reviewer, evaluation, p1="11")
    reviewer.get_by_role("button", name="Submit", exact=True).click()
    expect(reviewer.get_by_text("above the highest valid value").first).to_be_visible()
    expect(reviewer.get_by_label(re.compile(r"^Value of P1 "))).to_have_value("11")
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.DRAFT

    reviewer.get_by_label(re.compile(r"^Value of P1 ")).fill("8")
    reviewer.get_by_role("button", name="Submit", exact=True).click()
    expect(reviewer.get_by_text("The evaluation is submitted for approval.")).to_be_visible()
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SUBMITTED

    approver = browser.new_context(base_url=live_server.url).new_page()
    log_in(approver, "bob", PASSWORD)
    approver.goto(url)
    approver.get_by_label(re.compile("reason", re.IGNORECASE)).fill("R2 growth needs a source.")
    approver.get_by_role("button", name="Return").click()
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.RETURNED

    reviewer.goto(url)
    expect(reviewer.get_by_text("R2 growth needs a source.").first).to_be_visible()
    reviewer.get_by_label("Note on R2").fill("Customs statistics, table 4.")
    reviewer.get_by_role("button", name="Submit", exact=True).click()
    expect(reviewer.get_by_text("The evaluation is submitted for approval.")).to_be_visible()

    approver.goto(url)
    approver.get_by_role("button", name="Approve", exact=True).click()
    expect(approver.get_by_text("The evaluation is approved.")).to_be_visible()
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.approved_by.username) == (
        EvaluationStatus.APPROVED,
        "bob",
    )
    reviewer.goto(url)
    expect(reviewer.get_by_role("button", name="Save draft")).to_have_count(0)
