"""An Approver finds their work from the home page: the decisions awaiting them, in English
and in Chinese, and a Viewer reads how zones are graded from the rankings."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from evaluations.framework import framework_load
from evaluations.services import cycle_open, cycle_publish
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_user, make_zone, score_all
from zonetracker.permissions import APPROVER, VIEWER


@pytest.fixture
def a_warning_to_decide(db) -> None:
    """2029 published with grade 1 for Alpha alone: Charlie, graded 4, is recommended a
    warning that nobody has decided; 2030 open."""
    make_user("bob", APPROVER)
    make_user("dave", VIEWER)
    make_zone(name_en="Alpha", name_zh="甲市")
    make_zone(name_en="Bravo", name_zh="乙市")
    make_zone(name_en="Charlie", name_zh="丙市")
    framework_load()
    published = cycle_open(year=2029, cutoff=datetime.date(2028, 12, 31))
    published.grade1_size = 1
    published.save()
    score_all(published, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=published)
    cycle_open(year=2030, cutoff=datetime.date(2029, 12, 31))


def test_an_approver_finds_the_decisions_page_from_the_home_page(
    page, live_server, a_warning_to_decide
):
    log_in(page, "bob", PASSWORD)

    # Home leads with what waits for bob: one decision, Charlie's.
    expect(page).to_have_url(f"{live_server.url}/")
    waiting = page.locator("#waiting-decisions")
    expect(waiting.get_by_role("heading", name="Decisions awaiting 1")).to_be_visible()
    waiting.get_by_role("link", name="Charlie").click()
    expect(page).to_have_url(re.compile(r"/cycles/2029/decisions/#decision-\d+$"))
    expect(page.locator(page.url[page.url.index("#") :])).to_contain_text("Charlie")

    # From any page, the navigation's Decisions link says how many wait, and leads there.
    page.goto("/zones/")
    decisions = page.get_by_role("navigation", name="Main").get_by_role("link", name="Decisions")
    expect(decisions).to_contain_text("1")
    decisions.click()
    expect(page).to_have_url(f"{live_server.url}/cycles/2029/decisions/")


def test_an_approver_finds_the_decisions_page_in_chinese(browser, live_server, a_warning_to_decide):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("bob")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    waiting = page.locator("#waiting-decisions")
    expect(waiting.get_by_role("heading")).to_contain_text("待作处理决定")
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name="处理决定").click()
    expect(page).to_have_url(f"{live_server.url}/cycles/2029/decisions/")
    context.close()


def test_a_viewer_reads_how_zones_are_graded_from_the_rankings(page, a_warning_to_decide):
    log_in(page, "dave", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rankings").click()
    page.get_by_role("link", name="How zones are graded and removed").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("How zones are graded and removed")
    expect(page.get_by_text("the zone ranked first.")).to_be_visible()
