"""The evaluation journey in Chinese: a reviewer switches the language on the login page, logs
in through the Chinese form, fills an evaluation, meets a validation message in Chinese,
submits it, and reads the published rankings with the grades in Chinese."""

import datetime
import re

from playwright.sync_api import expect

from evaluations.framework import framework_load
from evaluations.models import EvaluationStatus
from evaluations.services import cycle_open, cycle_publish, evaluation_assign
from tests.factories import PASSWORD, make_user, make_zone, score_all
from zonetracker.permissions import ADMINISTRATOR, REVIEWER


def a_published_cycle_and_an_open_one():
    """2029 published (Alpha grade 1, Bravo grade 3, Charlie grade 4); 2030 open, carol's."""
    alice = make_user("alice", ADMINISTRATOR)
    carol = make_user("carol", REVIEWER)
    make_zone(name_en="Alpha", name_zh="甲市")
    make_zone(name_en="Bravo", name_zh="乙市")
    make_zone(name_en="Charlie", name_zh="丙市")
    framework_load()
    published = cycle_open(year=2029, cutoff=datetime.date(2028, 12, 31))
    published.grade1_size = 1
    published.save()
    score_all(published, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=published)
    current = cycle_open(year=2030, cutoff=datetime.date(2029, 12, 31))
    evaluation_assign(evaluations=current.evaluations.all(), reviewer=carol, by=alice)
    return current.evaluations.select_related("cycle").get(zone__name_en="Alpha")


def value_input(page, code: str):
    """An indicator's value input, by its Chinese label ("P1 实施方案落实情况 的数值（0～10）")."""
    return page.get_by_label(re.compile(rf"^{code} .+ 的数值（.+）$"))


def test_a_reviewer_works_in_chinese_from_the_login_page_to_the_rankings(page):
    evaluation = a_published_cycle_and_an_open_one()

    # The login page opens in English (the browser asks for en-GB) ...
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    # ... and the header's language switch turns it into Chinese.
    page.get_by_label("Language").select_option(label="简体中文")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.get_by_role("button", name="切换")).to_be_visible()

    # The login form in Chinese.
    page.get_by_label("用户名").fill("carol")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("评估")

    # The entry form: statuses, dimensions and the labels of the value inputs in Chinese.
    page.goto(f"/evaluations/{evaluation.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("甲市：2030年度评估")
    expect(page.locator(".facts")).to_contain_text("草稿")
    expect(page.locator(".facts")).to_contain_text("填报中")
    expect(page.get_by_role("heading", name="信息共享体系")).to_be_visible()
    expect(page.get_by_role("heading", name="线下产业园区")).to_be_visible()
    for indicator in evaluation.cycle.indicators.all():
        value = "11" if indicator.code == "P1" else "5"
        if indicator.code == "R2":
            value = "12.5"
        value_input(page, indicator.code).fill(value)
    page.get_by_label("R2 的备注").fill("海关统计数据，表4。")

    # Out of range: the message is Chinese, the values stay, nothing is submitted.
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_text(re.compile(r"11高于最大有效值10(\.0+)?。")).first).to_be_visible()
    expect(page.get_by_text("above the highest valid value")).to_have_count(0)
    expect(value_input(page, "P1")).to_have_value("11")
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.DRAFT

    value_input(page, "P1").fill("8")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_text("该评估已提交审核。")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("已提交")
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SUBMITTED
    assert evaluation.scores.get(indicator__code="R2").note == "海关统计数据，表4。"

    # The rankings, from the navigation: the latest published cycle, grades in Chinese.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="排名").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2029年度排名")
    table = page.locator("table.table--rankings")
    expect(table.get_by_role("columnheader", name="档次")).to_be_visible()
    grades = table.locator(".ranking__grade-name")
    expect(grades).to_have_text(["成效明显", "成效初显", "尚在起步阶段"])
    expect(table).to_contain_text("警示（予以警示，限期整改）")
    expect(page.get_by_text("notable results")).to_have_count(0)
