"""The admin's main pages run under the strict Content Security Policy without a single
violation, and none is wider than a 1280-px window."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_user
from zonetracker.permissions import ADMINISTRATOR

# Records every violation the browser reports, before any script of the page runs.
LISTEN = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(
    event.violatedDirective + ' ' + (event.blockedURI || 'inline') + ' ' +
    (event.sample || '') + ' line ' + event.lineNumber
  );
});
"""

# A batch file with a bad province and a bad date: the preview of its errors.
BAD_FILE = (
    "batch,approved_on,name_zh,name_en,province\n"
    "8,2025-04-02,某市,Somewhere,Atlantis\n"
    "8,yesterday,某县,Someplace,河北\n"
    "8,2025-04-02,秦皇岛市,Qinhuangdao,河北\n"
).encode()

GOOD_FILE = (
    "batch,approved_on,name_zh,name_en,province\n"
    "8,2025-04-02,秦皇岛市,Qinhuangdao,河北\n"
    "8,2025-04-02,儋州市,Danzhou,海南省\n"
).encode()


def _check(page, label: str) -> list[str]:
    page.wait_for_load_state("load")
    # Violations are reported asynchronously: give them a moment to arrive.
    page.wait_for_timeout(300)
    problems = [f"{label}: {v}" for v in page.evaluate("window.__violations")]
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 1280:
        problems.append(f"{label}: {width} px wide at a 1280-px window")
    return problems


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_admins_main_pages_make_no_csp_violation_and_fit_1280_px(
    page, register, language: str
) -> None:
    from evaluations.framework import framework_load
    from evaluations.services import cycle_open

    framework_load()
    cycle = cycle_open(year=2021)
    evaluation = cycle.evaluations.order_by("pk").first()
    make_user("alice", ADMINISTRATOR)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.context.add_init_script(LISTEN)
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    log_in(page, "alice", PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])

    problems: list[str] = []
    for label, url in [
        ("index", "/admin/"),
        ("zone list", "/admin/registry/zone/"),
        ("cycle list", "/admin/evaluations/cycle/"),
        ("cycle change", f"/admin/evaluations/cycle/{cycle.pk}/change/"),
        ("evaluation list", "/admin/evaluations/evaluation/"),
        ("evaluation change", f"/admin/evaluations/evaluation/{evaluation.pk}/change/"),
        ("zone import", "/admin/registry/zone/import/"),
    ]:
        page.goto(url)
        problems += _check(page, label)

    page.set_input_files(
        "input[type=file]",
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_FILE}],
    )
    page.locator("select[name=format]").select_option(label="csv")
    page.locator("input[type=submit], button[type=submit]").last.click()
    page.wait_for_selector(".import-errors")
    problems += _check(page, "zone import with errors")

    page.goto("/admin/registry/zone/import/")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": GOOD_FILE}],
    )
    page.locator("select[name=format]").select_option(label="csv")
    page.locator("input[type=submit], button[type=submit]").last.click()
    page.wait_for_selector(".import-preview")
    problems += _check(page, "zone import preview")

    page.goto("/admin/evaluations/cycle/")
    page.locator(f"input[name=_selected_action][value='{cycle.pk}']").check()
    page.locator("select[name=action]").select_option("publish")
    page.locator("button[name=index]").click()
    page.wait_for_selector("input[name=confirm]")
    problems += _check(page, "publish confirmation")

    assert not problems, "\n".join(problems + console)
    assert not console, "\n".join(console)
