"""The admin's import of batch files: upload, preview, confirm; permissions; pending uploads."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from registry.importing import DatabaseTmpStorage, zones_import
from registry.models import Batch, PendingImport, Province, Zone
from registry.resources import PREVIEW_ROWS
from tests.factories import make_user, make_zone
from tests.registry.batch_files import (
    HEADER,
    csv_file,
    register_counts,
    two_new_zones,
    xlsx_file,
    zone_row,
)
from zonetracker.permissions import APPROVER

pytestmark = pytest.mark.usefixtures("provinces")

IMPORT_URL = reverse("admin:registry_zone_import")
PROCESS_URL = reverse("admin:registry_zone_process_import")
CHANGELIST_URL = reverse("admin:registry_zone_changelist")

CSV, XLSX = "0", "1"


@pytest.fixture
def admin_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def frank(db) -> User:
    """Staff, an Approver, but not an Administrator: may not import."""
    return make_user("frank", APPROVER, staff=True)


def preview(client: Client, raw: bytes, *, name: str = "batch8.csv", file_format: str = CSV):
    return client.post(
        IMPORT_URL, {"import_file": SimpleUploadedFile(name, raw), "format": file_format}
    )


def confirm(client: Client, previewed, **overrides: str):
    """Post the confirm form of a preview, as its "Confirm import" button does."""
    data = {**previewed.context["confirm_form"].initial, **overrides}
    return client.post(PROCESS_URL, data, follow=True)


def page_text(response) -> str:
    return response.content.decode()


# --- the happy path ---------------------------------------------------------------------------


def test_an_administrator_gets_the_import_page(admin_client: Client):
    response = admin_client.get(IMPORT_URL)

    assert response.status_code == 200
    assert "batch, approved_on, document_no, name_zh, name_en, province, kind" in page_text(
        response
    )
    assert "the header is row 1, the first zone is row 2" in page_text(response)


def test_the_upload_form_posts_to_the_page_itself_with_a_valid_action(admin_client: Client):
    html = admin_client.get(IMPORT_URL).content.decode()

    assert 'action=""' not in html
    assert f'<form action="{IMPORT_URL}" method="post" enctype="multipart/form-data">' in html


def test_the_preview_shows_new_rows_and_a_confirm_form_and_writes_nothing(admin_client: Client):
    response = preview(admin_client, csv_file(two_new_zones()))

    assert response.status_code == 200
    assert "confirm_form" in response.context
    html = page_text(response)
    assert html.count('<tr class="new">') == 2
    assert "2 new, 0 updated, 0 unchanged" in html
    assert "Batch 8 is new: approved on 2023-06-01" in html
    assert register_counts() == (0, 0)


def test_confirming_the_preview_imports_the_zones(admin_client: Client, alice: User):
    previewed = preview(admin_client, csv_file(two_new_zones()))

    response = confirm(admin_client, previewed)

    assert response.redirect_chain[-1][0] == CHANGELIST_URL
    assert [str(m) for m in response.context["messages"]] == [
        "Import finished: 2 new, 0 updated, 0 unchanged."
    ]
    assert register_counts() == (2, 1)
    assert Zone.history.filter(history_type="+").first().history_user == alice
    assert not PendingImport.objects.exists()


def test_the_preview_mentions_the_columns_it_ignores(admin_client: Client):
    rows = [[*row, "yes"] for row in two_new_zones()]

    response = preview(admin_client, csv_file(rows, header=[*HEADER, "confirmed"]))

    assert "confirm_form" in response.context
    assert "were ignored: “confirmed”." in page_text(response)


def test_the_preview_shows_updated_and_unchanged_rows(admin_client: Client):
    zones_import(raw=csv_file(two_new_zones()))
    rows = [zone_row("测试一市", "Testone City"), *two_new_zones()[1:]]

    response = preview(admin_client, csv_file(rows))

    html = page_text(response)
    assert '<tr class="update">' in html and "Update" in html
    assert '<tr class="skip">' in html and "Unchanged" in html
    assert "0 new, 1 updated, 1 unchanged" in html


@pytest.mark.parametrize(
    ("raw", "name", "file_format"),
    [
        (csv_file(two_new_zones(), encoding="gb18030"), "batch8.csv", CSV),
        (csv_file(two_new_zones(), bom=True), "batch8.csv", CSV),
        (xlsx_file(two_new_zones()), "batch8.xlsx", XLSX),
    ],
    ids=["gb18030", "utf-8 with BOM", "xlsx"],
)
def test_every_accepted_kind_of_file_goes_through_the_admin(
    admin_client: Client, raw: bytes, name: str, file_format: str
):
    # django-import-export alone decodes uploads as utf-8-sig and refuses GB18030.
    previewed = preview(admin_client, raw, name=name, file_format=file_format)
    assert "confirm_form" in previewed.context, page_text(previewed)

    confirm(admin_client, previewed)

    assert set(Zone.objects.values_list("name_zh", flat=True)) == {"测试一市", "测试二市"}


def test_a_preview_stored_by_one_request_is_confirmed_by_the_next_from_the_database(
    client: Client, alice: User
):
    raw = csv_file(two_new_zones())
    client.force_login(alice)
    previewed = preview(client, raw)
    name = previewed.context["confirm_form"].initial["import_file_name"]
    # The upload waits in the database, where any app process finds it.
    assert bytes(PendingImport.objects.get(name=name).data) == raw

    other_process = Client()
    other_process.force_login(alice)
    confirm(other_process, previewed)

    assert register_counts() == (2, 1)
    assert not PendingImport.objects.filter(name=name).exists()


def test_the_preview_escapes_html_in_names(admin_client: Client):
    # In the English name: a Chinese name must hold Chinese characters.
    response = preview(admin_client, csv_file([zone_row("测试市", "<script>alert(1)</script>")]))

    html = page_text(response)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    confirm(admin_client, response)
    assert Zone.objects.filter(name_en="<script>alert(1)</script>").exists()


# --- refusals -----------------------------------------------------------------------------------


def test_row_errors_are_listed_with_spreadsheet_rows_and_nothing_is_kept(admin_client: Client):
    rows = [*two_new_zones(), zone_row("测试三市", "Three", province="Atlantis", batch="two")]

    response = preview(admin_client, csv_file(rows))

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    html = page_text(response)
    assert "Nothing was imported" in html
    assert "row 4, column batch: “two” is not a batch number" in html
    assert "row 4, column province: Unknown province “Atlantis”" in html
    assert "<td>4 </td>" in html  # django-import-export's table, renumbered
    assert "Traceback" not in html
    assert register_counts() == (0, 0)
    # The stored upload cannot be confirmed, so it is not kept either.
    assert not PendingImport.objects.exists()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The submitted file is empty."),  # Django's own check comes first
        (b"\r\n \r\n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "The file is neither a CSV text file"),
        (csv_file([zone_row()[:5]]), "Row 2 has 5 cells but the header has 7."),
        (csv_file([zone_row()[1:]], header=HEADER[1:]), "the required column batch (批次)"),
        (csv_file([[*zone_row(), "x"]], header=[*HEADER, "中文名称"]), "are the same column"),
        (csv_file([]), "The file has a header row but no rows of zones."),
    ],
    ids=[
        "0 bytes",
        "blank lines",
        "png",
        "ragged",
        "missing column",
        "duplicate header",
        "header only",
    ],
)
def test_a_file_that_cannot_be_read_says_why(admin_client: Client, raw: bytes, message: str):
    response = preview(admin_client, raw)

    assert response.status_code == 200
    errors = response.context["form"].errors["import_file"]
    assert any(message in error for error in errors), errors
    assert "encountered while trying to read file" not in page_text(response)
    assert not PendingImport.objects.exists()


@override_settings(IMPORT_MAX_BYTES=100)
def test_an_oversized_upload_is_refused_before_it_is_read(admin_client: Client):
    raw = csv_file(two_new_zones())

    response = preview(admin_client, raw)

    assert response.context["form"].errors["import_file"] == [
        f"The file is {len(raw)}\xa0bytes; the largest file accepted is 100\xa0bytes."
    ]
    assert not PendingImport.objects.exists()


def test_a_confirmation_finds_the_register_changed_and_writes_nothing(admin_client: Client):
    previewed = preview(admin_client, csv_file(two_new_zones()))
    # Meanwhile, someone else gives another zone one of the file's English names.
    make_zone(name_zh="别的市", name_en="Testone", province=Province.objects.get(code="33"))
    before = register_counts()

    response = confirm(admin_client, previewed)

    assert response.redirect_chain == []
    html = page_text(response)
    assert "row 2, column name_en: “Testone” is already the English name of 别的市." in html
    assert "Import finished" not in html
    assert not list(response.context["messages"])
    assert register_counts() == before
    assert not Batch.objects.filter(number=8).exists()


def test_confirming_twice_explains_and_imports_once(admin_client: Client):
    previewed = preview(admin_client, csv_file(two_new_zones()))
    confirm(admin_client, previewed)

    response = confirm(admin_client, previewed)

    assert response.status_code == 200
    assert "This upload is no longer waiting for confirmation" in page_text(response)
    assert register_counts() == (2, 1)


def test_a_confirmation_that_dies_before_its_upload_is_removed_imports_nothing(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
):
    """The import and the removal of its pending upload commit together (a process killed
    between them must not leave the zones imported and the upload still waiting)."""
    previewed = preview(admin_client, csv_file(two_new_zones()))
    name = previewed.context["confirm_form"].initial["import_file_name"]

    def dies(self: DatabaseTmpStorage) -> None:
        raise RuntimeError("the process dies here")

    monkeypatch.setattr(DatabaseTmpStorage, "remove", dies)
    with pytest.raises(RuntimeError):
        confirm(admin_client, previewed)

    assert register_counts() == (0, 0)
    assert PendingImport.objects.filter(name=name).exists()


# --- permissions --------------------------------------------------------------------------------


def test_staff_without_the_import_permission_are_forbidden_everywhere(
    admin_client: Client, frank: User
):
    previewed = preview(admin_client, csv_file(two_new_zones()))
    confirm_data = previewed.context["confirm_form"].initial
    frank_client = Client()
    frank_client.force_login(frank)

    responses = [
        frank_client.get(IMPORT_URL),
        frank_client.post(
            IMPORT_URL,
            {"import_file": SimpleUploadedFile("b.csv", csv_file(two_new_zones())), "format": CSV},
        ),
        frank_client.get(PROCESS_URL),
        frank_client.post(PROCESS_URL, confirm_data),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert register_counts() == (0, 0)
    assert PendingImport.objects.filter(name=confirm_data["import_file_name"]).exists()


def test_only_holders_of_the_import_permission_are_offered_the_import(
    admin_client: Client, frank: User
):
    assert IMPORT_URL in page_text(admin_client.get(CHANGELIST_URL))

    frank_client = Client()
    frank_client.force_login(frank)
    response = frank_client.get(CHANGELIST_URL)
    assert response.status_code == 200
    assert IMPORT_URL not in page_text(response)


def test_a_viewer_without_staff_status_is_sent_to_the_login(client: Client, dave: User):
    client.force_login(dave)

    assert client.get(IMPORT_URL).status_code == 302


# --- pending uploads ----------------------------------------------------------------------------


def test_pending_uploads_are_read_back_as_bytes_or_text_and_removed():
    storage = DatabaseTmpStorage(read_mode="rb")
    storage.save("测试".encode())

    assert DatabaseTmpStorage(name=storage.name, read_mode="rb").read() == "测试".encode()
    assert DatabaseTmpStorage(name=storage.name, read_mode="r", encoding="utf-8").read() == "测试"
    DatabaseTmpStorage(name=storage.name).remove()
    assert not PendingImport.objects.exists()


def test_saving_an_upload_forgets_those_abandoned_for_more_than_a_day():
    abandoned = PendingImport.objects.create(data=b"old")
    recent = PendingImport.objects.create(data=b"recent")
    PendingImport.objects.filter(pk=abandoned.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1, minutes=1)
    )

    DatabaseTmpStorage().save(b"new")

    assert set(PendingImport.objects.values_list("data", flat=True)) >= {b"recent", b"new"}
    assert not PendingImport.objects.filter(pk=abandoned.pk).exists()
    assert PendingImport.objects.filter(pk=recent.pk).exists()


# --- a confirm form changed in the browser ------------------------------------------------------

TAMPERED = "The confirmation of this import is incomplete or was changed"
GONE = "This upload is no longer waiting for confirmation"


@pytest.fixture
def bob_admin(db) -> User:
    """Another Administrator, with an upload of his own waiting."""
    from zonetracker.permissions import ADMINISTRATOR

    return make_user("bob-admin", ADMINISTRATOR, staff=True)


def assert_refused_on_the_page(response, message: str) -> None:
    assert response.status_code == 200
    assert "Nothing was imported" in page_text(response)
    assert message in page_text(response)
    assert register_counts() == (0, 0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"format": "7"},
        {"format": "-1"},
        {"format": "csv"},
        {"format": ""},
        {"resource": "3"},
        {"resource": "ZoneResource"},
    ],
    ids=[
        "format out of range",
        "negative format",
        "format as text",
        "no format",
        "resource out of range",
        "resource as text",
    ],
)
def test_a_confirm_form_with_a_changed_field_is_refused_on_the_page(
    admin_client: Client, overrides: dict[str, str]
):
    previewed = preview(admin_client, csv_file(two_new_zones()))

    response = confirm(admin_client, previewed, **overrides)

    assert_refused_on_the_page(response, TAMPERED)


@pytest.mark.parametrize("missing", ["import_file_name", "original_file_name", "format"])
def test_a_confirm_form_with_a_missing_field_is_refused_on_the_page(
    admin_client: Client, missing: str
):
    previewed = preview(admin_client, csv_file(two_new_zones()))
    data = {**previewed.context["confirm_form"].initial}
    del data[missing]

    response = admin_client.post(PROCESS_URL, data, follow=True)

    assert_refused_on_the_page(response, TAMPERED)


@pytest.mark.parametrize(
    "name", ["0" * 32, "../../../etc/passwd", "x" * 5000, "名字", "' OR 1=1 --"]
)
def test_a_confirm_form_naming_an_upload_that_does_not_exist_is_refused(
    admin_client: Client, name: str
):
    previewed = preview(admin_client, csv_file(two_new_zones()))

    response = confirm(admin_client, previewed, import_file_name=name)

    assert_refused_on_the_page(response, GONE)
    assert PendingImport.objects.count() == 1


def test_a_confirm_form_naming_someone_elses_upload_is_refused(
    client: Client, alice: User, bob_admin: User
):
    client.force_login(bob_admin)
    bobs = preview(client, csv_file(two_new_zones()))
    bobs_name = bobs.context["confirm_form"].initial["import_file_name"]
    client.force_login(alice)
    alices = preview(client, csv_file([zone_row("测试三市", "Testthree")]))

    response = confirm(client, alices, import_file_name=bobs_name)

    assert_refused_on_the_page(response, GONE)
    # Bob may still confirm his own.
    client.force_login(bob_admin)
    confirm(client, bobs)
    assert register_counts() == (2, 1)


def test_the_format_chosen_does_not_change_how_the_file_is_read(admin_client: Client):
    previewed = preview(admin_client, csv_file(two_new_zones()))

    confirm(admin_client, previewed, format=XLSX)

    assert register_counts() == (2, 1)


def test_a_changed_original_file_name_is_harmless(admin_client: Client):
    previewed = preview(admin_client, csv_file(two_new_zones()))

    response = confirm(admin_client, previewed, original_file_name="<b>x</b>" * 1000)

    assert response.status_code == 200
    assert register_counts() == (2, 1)


def test_the_admin_page_of_a_file_of_long_bad_names_stays_small(admin_client: Client):
    rows = [zone_row("名" * 499, f"N{number}") for number in range(3_000)]

    response = preview(admin_client, csv_file(rows))

    assert response.status_code == 200
    assert len(response.content) < 200_000
    assert "… and " in page_text(response)
    assert register_counts() == (0, 0)


# --- large files ------------------------------------------------------------------------------


def many_new_zones(count: int) -> list[list[object]]:
    return [zone_row(f"测试{n:03d}市", f"Test {n:03d}") for n in range(count)]


def test_the_preview_of_a_long_file_shows_its_first_rows_and_counts_them_all(
    admin_client: Client,
):
    response = preview(admin_client, csv_file(many_new_zones(PREVIEW_ROWS + 50)))

    html = page_text(response)
    assert f"{PREVIEW_ROWS + 50} new, 0 updated, 0 unchanged" in html
    assert html.count('<tr class="new">') == PREVIEW_ROWS
    assert "Test 000" in html and f"Test {PREVIEW_ROWS + 49:03d}" not in html
    assert f"The first {PREVIEW_ROWS} rows are shown" in html
    assert "confirm_form" in response.context


def test_the_confirmation_writes_what_the_preview_checked_without_checking_again(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
):
    previewed = preview(admin_client, csv_file(many_new_zones(PREVIEW_ROWS + 50)))

    def checked_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was checked again")

    monkeypatch.setattr("registry.importing.zones_check", checked_again)
    response = confirm(admin_client, previewed)

    assert [str(m) for m in response.context["messages"]] == [
        f"Import finished: {PREVIEW_ROWS + 50} new, 0 updated, 0 unchanged."
    ]
    assert Zone.objects.count() == PREVIEW_ROWS + 50
    assert Zone.history.filter(history_type="+").count() == PREVIEW_ROWS + 50
    # One entry in the admin's log for the import; each zone has its history record.
    entry = LogEntry.objects.get()
    assert entry.get_change_message() == (
        f"Imported: {PREVIEW_ROWS + 50} new, 0 updated, 0 unchanged."
    )


def test_a_confirmation_checks_again_when_the_preview_was_not_kept(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
):
    previewed = preview(admin_client, csv_file(two_new_zones()))
    # Another process, say, without this one's memory.
    monkeypatch.setattr("registry.importing._kept_checks", {})
    cache.clear()

    response = confirm(admin_client, previewed)

    assert response.redirect_chain[-1][0] == CHANGELIST_URL
    assert register_counts() == (2, 1)
