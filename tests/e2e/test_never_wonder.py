"""In Chromium, in both languages: a failed save keeps every value and names the problems at
the top, and a submission shows in the provisional rankings at once."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from evaluations.framework import framework_load
from evaluations.models import EvaluationStatus, Score
from evaluations.services import cycle_open, evaluation_assign, rankings_compute
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_user, make_zone, score_all
from zonetracker.permissions import ADMINISTRATOR, APPROVER, REVIEWER

LANGUAGES = {
    "en": {"one": "1 field needs attention", "nothing": "Nothing was saved"},
    "zh-hans": {"one": "有1项需要更正", "nothing": "未保存任何内容"},
}


def an_open_cycle():
    """2030 open: Bravo complete and ranked, Alpha empty and carol's."""
    alice = make_user("alice", ADMINISTRATOR)
    carol = make_user("carol", REVIEWER)
    make_user("bob", APPROVER)
    make_zone(name_en="Alpha", name_zh="甲市")
    make_zone(name_en="Bravo", name_zh="乙市")
    framework_load()
    cycle = cycle_open(year=2030, cutoff=datetime.date(2029, 12, 31))
    score_all(cycle, {"Alpha": 0, "Bravo": 5}, status=EvaluationStatus.DRAFT)
    Score.objects.filter(evaluation__zone__name_en="Alpha").delete()
    rankings_compute(cycle=cycle)
    alpha = cycle.evaluations.get(zone__name_en="Alpha")
    evaluation_assign(evaluations=cycle.evaluations.filter(pk=alpha.pk), reviewer=carol, by=alice)
    return cycle.evaluations.select_related("cycle").get(pk=alpha.pk)


def in_language(page, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])


def typed_values(evaluation, bad_code: str | None = None) -> dict[int, str]:
    """A value for every indicator, better than Bravo's; ``bad_code`` gets one that is no number."""
    values = {}
    for indicator in evaluation.cycle.indicators.all():
        value = "10" if indicator.kind == "points" else "101"
        values[indicator.pk] = "abc" if indicator.code == bad_code else value
    return values


def fill(page, values: dict[int, str]) -> None:
    for pk, value in values.items():
        page.locator(f"#id_value_{pk}").fill(value)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_failed_save_keeps_every_value_and_links_to_the_field_in_trouble(
    page, language: str
) -> None:
    evaluation = an_open_cycle()
    log_in(page, "carol", PASSWORD)
    in_language(page, language)
    page.goto(f"/evaluations/{evaluation.pk}/")
    values = typed_values(evaluation, bad_code="P2")
    fill(page, values)
    page.locator(".entry-form button[type=submit]").first.click()

    summary = page.locator(".error-summary")
    expect(summary).to_contain_text(LANGUAGES[language]["one"])
    expect(summary).to_contain_text(LANGUAGES[language]["nothing"])
    for pk, value in values.items():
        expect(page.locator(f"#id_value_{pk}")).to_have_value(value)
    p2 = evaluation.cycle.indicators.get(code="P2")
    summary.locator(f'a[href="#id_value_{p2.pk}"]').click()
    assert page.url.endswith(f"#id_value_{p2.pk}")
    assert not Score.objects.filter(evaluation=evaluation).exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_submission_moves_the_provisional_ranks_at_once(page, language: str) -> None:
    evaluation = an_open_cycle()
    log_in(page, "carol", PASSWORD)
    in_language(page, language)
    page.goto("/cycles/2030/rankings/")
    ranks = page.locator(".table--rankings tbody tr")
    expect(ranks).to_have_count(1)

    page.goto(f"/evaluations/{evaluation.pk}/")
    fill(page, typed_values(evaluation))
    page.locator(".entry-form button[type=submit]").nth(1).click()
    expect(page.locator(".badge--submitted").first).to_be_visible()

    page.goto("/cycles/2030/rankings/")
    expect(ranks).to_have_count(2)
    expect(ranks.first).to_contain_text("甲市" if language == "zh-hans" else "Alpha")
    expect(page.locator(".provisional-note time")).to_have_count(1)
