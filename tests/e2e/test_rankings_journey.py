"""A viewer reads the demonstration rankings in a real browser, filters them and downloads them."""

import codecs
import csv
import io
import re
from pathlib import Path

from django.core.management import call_command
from playwright.sync_api import expect

from evaluations.framework import framework_load
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_user
from zonetracker.permissions import VIEWER


def test_a_viewer_filters_the_rankings_and_downloads_what_is_shown(page, register):
    framework_load()
    call_command("seed_demo", verbosity=0)
    make_user("dave", VIEWER)
    log_in(page, "dave", PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rankings").click()
    expect(page).to_have_url(re.compile(r"/cycles/2022/rankings/$"))
    expect(page.get_by_text("Demonstration data, not official results")).to_be_visible()
    expect(page.get_by_role("img", name="Zones by grade, 2022")).to_be_visible()
    expect(page.get_by_text("105 zones ranked.")).to_be_visible()

    page.get_by_label("Region").select_option(label="West")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("the ranks are those of the whole cycle")).to_be_visible()
    shown = page.locator("table.table--rankings tbody tr").count()
    assert 0 < shown < 105

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV (Excel)").click()
    download = download_info.value
    assert download.suggested_filename == "zonetracker-rankings-2022.csv"
    content = Path(download.path()).read_bytes()
    assert content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == shown + 1
    assert {row[4] for row in rows[1:]} == {"West"}

    page.get_by_role("link", name="2021").click()
    expect(page.get_by_role("heading", name="Rankings of 2021")).to_be_visible()
    expect(
        page.get_by_text("No earlier published cycle to measure movement against.")
    ).to_be_visible()
