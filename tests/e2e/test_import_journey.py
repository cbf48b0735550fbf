"""An Administrator imports a batch of zones through the admin and finds them in the register."""

import re

from playwright.sync_api import expect

from registry.models import Batch, Zone
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_user
from zonetracker.permissions import ADMINISTRATOR

BATCH_8 = (
    "批次,批准日期,文号,中文名称,英文名称,省份\n"
    "8,2025年4月2日,国函〔2025〕99号,秦皇岛市,Qinhuangdao,河北\n"
    "8,2025年4月2日,国函〔2025〕99号,儋州市,Danzhou,海南省\n"
).encode("gb18030")


def test_an_administrator_previews_confirms_and_finds_the_new_zones(page, register):
    make_user("alice", ADMINISTRATOR)
    log_in(page, "alice", PASSWORD)
    page.goto("/admin/registry/zone/import/")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "batch8.csv", "mimeType": "text/csv", "buffer": BATCH_8}],
    )
    page.locator("select[name=format]").select_option(label="csv")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_text("Qinhuangdao").first).to_be_visible()
    expect(page.get_by_text("New").first).to_be_visible()
    assert not Zone.objects.filter(name_en="Qinhuangdao").exists()

    page.get_by_role("button", name="Confirm import").click()
    expect(page).to_have_url(re.compile(r"/admin/registry/zone/$"))
    assert Batch.objects.get(number=8).document_no == "国函〔2025〕99号"

    page.goto("/zones/?q=Qinhuangdao")
    expect(page.get_by_role("link", name="Qinhuangdao")).to_be_visible()
    expect(page.get_by_text("1 zone matches")).to_be_visible()
    assert Zone.objects.count() == 167


def test_a_bad_file_is_refused_with_the_row_and_column_and_nothing_changes(page, register):
    make_user("alice", ADMINISTRATOR)
    log_in(page, "alice", PASSWORD)
    page.goto("/admin/registry/zone/import/")
    bad = "batch,approved_on,name_zh,name_en,province\n8,2025-04-02,某市,Somewhere,Atlantis\n"
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}],
    )
    page.locator("select[name=format]").select_option(label="csv")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text(re.compile(r"row 2, column province"))).to_be_visible()
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    assert Zone.objects.count() == 165
