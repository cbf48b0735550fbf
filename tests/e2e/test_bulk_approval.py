"""An Approver approves a page of the queue at once; the one they entered is refused (four
eyes) and named with the reason, in English and in Chinese."""

import datetime

import pytest
from playwright.sync_api import expect

from evaluations.framework import framework_load
from evaluations.models import EvaluationStatus
from evaluations.services import cycle_open
from tests.e2e.conftest import log_in
from tests.evaluations.test_bulk_actions import submit
from tests.factories import PASSWORD, make_user, make_zone
from zonetracker.permissions import ADMINISTRATOR, APPROVER, REVIEWER


def three_submitted_one_by_the_approver():
    """Alpha submitted by carol, Bravo by bob (an Approver who also reviews), Charlie by erin."""
    alice = make_user("alice", ADMINISTRATOR)
    bob = make_user("bob", APPROVER, REVIEWER)
    carol = make_user("carol", REVIEWER)
    erin = make_user("erin", REVIEWER)
    for name_en, name_zh in [("Alpha", "甲市"), ("Bravo", "乙市"), ("Charlie", "丙市")]:
        make_zone(name_en=name_en, name_zh=name_zh)
    framework_load()
    cycle = cycle_open(year=2030, cutoff=datetime.date(2029, 12, 31))
    submit(cycle, "Alpha", carol, alice)
    submit(cycle, "Bravo", bob, alice)
    submit(cycle, "Charlie", erin, alice)
    return cycle


TEXTS = {
    "en-GB": {
        "select_all": "Select every evaluation on this page",
        "approve": "Approve selected",
        "done": "2 evaluations approved.",
        "refused": "Not approved: Bravo. You cannot approve an evaluation you entered or edited.",
    },
    "zh-CN": {
        "select_all": "全选本页评估",
        "approve": "审核通过所选评估",
        "done": "已审核通过2项评估。",
        "refused": "未予审核通过：乙市。",
    },
}


@pytest.mark.parametrize("locale", list(TEXTS))
def test_an_approver_approves_a_page_at_once_and_is_told_which_one_four_eyes_refused(
    browser, live_server, locale: str
) -> None:
    cycle = three_submitted_one_by_the_approver()
    texts = TEXTS[locale]
    context = browser.new_context(base_url=live_server.url, locale=locale)
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto("/accounts/login/")
    if locale == "en-GB":
        log_in(page, "bob", PASSWORD)
    else:
        page.get_by_label("用户名").fill("bob")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录", exact=True).click()

    page.goto(f"/cycles/{cycle.year}/evaluations/")
    rows = page.locator('tbody input[name="evaluation"]')
    expect(rows).to_have_count(3)
    # The header's box (shown by the static script) checks every row of the page.
    page.get_by_label(texts["select_all"]).check()
    for n in range(3):
        expect(rows.nth(n)).to_be_checked()
    page.get_by_role("button", name=texts["approve"]).click()

    expect(page.get_by_text(texts["done"])).to_be_visible()
    expect(page.get_by_text(texts["refused"])).to_be_visible()
    assert dict(cycle.evaluations.values_list("zone__name_en", "status")) == {
        "Alpha": EvaluationStatus.APPROVED,
        "Bravo": EvaluationStatus.SUBMITTED,
        "Charlie": EvaluationStatus.APPROVED,
    }
    context.close()
    assert not violations, violations
