"""An Approver tries another policy on the open cycle in a real browser, filters the zones it
changes and downloads them; an Administrator then saves the trial as the cycle's policy."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import expect

from evaluations.framework import framework_load
from evaluations.models import Cycle, ExitRule
from evaluations.services import cycle_open, cycle_publish, rankings_compute
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_batch, make_province, make_user, make_zone, score_all
from zonetracker.permissions import ADMINISTRATOR, APPROVER

SHARES = {"Alpha": 10, "Bravo": 9, "Charlie": 8, "Delta": 2, "Echo": 1}


def build_cycles() -> None:
    framework_load()
    province, batch = make_province(), make_batch()
    for name in SHARES:
        make_zone(name_en=name, name_zh=f"{name}区", province=province, batch=batch)
    published = cycle_open(year=2021)
    published.grade1_size = 1
    published.save()
    score_all(published, SHARES)
    cycle_publish(cycle=published)
    current = cycle_open(year=2022)
    score_all(current, SHARES)
    rankings_compute(cycle=current)


def test_an_approver_tries_a_policy_and_an_administrator_saves_it(page, transactional_db):
    build_cycles()
    make_user("bob", APPROVER)
    make_user("alice", ADMINISTRATOR)

    log_in(page, "bob", PASSWORD)
    page.goto("/cycles/2022/methodology/")
    page.get_by_role("link", name="Try another policy on this cycle").click()
    expect(page.get_by_role("heading", name="What if: the evaluation of 2022")).to_be_visible()

    page.get_by_label("size of grade 1").fill("3")
    page.get_by_label("exit rule").select_option("region-bottom")
    page.get_by_label("size of the bottom (K)").fill("1")
    page.get_by_role("button", name="Try this policy").click()

    counts = page.locator("table.table--what-if-counts tbody tr").first
    expect(counts).to_contain_text("1")
    expect(counts).to_contain_text("3")
    rows = page.locator("table.table--what-if tbody tr")
    # Bravo and Charlie rise to grade 1; Delta, no longer recommended for exit.
    expect(rows).to_have_count(3)
    expect(
        page.get_by_text("Under the trial, 3 zones change grade or recommendation.")
    ).to_be_visible()
    # An Approver tries; saving is for Administrators.
    expect(page.get_by_role("button", name="Save the trial as the cycle's policy")).to_have_count(0)

    trial_url = page.url
    page.get_by_label("Show").select_option("grade")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(rows).to_have_count(2)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV (Excel)").click()
    download = download_info.value
    assert download.suggested_filename == "zonetracker-what-if-2022.csv"
    table = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert [(r["zone"], r["trial_grade"]) for r in table] == [("Bravo", "1"), ("Charlie", "1")]
    assert all(r["grade"] != "1" for r in table)
    assert Cycle.objects.get(year=2022).grade1_size == 1  # trying wrote nothing

    page.context.clear_cookies()
    log_in(page, "alice", PASSWORD)
    page.goto(trial_url)
    page.get_by_role("button", name="Save the trial as the cycle's policy").click()
    expect(
        page.get_by_text("The trial is now the policy of the evaluation of 2022.")
    ).to_be_visible()
    cycle = Cycle.objects.get(year=2022)
    assert (cycle.grade1_size, cycle.exit_rule, cycle.exit_bottom) == (
        3,
        ExitRule.REGION_BOTTOM,
        1,
    )
