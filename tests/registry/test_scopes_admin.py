"""Zone reporters › Import scopes: upload, preview with problems by row, confirm; all or
nothing, Administrators only, through the same check and writer as ``import_scopes``."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from registry.models import PendingImport, ProvinceReviewer, ZoneReporter
from tests.factories import make_province, make_user, make_zone
from zonetracker.permissions import PROVINCIAL_REVIEWER, ZONE_REPORTER

IMPORT_URL = "/admin/registry/zonereporter/import/"


@pytest.fixture
def people(db):
    province = make_province(code="33", name_zh="浙江省", name_en="Zhejiang")
    zone = make_zone(name_zh="杭州市", name_en="Hangzhou", province=province)
    return {
        "rita": make_user("rita", ZONE_REPORTER),
        "paul": make_user("paul", PROVINCIAL_REVIEWER),
        "zone": zone,
        "province": province,
    }


def login(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def upload(client: Client, text: str):
    return client.post(IMPORT_URL, {"import_file": SimpleUploadedFile("scopes.csv", text.encode())})


def text_of(response) -> str:
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_an_administrator_previews_then_confirms_a_scope_file(people, alice):
    client = login(alice)
    assert "Import scopes" in text_of(client.get("/admin/registry/zonereporter/"))
    assert client.get(IMPORT_URL).status_code == 200

    response = upload(client, "用户名,综试区,省份\nrita,杭州市,\npaul,,浙江\n")
    page = text_of(response)
    assert "Preview of the scope file" in page
    assert "2 new, 0 updated, 0 unchanged" in page
    assert [(row.number, row.user) for row in response.context["rows"]] == [
        (2, "rita"),
        (3, "paul"),
    ]
    assert not ZoneReporter.objects.exists() and not ProvinceReviewer.objects.exists()
    confirm = response.context["confirm_form"].initial

    response = client.post(IMPORT_URL, {**confirm, "confirm": "1"})
    assert response.status_code == 302
    assert ZoneReporter.objects.get().zone == people["zone"]
    assert ProvinceReviewer.objects.get().province == people["province"]
    # The history says who assigned them.
    assert ZoneReporter.history.get().history_user == alice
    assert not PendingImport.objects.exists()

    again = text_of(client.post(IMPORT_URL, {**confirm, "confirm": "1"}))
    assert "no longer waiting for confirmation" in again
    assert ZoneReporter.objects.count() == 1


def test_a_file_with_a_bad_row_lists_its_problems_by_row_and_keeps_nothing(people, alice):
    client = login(alice)
    response = upload(
        client, "user,zone,province\nrita,Hangzhou,\nnobody,Hangzhou,\npaul,Atlantis,\n"
    )
    page = text_of(response)
    assert "Nothing was imported" in page
    assert "row 3, column user: There is no user called nobody." in page
    assert "row 4, column zone: Unknown zone “Atlantis”." in page
    assert "confirm_form" not in response.context
    assert not PendingImport.objects.exists()
    assert not ZoneReporter.objects.exists()


def test_the_import_page_reads_in_chinese(people, alice):
    page = text_of(login(alice, "zh-hans").get(IMPORT_URL))
    assert "导入负责范围" in page and "检查文件" in page


def test_someone_who_is_no_administrator_may_not_import_scopes(people, bob):
    # Staff, so the admin lets them in, but without the permission to assign scopes.
    bob.is_staff = True
    bob.save()
    client = login(bob)
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, "user,zone\nrita,Hangzhou\n").status_code == 403
    assert not ZoneReporter.objects.exists() and not PendingImport.objects.exists()


def test_only_the_uploader_confirms_an_upload(people, alice):
    confirm = upload(login(alice), "user,zone\nrita,Hangzhou\n").context["confirm_form"].initial
    other = make_user("olga", "Administrator")
    page = text_of(login(other).post(IMPORT_URL, {**confirm, "confirm": "1"}))
    assert "no longer waiting for confirmation" in page
    assert not ZoneReporter.objects.exists()


def test_a_scope_removed_between_preview_and_confirm_is_refused_whole(people, alice):
    client = login(alice)
    confirm = (
        upload(client, "user,zone\nrita,Hangzhou\npaul,Hangzhou\n").context["confirm_form"].initial
    )
    people["paul"].delete()
    page = text_of(client.post(IMPORT_URL, {**confirm, "confirm": "1"}))
    assert "Nothing was imported" in page and "paul" in page
    assert not ZoneReporter.objects.exists()
