"""A year through the reporting chain in the browser: the zone reports with evidence, the
province returns it, the zone fixes it, the province forwards it, the Ministry verifies one
figure to another value with a reason, an Approver approves, and the rankings use the
verified value."""

import datetime
import re
from decimal import Decimal

from playwright.sync_api import expect

from evaluations.framework import framework_load
from evaluations.models import Evaluation, EvaluationStatus, Score
from evaluations.services import cycle_open, evaluation_assign
from registry.models import ProvinceReviewer, ZoneReporter
from tests.e2e.conftest import log_in
from tests.evidence_files import PDF
from tests.factories import PASSWORD, make_province, make_user, make_zone
from zonetracker.permissions import (
    ADMINISTRATOR,
    APPROVER,
    PROVINCIAL_REVIEWER,
    REVIEWER,
    ZONE_REPORTER,
)


def a_cycle_with_a_reporting_chain() -> Evaluation:
    alice = make_user("alice", ADMINISTRATOR)
    carol = make_user("carol", REVIEWER)
    make_user("bob", APPROVER)
    rita = make_user("rita", ZONE_REPORTER)
    paul = make_user("paul", PROVINCIAL_REVIEWER)
    province = make_province()
    for name_en, name_zh in [("Alpha", "甲市"), ("Bravo", "乙市"), ("Charlie", "丙市")]:
        make_zone(name_en=name_en, name_zh=name_zh, province=province)
    framework_load()
    cycle = cycle_open(year=2030, cutoff=datetime.date(2029, 12, 31))
    cycle.indicators.filter(code="R1").update(requires_evidence=True)
    evaluation_assign(evaluations=cycle.evaluations.all(), reviewer=carol, by=alice)
    for other in cycle.evaluations.exclude(zone__name_en="Alpha"):
        for indicator in cycle.indicators.all():
            Score.objects.create(evaluation=other, indicator=indicator, value=Decimal(5))
    alpha = cycle.evaluations.get(zone__name_en="Alpha")
    ZoneReporter.objects.create(user=rita, zone=alpha.zone)
    ProvinceReviewer.objects.create(user=paul, province=province)
    return alpha


def signed_in(browser, live_server, username: str):
    page = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = page.new_page()
    log_in(page, username, PASSWORD)
    return page


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_year_through_the_reporting_chain(browser, live_server):
    evaluation = a_cycle_with_a_reporting_chain()
    url = f"/reports/{evaluation.pk}/"
    codes = list(evaluation.cycle.indicators.values_list("code", flat=True))

    reporter = signed_in(browser, live_server, "rita")
    reporter.get_by_role("link", name="Reports").click()
    reporter.get_by_role("link", name="Alpha").click()
    assert fits_the_width(reporter)
    for code in codes:
        reporter.get_by_label(f"Reported value of {code}", exact=True).fill("5")
    reporter.get_by_role("button", name="Save draft").click()
    expect(reporter.get_by_text("The draft is saved.")).to_be_visible()
    reporter.get_by_label("Evidence file for R1", exact=True).set_input_files(
        {"name": "customs.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    reporter.get_by_role("button", name="Upload the file for R1").click()
    expect(reporter.get_by_text("The evidence file is kept.")).to_be_visible()
    reporter.get_by_role("button", name="Report to the province").click()
    expect(reporter.get_by_text("The report is sent to the province.")).to_be_visible()

    province = signed_in(browser, live_server, "paul")
    province.goto(url)
    expect(province.get_by_role("link", name="customs.pdf")).to_be_visible()
    province.get_by_label("Reason for return").fill("R3 needs the list of enterprises.")
    province.get_by_role("button", name="Return to the zone").click()
    expect(province.get_by_text("The report is returned to the zone.")).to_be_visible()

    reporter.goto(url)
    expect(reporter.locator(".report-returned")).to_contain_text(
        "R3 needs the list of enterprises."
    )
    reporter.get_by_label("Reported value of R3", exact=True).fill("6")
    reporter.get_by_label("Note on R3", exact=True).fill("List attached to R1's file.")
    reporter.get_by_role("button", name="Report to the province").click()
    expect(reporter.get_by_text("The report is sent to the province.")).to_be_visible()

    province.goto(url)
    province.get_by_role("button", name="Forward to the Ministry").click()
    expect(province.get_by_text("The report is forwarded to the Ministry.")).to_be_visible()

    ministry = signed_in(browser, live_server, "carol")
    ministry.goto(url)
    assert fits_the_width(ministry)
    ministry.get_by_label("Accepted value of P1", exact=True).fill("10")
    ministry.get_by_role("button", name="Verify and submit for approval").click()
    expect(
        ministry.get_by_text("The accepted value differs from the reported one: say why.")
    ).to_be_visible()
    ministry.get_by_label("Accepted value of P1", exact=True).fill("10")
    ministry.get_by_label("Reason for the accepted value of P1", exact=True).fill(
        "The plan's last task was done in December."
    )
    ministry.get_by_role("button", name="Verify and submit for approval").click()
    expect(
        ministry.get_by_text("The report is verified and submitted for approval.")
    ).to_be_visible()

    approver = signed_in(browser, live_server, "bob")
    approver.goto(f"/evaluations/{evaluation.pk}/")
    approver.get_by_role("button", name="Approve", exact=True).click()
    expect(approver.get_by_text("The evaluation is approved.")).to_be_visible()

    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.APPROVED
    p1 = Score.objects.get(evaluation=evaluation, indicator__code="P1")
    assert (p1.reported_value, p1.value) == (Decimal(5), Decimal(10))
    approver.goto("/cycles/2030/rankings/")
    expect(approver.get_by_role("row", name=re.compile(r"^1 Alpha "))).to_be_visible()
    expect(approver.get_by_role("row", name=re.compile(r"^2 Bravo "))).to_be_visible()
    assert evaluation.rank == 1


def test_the_report_page_fits_1280_pixels_in_chinese(browser, live_server):
    evaluation = a_cycle_with_a_reporting_chain()
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill("rita")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"/reports/{evaluation.pk}/")
    expect(page.get_by_role("button", name=re.compile("上报至省级"))).to_be_visible()
    assert fits_the_width(page)
