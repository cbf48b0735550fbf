"""An Approver decides several exits at once on the decisions table, through the confirmation
that says what an exit does, and cancels a single exit at its confirmation.
"""

import datetime

from playwright.sync_api import expect

from evaluations.framework import framework_load
from evaluations.models import Decision, Evaluation, Recommendation
from evaluations.services import cycle_open, cycle_publish
from registry.models import Zone, ZoneStatus
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_batch, make_province, make_user, make_zone, score_all
from zonetracker.permissions import APPROVER


def a_year_with_exits_to_decide() -> None:
    """2021 published: Charlie warned, Alpha and Bravo recommended for exit; 2022 open."""
    make_user("bob", APPROVER)
    framework_load()
    province = make_province()
    batch = make_batch(approved_on=datetime.date(2019, 12, 15))
    for name_en, name_zh in (("Alpha", "甲市"), ("Bravo", "乙市"), ("Charlie", "丙市")):
        make_zone(name_en=name_en, name_zh=name_zh, province=province, batch=batch)
    cycle = cycle_open(year=2021)
    cycle.grade1_size = 1
    cycle.save()
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle)
    for name in ("Alpha", "Bravo"):
        Decision.objects.create(
            cycle=cycle, zone=Zone.objects.get(name_en=name), recommendation=Recommendation.EXIT
        )
    cycle_open(year=2022)


def statuses() -> dict[str, str]:
    return dict(Zone.objects.values_list("name_en", "status"))


def test_an_approver_exits_two_zones_after_confirming_what_it_does(page) -> None:
    a_year_with_exits_to_decide()
    log_in(page, "bob", PASSWORD)
    page.goto("/cycles/2021/decisions/")

    # Nothing is chosen for the approver.
    expect(page.locator("#bulk-outcome")).to_have_value("")
    page.get_by_label("Select Alpha").check()
    page.get_by_label("Select Bravo").check()
    page.locator("#bulk-outcome").select_option("exit")
    page.locator("#bulk-rationale").fill("Graded 4 in two cycles in a row.")
    page.get_by_role("button", name="Record for the selected cases").click()

    expect(page.get_by_role("heading", name="Confirm the exit of 2 zones")).to_be_visible()
    expect(page.get_by_text("its status becomes “exited” from")).to_be_visible()
    expect(page.get_by_text("the evaluation of 2022 (draft) is withdrawn")).to_have_count(2)
    assert statuses() == {"Alpha": "active", "Bravo": "active", "Charlie": "active"}
    assert Evaluation.objects.filter(cycle__year=2022).count() == 3

    page.get_by_role("button", name="Confirm the exit of 2 zones").click()

    expect(page.get_by_text("Alpha: “exit” is recorded. The zone is now exited.")).to_be_visible()
    expect(page.get_by_text("Bravo: “exit” is recorded. The zone is now exited.")).to_be_visible()
    assert statuses()["Alpha"] == statuses()["Bravo"] == ZoneStatus.EXITED
    assert list(
        Evaluation.objects.filter(cycle__year=2022).values_list("zone__name_en", flat=True)
    ) == ["Charlie"]


def test_an_exit_in_one_row_is_cancelled_at_its_confirmation_and_nothing_changes(page) -> None:
    a_year_with_exits_to_decide()
    log_in(page, "bob", PASSWORD)
    page.goto("/cycles/2021/decisions/")
    charlie = Decision.objects.get(zone__name_en="Charlie")
    row = page.locator(f"#decision-{charlie.pk}")

    row.get_by_label("Decision").select_option("exit")
    row.get_by_label("Rationale").fill("Too weak.")
    row.get_by_role("button", name="Record the decision").click()

    expect(page.get_by_role("heading", name="Confirm the exit of 1 zone")).to_be_visible()
    page.get_by_role("link", name="Cancel: go back without recording anything").click()

    expect(
        page.get_by_role("heading", name="Decisions after the evaluation of 2021")
    ).to_be_visible()
    assert statuses()["Charlie"] == ZoneStatus.ACTIVE
    assert Decision.objects.get(pk=charlie.pk).outcome == ""


def test_select_all_ticks_every_case_on_the_page_and_clears_them_again(page) -> None:
    a_year_with_exits_to_decide()
    log_in(page, "bob", PASSWORD)
    page.goto("/cycles/2021/decisions/")

    select_all = page.get_by_label("Select every case on this page")
    select_all.check()
    expect(page.get_by_label("Select Alpha")).to_be_checked()
    expect(page.get_by_label("Select Bravo")).to_be_checked()
    select_all.uncheck()
    expect(page.get_by_label("Select Alpha")).not_to_be_checked()
