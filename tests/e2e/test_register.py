"""A person signs in and reads the register in a real browser."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_user
from zonetracker.permissions import VIEWER


def test_a_viewer_signs_in_and_finds_the_165_zones_of_the_register(page, register):
    make_user("dave", VIEWER)
    page.goto("/zones/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    log_in(page, "dave", PASSWORD)
    page.goto("/zones/")
    expect(page.get_by_text("165", exact=False).first).to_be_visible()
    page.get_by_label("Name contains").fill("杭州")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Hangzhou")).to_be_visible()
    page.get_by_role("link", name="Hangzhou").click()
    expect(page.get_by_text("国函〔2015〕44号")).to_be_visible()
