"""Each role of the reporting chain at 1280 pixels, in English and in Chinese: the reports
list and a report page (the zone's reporter, its provincial reviewer, the Ministry's reviewer),
a flagged figure explained by the zone and read by the reviewers, and the admin's import of a
scope file."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from evaluations.models import Cycle, Evaluation, EvaluationStatus, Score
from evaluations.reporting import evidence_add
from registry.models import ZoneReporter
from tests.e2e.test_reporting_chain_journey import a_cycle_with_a_reporting_chain, fits_the_width
from tests.evidence_files import PDF
from tests.factories import PASSWORD, make_user
from zonetracker.permissions import ZONE_REPORTER

LOCALES = {"en": "en-GB", "zh-hans": "zh-CN"}
TEXT = {
    "en": {
        "reports": "Reports of 2030",
        "without_reason": "Flagged without reason: 1 figure.",
        "explained": "Flagged without reason: 0 figures.",
        "reason": "The zone's reason: Same park, same count.",
        "preview": "Preview of the scope file",
    },
    "zh-hans": {
        "reports": "2030",
        "without_reason": "被标记但未说明理由：1个数值。",
        "explained": "被标记但未说明理由：0个数值。",
        "reason": "综试区的理由：Same park, same count.",
        "preview": "负责范围文件预览",
    },
}


def signed_in(browser, live_server, username: str, language: str):
    context = browser.new_context(
        base_url=live_server.url, locale=LOCALES[language], viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_load_state()
    return page


def a_report_with_a_figure_flagged_as_last_years() -> Evaluation:
    alpha = a_cycle_with_a_reporting_chain()
    earlier = Cycle.objects.create(year=2029, cutoff=datetime.date(2028, 12, 31))
    last_year = Evaluation.objects.create(cycle=earlier, zone=alpha.zone)
    r3 = alpha.cycle.indicators.get(code="R3")
    Score.objects.create(evaluation=last_year, indicator=r3, value=Decimal(5))
    evidence_add(
        evaluation=alpha,
        indicator=alpha.cycle.indicators.get(code="R1"),
        upload=SimpleUploadedFile("customs.pdf", PDF),
        by=ZoneReporter.objects.get().user,
    )
    return alpha


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_role_of_the_chain_uses_its_pages_at_1280_pixels(browser, live_server, language):
    evaluation = a_report_with_a_figure_flagged_as_last_years()
    text = TEXT[language]
    url = f"/reports/{evaluation.pk}/"
    r3 = evaluation.cycle.indicators.get(code="R3")

    reporter = signed_in(browser, live_server, "rita", language)
    reporter.goto("/cycles/2030/reports/")
    expect(reporter.locator("h1")).to_contain_text(text["reports"])
    assert fits_the_width(reporter)
    reporter.goto(url)
    for indicator in evaluation.cycle.indicators.all():
        reporter.locator(f"input[name=value_{indicator.pk}]").fill("5")
    reporter.locator("button[form=report-form]:not([name])").click()
    # Saved, R3 equals last year's figure: the reporter is asked why, beside the flag.
    reason = reporter.locator(f"input[name=flag_reason_{r3.pk}]")
    expect(reason).to_be_visible()
    assert fits_the_width(reporter)
    reporter.locator("button[form=report-form][name=send]").click()
    expect(reporter.locator(".badge--reported")).to_be_visible()

    province = signed_in(browser, live_server, "paul", language)
    province.goto("/cycles/2030/reports/")
    expect(province.locator(".flag-summary--without-reason")).to_have_text(text["without_reason"])
    assert fits_the_width(province)
    province.goto(url)
    expect(province.locator(".flag--without-reason")).to_be_visible()
    assert fits_the_width(province)
    province.locator(".return-form textarea").fill("R3: why the same as last year?")
    province.locator(".return-form button").click()
    expect(province.locator(".badge--returned")).to_be_visible()

    reporter.goto(url)
    expect(reporter.locator(".report-returned")).to_contain_text("R3: why the same")
    reporter.locator(f"input[name=flag_reason_{r3.pk}]").fill("Same park, same count.")
    reporter.locator("button[form=report-form][name=send]").click()
    expect(reporter.locator(".badge--reported")).to_be_visible()

    province.goto("/cycles/2030/reports/")
    expect(province.locator(".flag-summary--without-reason")).to_have_text(text["explained"])
    province.goto(url)
    expect(province.locator(".flag-reason")).to_have_text(text["reason"])
    province.locator("form[action$='/forward/'] button").click()
    expect(province.locator(".badge--forwarded")).to_be_visible()

    ministry = signed_in(browser, live_server, "carol", language)
    ministry.goto(url)
    expect(ministry.locator(".flag-reason")).to_have_text(text["reason"])
    assert fits_the_width(ministry)
    ministry.locator("button[form=verify-form]").click()
    expect(ministry.locator("dl .badge--submitted")).to_be_visible()
    assert Evaluation.objects.get(pk=evaluation.pk).status == EvaluationStatus.SUBMITTED


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_administrator_imports_a_scope_file_in_the_admin_at_1280_pixels(
    browser, live_server, language, tmp_path
):
    a_cycle_with_a_reporting_chain()
    make_user("ruth", ZONE_REPORTER)
    admin = signed_in(browser, live_server, "alice", language)
    admin.goto("/admin/registry/zonereporter/")
    admin.locator("a[href$='/admin/registry/zonereporter/import/']").click()
    assert fits_the_width(admin)
    scope_file = tmp_path / "scopes.csv"
    scope_file.write_text("用户名,综试区\nruth,乙市\n", encoding="utf-8")
    admin.locator("input[name=import_file]").set_input_files(str(scope_file))
    admin.locator(".import-scopes-upload input[type=submit]").click()
    expect(admin.locator("h2").filter(has_text=text_preview(language))).to_be_visible()
    expect(admin.locator(".import-preview")).to_contain_text("ruth")
    assert fits_the_width(admin)
    assert not ZoneReporter.objects.filter(user__username="ruth").exists()
    admin.locator("input[name=confirm]").click()
    expect(admin.locator(".messagelist .success")).to_be_visible()
    assert ZoneReporter.objects.get(user__username="ruth").zone.name_en == "Bravo"


def text_preview(language: str) -> str:
    return TEXT[language]["preview"]
