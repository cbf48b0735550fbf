"""The open-data API over a year of imported results: what the file did not give is null."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.evaluations.test_past_results import register as register
from tests.evaluations.test_past_results import run, write

PARTIAL_2021 = (
    "zone,grade,rank,total\nAlpha,1,1,92.5\nBravo,2,,\nCharlie,2,,71\nSlipping,3,,\nWeakling,4,,\n"
)


@pytest.fixture
def public(settings):
    settings.PUBLIC_RANKINGS = True
    cache.clear()
    yield
    cache.clear()


def test_results_of_an_imported_year_carry_null_where_the_file_gave_nothing(
    register, public, client, tmp_path
):
    run(2021, write(tmp_path, PARTIAL_2021))

    response = client.get("/api/v1/cycles/2021/results/")

    assert response.status_code == 200, response.content
    rows = {row["zone"]: row for row in response.json()["results"]}
    assert set(rows) == {"Alpha", "Bravo", "Charlie", "Slipping", "Weakling"}
    assert (rows["Alpha"]["rank"], rows["Alpha"]["grade"]) == (1, 1)
    assert float(rows["Alpha"]["total"]) == 92.5
    assert rows["Bravo"]["rank"] is None and rows["Bravo"]["total"] is None
    assert rows["Charlie"]["rank"] is None and float(rows["Charlie"]["total"]) == 71
    assert [rows[name]["grade"] for name in ("Bravo", "Slipping", "Weakling")] == [2, 3, 4]
    # No scores were kept: nothing says what a dimension added.
    assert all(not row.get("dimensions") for row in rows.values()), rows["Alpha"]
    cycle = client.get("/api/v1/cycles/2021/").json()
    assert cycle["year"] == 2021
