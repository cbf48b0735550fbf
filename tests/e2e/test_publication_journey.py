"""Publication in a real browser: the API's documentation page, the rankings page's map and
the annual report run under the strict Content-Security-Policy without a violation; a tile
of the map leads to its province's zones."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_user
from zonetracker.permissions import VIEWER

LISTEN = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(
    event.violatedDirective + ' ' + (event.blockedURI || 'inline') + ' line ' + event.lineNumber
  );
});
"""


@pytest.fixture
def published(register):
    from decimal import Decimal

    from evaluations.models import Cycle, CycleStatus, Evaluation, EvaluationStatus
    from registry.models import Zone

    cycle = Cycle.objects.create(
        year=2021, cutoff=Cycle.default_cutoff(2021), status=CycleStatus.PUBLISHED
    )
    Evaluation.objects.bulk_create(
        Evaluation(
            cycle=cycle,
            zone=zone,
            status=EvaluationStatus.APPROVED,
            rank=n,
            total=Decimal(100 - n / 2).quantize(Decimal("0.01")),
            grade=1 if n <= 10 else 2 if n <= 60 else 3,
        )
        for n, zone in enumerate(Zone.objects.order_by("name_en"), start=1)
    )
    return cycle


def _violations(page) -> list[str]:
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    return page.evaluate("window.__violations")


def test_the_api_documentation_lists_every_endpoint_under_the_csp(page) -> None:
    page.context.add_init_script(LISTEN)
    page.goto("/api/v1/docs/")
    assert page.locator("h1").inner_text() == "Open data API"
    assert page.locator("script").count() == 0
    contents = page.locator(".api-contents a")
    assert contents.count() == 8
    contents.filter(has_text="GET /api/v1/cycles/{year}/results/").click()
    assert page.url.endswith("#cycles_results_list")
    section = page.locator("#cycles_results_list")
    assert section.locator(".api-parameters tbody th", has_text="province").count() == 1
    assert section.locator(".api-fields tbody th", has_text="results[].grade").count() == 1
    assert _violations(page) == []


def test_the_map_and_the_annual_report_run_under_the_csp(page, published) -> None:
    make_user("dave", VIEWER)
    page.context.add_init_script(LISTEN)
    log_in(page, "dave", PASSWORD)
    page.goto("/cycles/2021/rankings/")
    assert page.locator(".tile-map__drawing rect").count() == 31
    assert _violations(page) == []
    page.locator(".tile-map__measures a", has_text="Mean total").click()
    page.wait_for_load_state("load")
    assert "map=mean" in page.url
    page.goto("/cycles/2021/report/")
    assert page.locator("nav").count() == 0
    assert page.locator(".tile-map__drawing rect").count() == 31
    assert _violations(page) == []
    page.goto("/cycles/2021/rankings/")
    page.locator(".tile-map__drawing a").first.click()
    page.wait_for_url("**/zones/?province=*")
    assert page.locator("table tbody tr").count() >= 1
