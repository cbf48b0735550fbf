"""Exporting the register from the admin: batch files that the import reads back unchanged."""

from __future__ import annotations

import codecs
import csv
import datetime
import io

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from registry.importing import zones_import
from registry.models import Batch, Province, Zone
from tests.factories import make_user, make_zone
from tests.registry.batch_files import HEADER
from zonetracker.permissions import APPROVER

EXPORT_URL = reverse("admin:registry_zone_export")
CSV, XLSX = "0", "1"

# Chinese names hold a Chinese character, which the import checks.
FORMULA_LIKE_NAMES = ['=HYPERLINK("http://example.com","市")', "+1市", "-2市", "@SUM(A1)市", "==市"]


@pytest.fixture
def admin_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def export(client: Client, file_format: str, query: str = "") -> bytes:
    response = client.post(EXPORT_URL + query, {"format": file_format})
    assert response.status_code == 200, response.content[:500]
    return response.content


def csv_rows(raw: bytes) -> list[list[str]]:
    assert raw.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def xlsx_rows(raw: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(raw)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_export_form_posts_to_the_page_itself_with_a_valid_action(admin_client: Client):
    html = admin_client.get(EXPORT_URL + "?status=exited").content.decode()

    assert 'action=""' not in html
    assert f'<form action="{EXPORT_URL}?status=exited" method="POST">' in html


def test_the_export_page_offers_csv_and_xlsx_without_choosing_columns(admin_client: Client):
    response = admin_client.get(EXPORT_URL)

    assert response.status_code == 200
    form = response.context["form"]
    assert [label for _value, label in form.fields["format"].choices] == ["---", "csv", "xlsx"]
    # All the columns or none: a partial export would not import back.
    assert set(form.fields) == {"resource", "format", "export_items"}


@pytest.mark.usefixtures("register")
def test_the_csv_export_is_a_batch_file_in_utf8_with_a_bom(admin_client: Client):
    response = admin_client.post(EXPORT_URL, {"format": CSV})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="zones-{today}.csv"'
    rows = csv_rows(response.content)
    assert rows[0] == HEADER
    assert rows[1] == [
        "1",
        "2015-03-07",
        "国函〔2015〕44号",
        "杭州市",
        "Hangzhou",
        "浙江省",
        "city",
    ]
    assert len(rows) == 1 + 165


@pytest.mark.usefixtures("register")
def test_the_xlsx_export_keeps_numbers_and_dates_typed(admin_client: Client):
    rows = xlsx_rows(export(admin_client, XLSX))

    assert rows[0] == HEADER
    assert rows[1] == [
        1,
        datetime.datetime(2015, 3, 7),
        "国函〔2015〕44号",
        "杭州市",
        "Hangzhou",
        "浙江省",
        "city",
    ]


@pytest.mark.usefixtures("register")
@pytest.mark.parametrize("file_format", [CSV, XLSX], ids=["csv", "xlsx"])
def test_an_export_imports_back_without_any_change(admin_client: Client, file_format: str):
    raw = export(admin_client, file_format)

    summary = zones_import(raw=raw)

    assert summary.ok, summary.errors
    assert summary.counts() == "0 new, 0 updated, 165 unchanged"
    assert summary.notices == []


@pytest.mark.usefixtures("register")
def test_the_export_follows_the_changelist_filters(admin_client: Client):
    first = Batch.objects.get(number=1)

    rows = csv_rows(export(admin_client, CSV, f"?batch__id__exact={first.pk}"))

    assert [row[3] for row in rows[1:]] == ["杭州市"]


@pytest.fixture
def formula_like_zones(db) -> list[Zone]:
    zhejiang = Province.objects.create(
        code="33", name_zh="浙江省", name_en="Zhejiang", region="east"
    )
    return [
        make_zone(name_zh=name, name_en=f"{name} en", province=zhejiang)
        for name in FORMULA_LIKE_NAMES
    ]


@pytest.mark.usefixtures("formula_like_zones")
def test_formula_like_text_is_exported_after_an_apostrophe_in_csv(admin_client: Client):
    rows = csv_rows(export(admin_client, CSV))

    exported = {row[3]: row[4] for row in rows[1:]}
    assert exported == {f"'{name}": f"'{name} en" for name in FORMULA_LIKE_NAMES}


@pytest.mark.usefixtures("formula_like_zones")
def test_formula_like_text_is_exported_after_an_apostrophe_in_xlsx(admin_client: Client):
    raw = export(admin_client, XLSX)

    sheet = openpyxl.load_workbook(io.BytesIO(raw)).active
    cells = [row[3] for row in sheet.iter_rows(min_row=2)]
    assert sorted(cell.value for cell in cells) == sorted(f"'{n}" for n in FORMULA_LIKE_NAMES)
    assert {cell.data_type for cell in cells} == {"s"}  # text, never a formula


@pytest.mark.usefixtures("formula_like_zones")
@pytest.mark.parametrize("file_format", [CSV, XLSX], ids=["csv", "xlsx"])
def test_escaped_text_imports_back_exactly(admin_client: Client, file_format: str):
    summary = zones_import(raw=export(admin_client, file_format))

    assert summary.counts() == "0 new, 0 updated, 5 unchanged"
    assert set(Zone.objects.values_list("name_zh", flat=True)) == set(FORMULA_LIKE_NAMES)


def test_text_that_xlsx_cannot_store_is_refused_with_a_message(admin_client: Client, db):
    zhejiang = Province.objects.create(
        code="33", name_zh="浙江省", name_en="Zhejiang", region="east"
    )
    make_zone(name_zh="控制\x01字符", name_en="Control", province=zhejiang)

    response = admin_client.post(EXPORT_URL, {"format": XLSX})

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "A text holds a control character that XLSX cannot store; export as CSV."
    ]
    assert export(admin_client, CSV)


def test_staff_who_may_view_zones_may_export_them(client: Client, db):
    client.force_login(make_user("frank", APPROVER, staff=True))

    assert client.post(EXPORT_URL, {"format": CSV}).status_code == 200


def test_staff_who_may_not_view_zones_may_not_export_them(client: Client, db):
    client.force_login(make_user("grace", staff=True))

    assert client.post(EXPORT_URL, {"format": CSV}).status_code == 403
