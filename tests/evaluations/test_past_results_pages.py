"""Imported years where they show: rankings, exports, the zone page, and the admin's import.

2021 was imported with ranks and totals, 2022 with grades only and two decisions; alice (an
Administrator) imports from the admin, dave (a Viewer) reads the pages.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations.models import Cycle, Evaluation, EvaluationStatus
from evaluations.past_results import RESULTS_FORMAT, results_import
from registry.models import PendingImport, Zone, ZoneStatus
from tests.factories import make_batch, make_province, make_user, make_zone
from zonetracker.tables import read_table

RESULTS_2021 = (
    "zone,grade,rank,total\n"
    "Alpha,1,1,92.5\nBravo,2,2,80\nCharlie,3,3,65\nSlipping,3,4,61\nWeakling,4,5,40\n"
)
RESULTS_2022 = (
    "zone,grade,decision,decided_on\n"
    "Alpha,1,,\nBravo,2,,\nCharlie,3,,\n"
    "Slipping,4,warn,2023-04-18\nWeakling,4,rectify,2023-04-18\n"
)


def import_year(year: int, text: str) -> Cycle:
    table = read_table(text.encode(), table=RESULTS_FORMAT)
    _check, summary = results_import(year=year, table=table)
    assert summary.ok, summary.errors
    return Cycle.objects.get(year=year)


@pytest.fixture
def past(db):
    province = make_province()
    batch = make_batch(approved_on=datetime.date(2019, 12, 15))
    for name_en, name_zh in [
        ("Alpha", "甲市"),
        ("Bravo", "乙市"),
        ("Charlie", "丙市"),
        ("Slipping", "滑市"),
        ("Weakling", "弱市"),
    ]:
        make_zone(name_en=name_en, name_zh=name_zh, province=province, batch=batch)
    return import_year(2021, RESULTS_2021), import_year(2022, RESULTS_2022)


def login(user: User, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def rankings(year: int) -> str:
    return reverse("evaluations:cycle_rankings", kwargs={"year": year})


def text_of(response) -> str:
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


# --- rankings -----------------------------------------------------------------------------


def test_the_rankings_of_an_imported_year_say_so_and_list_grades_with_ranks_where_given(past, dave):
    page = text_of(login(dave).get(rankings(2021)))
    assert "Imported results: grades as published; no scores kept" in page
    assert "5 zones graded." in page
    assert "92.50" in page
    assert "Imported on" in page and "Published on" not in page


def test_an_imported_year_without_ranks_lists_every_zone_by_grade_without_movement(past, dave):
    response = login(dave).get(rankings(2022))
    page = text_of(response)
    assert "5 zones graded." in page
    lines = response.context["page_obj"].object_list
    assert [(line.zone.name_en, line.evaluation.grade) for line in lines] == [
        ("Alpha", 1),
        ("Bravo", 2),
        ("Charlie", 3),
        ("Slipping", 4),
        ("Weakling", 4),
    ]
    # No rank: an empty cell, never "None".
    assert "None" not in page
    # 2021 has ranks, 2022 none: nothing to measure a movement of.
    assert {line.movement.direction for line in lines} == {""}
    assert not response.context["table"].unranked
    assert "Not ranked: a score is missing" not in page
    # No totals: no totals chart, the grade chart alone.
    assert "totals-chart" not in page and "grade-chart" in page


def test_the_year_after_an_imported_year_without_ranks_says_why_no_movement_is_shown(past, dave):
    import_year(2023, "zone,grade,rank\nAlpha,1,1\nBravo,2,2\n")
    response = login(dave).get(rankings(2023))
    page = text_of(response)
    assert (
        "The results of 2022 were imported without a rank for every zone: no movement is "
        "measured against them." in page
    )
    assert {line.movement.direction for line in response.context["page_obj"].object_list} == {""}


def test_the_rankings_of_an_imported_year_read_in_chinese(past, dave):
    page = text_of(login(dave, "zh-hans").get(rankings(2022)))
    assert "导入的评估结果：按公布的档次，未保留得分" in page
    assert "尚在起步阶段" in page


def test_movement_is_measured_where_both_imported_years_give_ranks(past, dave):
    import_year(2023, "zone,grade,rank\nBravo,1,1\nAlpha,2,2\n")
    import_year(2024, "zone,grade,rank\nAlpha,1,1\nBravo,2,2\n")
    lines = login(dave).get(rankings(2024)).context["page_obj"].object_list
    assert [(line.zone.name_en, line.movement.text) for line in lines] == [
        ("Alpha", "up 1"),
        ("Bravo", "down 1"),
    ]


def test_export_rankings_of_an_imported_year_keeps_the_columns_with_empty_cells(past):
    out = io.StringIO()
    call_command("export_rankings", "2022", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == [
        "rank",
        "zone",
        "name_zh",
        "province",
        "region",
        "batch",
        "total",
        "grade",
        "previous_rank",
        "recommendation",
        "decision",
    ]
    weakling = next(row for row in rows if row["zone"] == "Weakling")
    assert weakling["rank"] == "" and weakling["total"] == ""
    assert (weakling["grade"], weakling["previous_rank"], weakling["decision"]) == (
        "4",
        "5",
        "rectify",
    )
    alpha = next(row for row in rows if row["zone"] == "Alpha")
    assert (alpha["recommendation"], alpha["decision"]) == ("", "")

    out = io.StringIO()
    call_command("export_rankings", "2021", "--format", "json", stdout=out)
    first = json.loads(out.getvalue())[0]
    assert (first["rank"], first["zone"], first["total"], first["grade"]) == (1, "Alpha", 92.5, 1)


def test_the_downloads_of_an_imported_year_leave_empty_what_was_not_given(past, dave):
    response = login(dave).get(rankings(2022), {"format": "csv"})
    content = response.content[len(codecs.BOM_UTF8) :].decode()
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[1][:3] == ["", "Alpha", "甲市"] and rows[1][6] == ""


def test_the_rankings_page_of_an_imported_year_reads_a_bounded_number_of_queries(
    past, dave, django_assert_max_num_queries
):
    client = login(dave)
    cycle = Cycle.objects.get(year=2022)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(rankings(2022)).status_code == 200
        return len(captured.captured_queries)

    with_5 = queries()
    province, batch = Zone.objects.first().province, Zone.objects.first().batch
    added = Zone.objects.bulk_create(
        Zone(
            name_zh=f"多市{n}",
            name_en=f"More {n}",
            slug=f"more-{n}",
            province=province,
            batch=batch,
        )
        for n in range(60)
    )
    Evaluation.objects.bulk_create(
        Evaluation(cycle=cycle, zone=zone, grade=3, status=EvaluationStatus.APPROVED)
        for zone in added
    )
    with django_assert_max_num_queries(with_5):
        assert client.get(rankings(2022)).status_code == 200
    assert with_5 <= 15  # the page, the map, and whether the imported year before has ranks


# --- the zone page ------------------------------------------------------------------------


def test_the_zone_page_marks_imported_years_and_says_there_are_no_scores(past, dave):
    url = reverse("registry:zone_detail", kwargs={"slug": "weakling"})
    page = text_of(login(dave).get(url))
    assert page.count("imported: grades as published; no scores kept") == 2
    assert "5 of 5" in page and "not given" in page
    assert "Why this grade in 2022" in page
    assert "there are no scores" in page
    # Its status history tells the imported decision, on the day it was taken.
    assert Zone.objects.get(slug="weakling").status == ZoneStatus.ON_NOTICE

    chinese = text_of(login(dave, "zh-hans").get(url))
    assert "导入：按公布的档次，未保留得分" in chinese
    assert "未提供" in chinese


def test_the_zone_page_reads_a_bounded_number_of_queries(past, dave, django_assert_max_num_queries):
    client = login(dave)
    url = reverse("registry:zone_detail", kwargs={"slug": "weakling"})
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    for year in (2023, 2024, 2025):
        import_year(year, "zone,grade,rank\nWeakling,4,1\n")
    with django_assert_max_num_queries(len(captured.captured_queries)):
        assert client.get(url).status_code == 200


# --- the admin's import -------------------------------------------------------------------


IMPORT_URL = "/admin/evaluations/cycle/import-results/"


def upload(client: Client, text: str, year: int = 2023):
    return client.post(
        IMPORT_URL,
        {"year": year, "import_file": SimpleUploadedFile("results.csv", text.encode())},
    )


def test_an_administrator_previews_then_confirms_an_import(past, alice):
    client = login(alice)
    assert "Import past results" in text_of(client.get("/admin/evaluations/cycle/"))
    assert client.get(IMPORT_URL).status_code == 200

    response = upload(
        client, "zone,grade,rank,decision,decided_on\nAlpha,1,1,,\nWeakling,4,2,exit,2024-04-01\n"
    )
    page = text_of(response)
    assert "Preview of the results of 2023" in page
    assert "4 · still at the starting stage" in page and "exit" in page
    assert [row.zone.name_en for row in response.context["rows"]] == ["Alpha", "Weakling"]
    assert not Cycle.objects.filter(year=2023).exists()
    confirm = response.context["confirm_form"]

    response = client.post(IMPORT_URL, {**confirm.initial, "confirm": "1"})
    assert response.status_code == 302
    cycle = Cycle.objects.get(year=2023)
    assert cycle.imported and cycle.published_by == alice
    assert Zone.objects.get(name_en="Weakling").status == ZoneStatus.EXITED
    assert not PendingImport.objects.exists()

    again = text_of(client.post(IMPORT_URL, {**confirm.initial, "confirm": "1"}))
    assert "no longer waiting for confirmation" in again


def test_the_admin_shows_every_problem_and_keeps_nothing(past, alice):
    client = login(alice)
    page = text_of(upload(client, "zone,grade\nAtlantis,1\nAlpha,7\n"))
    assert "Nothing was imported" in page
    assert "row 2, column zone: no zone called “Atlantis” is in the register." in page
    assert "row 3, column grade:" in page
    assert not PendingImport.objects.exists()
    assert "The cycle of 2022 exists already" in text_of(upload(client, "zone,grade\nA,1\n", 2022))


def test_someone_who_is_no_administrator_may_not_import_past_results(past, bob):
    # Staff, so the admin lets them in, but without the permission.
    bob.is_staff = True
    bob.save()
    client = login(bob)
    assert client.get(IMPORT_URL).status_code == 403
    response = upload(client, "zone,grade\nAlpha,1\n")
    assert response.status_code == 403
    assert not Cycle.objects.filter(year=2023).exists()
    assert "Import past results" not in client.get("/admin/evaluations/cycle/").content.decode()


def test_only_the_uploader_confirms_an_upload(past, alice):
    response = upload(login(alice), "zone,grade\nAlpha,1\n")
    confirm = response.context["confirm_form"].initial
    other = make_user("olga", "Administrator")
    page = text_of(login(other).post(IMPORT_URL, {**confirm, "confirm": "1"}))
    assert "no longer waiting for confirmation" in page
    assert not Cycle.objects.filter(year=2023).exists()


def test_a_permission_granted_alone_is_enough(past):
    user = make_user("pat", staff=True)
    user.user_permissions.add(Permission.objects.get(codename="import_results"))
    assert login(user).get(IMPORT_URL).status_code == 200


# --- the other pages of a cycle -----------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_page_of_an_imported_year_says_it_holds_imported_results(
    past, alice, bob, dave, language
):
    banner = {
        "en": "Imported results: grades as published; no scores kept",
        "zh-hans": "导入的评估结果：按公布的档次，未保留得分",
    }[language]
    weakling = Evaluation.objects.get(cycle__year=2022, zone__name_en="Weakling")
    pages = [
        (dave, reverse("evaluations:cycle_methodology", kwargs={"year": 2022})),
        (dave, "/"),
        (bob, reverse("evaluations:cycle_decisions", kwargs={"year": 2022})),
        (alice, reverse("evaluations:cycle_evaluations", kwargs={"year": 2022})),
        (alice, reverse("evaluations:cycle_progress", kwargs={"year": 2022})),
        (alice, reverse("evaluations:evaluation_detail", kwargs={"pk": weakling.pk})),
    ]
    for user, url in pages:
        page = text_of(login(user, language).get(url))
        assert banner in page, url
        assert "None" not in page, url
    detail = text_of(login(alice).get(pages[-1][1]))
    assert "<dt>Grade</dt> <dd>still at the starting stage</dd>" in detail


@pytest.mark.parametrize(
    ("rule", "says"),
    [("region-bottom", True), ("region-and-nation-bottom", True), ("grade-run", False)],
)
def test_the_methodology_says_a_bottom_rule_cannot_apply_to_a_year_of_grades_alone(
    past, rule, says
):
    """2021 was imported with every rank, 2022 with grades alone: a bottom rule of 2023 says
    it cannot read 2022; the grade rule reads both and says nothing of it."""
    Cycle.objects.create(year=2023, cutoff=Cycle.default_cutoff(2023), exit_rule=rule)
    admin = make_user("approver-m", "Approver")
    for language, sentence in [
        ("en", "The results of 2022 were imported with grades alone"),
        ("zh-hans", "2022年度的结果仅以档次导入"),
    ]:
        page = login(admin, language).get(
            reverse("evaluations:cycle_methodology", kwargs={"year": 2023})
        )
        assert page.status_code == 200
        assert (sentence in page.content.decode()) is says
