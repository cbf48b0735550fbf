"""The what-if page: Approvers and Administrators try another policy on a cycle and see what
it would change, without writing anything; an Administrator saves a trial as the policy of a
cycle not yet published.

Five zones of one province in the east, scored from Alpha (best) to Echo (worst); the cycle
of 2021 is published with grade 1 for the top zone alone, so Delta and Echo, graded 4, were
warned; 2022 is open, scored alike.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from evaluations.models import Cycle, Evaluation, ExitRule, Indicator
from evaluations.services import cycle_open, cycle_publish, rankings_compute
from tests.factories import make_batch, make_province, make_user, make_zone, score_all

NAMES = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
SHARES = {"Alpha": 10, "Bravo": 9, "Charlie": 8, "Delta": 2, "Echo": 1}


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(year: int = 2022, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("evaluations:cycle_what_if", args=[year]) + (f"?{query}" if query else "")


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def shown_zones(response) -> list[str]:
    return re.findall(
        r'<tr class="what-if-row[^"]*">\s*<th scope="row"><a [^>]*>([^<]+)</a>',
        response.content.decode(),
    )


@pytest.fixture
def cycles(framework) -> tuple[Cycle, Cycle]:
    province, batch = make_province(), make_batch()
    for name in NAMES:
        make_zone(name_en=name, name_zh=f"{name}区", province=province, batch=batch)
    published = cycle_open(year=2021)
    published.grade1_size = 1
    published.save()
    score_all(published, SHARES)
    cycle_publish(cycle=published)
    current = cycle_open(year=2022)
    score_all(current, SHARES)
    rankings_compute(cycle=current)
    return published, current


def test_an_approver_sees_grade_counts_and_the_zones_a_trial_changes(bob, cycles):
    response = login(bob).get(url(grade1_size=3))

    assert response.status_code == 200
    page = text(response)
    # Grade 1 grows from one zone to three: Bravo and Charlie move up from their grades.
    assert re.search(r"1 notable results 1 3", page)
    assert shown_zones(response) == ["Bravo", "Charlie"]
    assert "Under the trial, 2 zones change grade or recommendation." in page
    # An Approver tries, but only an Administrator saves.
    assert "Save the trial as the cycle" not in response.content.decode()


def test_the_exit_rule_can_be_tried_and_the_zones_filtered(bob, cycles):
    trial = {"exit_rule": "region-bottom", "exit_bottom": 1, "exit_after": 2, "exit_within": 3}
    response = login(bob).get(url(**trial, show="recommendation"))

    # Now (grade-run): Delta and Echo at grade 4 twice: exit. Under the trial only Echo, last
    # of the region twice, is recommended for exit; Delta is not in the bottom one.
    rows = shown_zones(response)
    assert rows == ["Delta"]
    page = text(response)
    assert "Delta 4 4 4 4 exit —" in page

    everyone = shown_zones(login(bob).get(url(**trial, show="all")))
    assert everyone == NAMES
    searched = shown_zones(login(bob).get(url(**trial, show="all", search="cha")))
    assert searched == ["Charlie"]


def test_trying_writes_nothing(bob, alice, cycles):
    _published, current = cycles
    before = list(Evaluation.objects.values_list("pk", "rank", "grade", "total"))
    history = (Cycle.history.count(), Evaluation.history.count(), Indicator.history.count())
    indicator = current.indicators.in_order().first()

    login(alice).get(
        url(grade1_size=4, exit_rule="region-and-nation-bottom", **{f"weight_{indicator.pk}": "50"})
    )

    assert list(Evaluation.objects.values_list("pk", "rank", "grade", "total")) == before
    assert (Cycle.history.count(), Evaluation.history.count(), Indicator.history.count()) == (
        history
    )


def test_a_weight_can_be_tried(bob, cycles):
    _published, current = cycles
    # Weigh the first indicator so heavily that its figures decide: nothing in the order
    # changes (every zone is ordered alike on every indicator), but the trial is read.
    indicator = current.indicators.in_order().first()
    response = login(bob).get(url(show="all", **{f"weight_{indicator.pk}": "0"}))
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0.01." in text(response)
    assert shown_zones(response) == []


def test_a_policy_that_cannot_be_is_explained_and_nothing_is_shown(bob, cycles):
    response = login(bob).get(url(grade2_threshold=50, grade3_threshold=70))

    assert response.status_code == 200
    assert "The grade 3 threshold cannot exceed grade 2" in text(response)
    assert "Grades now and under the trial" not in text(response)


def test_the_zones_shown_download_as_csv_and_xlsx(bob, cycles):
    response = login(bob).get(url(grade1_size=3, format="csv"))

    assert response["Content-Disposition"] == (
        'attachment; filename="zonetracker-what-if-2022.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["zone"] for r in rows] == ["Bravo", "Charlie"]
    assert list(rows[0]) == [
        "zone",
        "rank",
        "grade",
        "recommendation",
        "trial_grade",
        "trial_recommendation",
    ]
    assert rows[0]["trial_grade"] == "1"

    workbook = load_workbook(io.BytesIO(login(bob).get(url(grade1_size=3, format="xlsx")).content))
    sheet = workbook.active
    assert [cell.value for cell in sheet[1]][:2] == ["zone", "rank"]
    assert sheet.max_row == 3


def test_an_administrator_saves_a_trial_as_the_policy_of_an_open_cycle(
    alice, cycles, django_capture_on_commit_callbacks
):
    _published, current = cycles
    client = login(alice)
    page = client.get(url(grade1_size=3, exit_rule="region-bottom", exit_bottom=2))
    assert "Save the trial as the cycle" in page.content.decode()

    form = dict(
        re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
            page.content.decode().split('class="what-if-save"')[1].split("</form>")[0],
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("evaluations:cycle_what_if_save", args=[2022]), form)

    assert response.status_code == 302
    current.refresh_from_db()
    assert (current.grade1_size, current.exit_rule, current.exit_bottom) == (
        3,
        ExitRule.REGION_BOTTOM,
        2,
    )
    assert current.history.first().history_user == alice
    # The provisional rankings follow the new policy.
    assert Evaluation.objects.get(cycle=current, zone__name_en="Charlie").grade == 1


def test_a_published_cycle_is_read_only(alice, bob, cycles):
    published, _current = cycles
    response = login(alice).get(url(2021, grade1_size=3))
    assert response.status_code == 200
    assert "the trial is for reading only" in text(response)
    assert "what-if-save" not in response.content.decode()

    refused = login(alice).post(
        reverse("evaluations:cycle_what_if_save", args=[2021]), {"grade1_size": 3}
    )
    assert refused.status_code == 302
    published.refresh_from_db()
    assert published.grade1_size == 1


def test_an_approver_cannot_save(bob, cycles):
    response = login(bob).post(
        reverse("evaluations:cycle_what_if_save", args=[2022]), {"grade1_size": 3}
    )
    assert response.status_code == 403
    assert Cycle.objects.get(year=2022).grade1_size == 1


@pytest.mark.parametrize("who", ["carol", "dave"])
def test_reviewers_and_viewers_may_not_try(who, cycles):
    user = make_user(who, "Reviewer" if who == "carol" else "Viewer")
    assert login(user).get(url()).status_code == 403
    assert login(user).get(url(1999)).status_code == 403


def test_the_page_reads_in_chinese(bob, cycles):
    response = login(bob).get(url(grade1_size=3), HTTP_ACCEPT_LANGUAGE="zh-hans")

    page = text(response)
    assert "假如" in page
    assert "成效明显" in page


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_page_reads_a_fixed_number_of_queries(
    bob, cycles, language, django_assert_max_num_queries
):
    client = login(bob)
    client.get(url(grade1_size=3), HTTP_ACCEPT_LANGUAGE=language)
    with django_assert_max_num_queries(16):
        small = client.get(url(grade1_size=3, show="all"), HTTP_ACCEPT_LANGUAGE=language)
    assert small.status_code == 200
    _published, current = cycles
    province, batch = make_province(), make_batch()
    for n in range(20):
        zone = make_zone(name_en=f"More {n}", province=province, batch=batch)
        Evaluation.objects.create(cycle=current, zone=zone)
    score_all(current, {**SHARES, **{f"More {n}": 5 for n in range(20)}})
    with django_assert_max_num_queries(16):
        large = client.get(url(grade1_size=3, show="all"), HTTP_ACCEPT_LANGUAGE=language)
    assert len(shown_zones(large)) == 25
