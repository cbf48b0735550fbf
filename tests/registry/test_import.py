"""Importing batch files of zones: reading, checking, all-or-nothing writing, import_zones."""

from __future__ import annotations

import datetime
import random
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import translation

from registry.importing import (
    BATCH_FORMAT,
    ProvinceLookup,
    register_lookups,
    validate_zone,
    zones_check,
    zones_import,
)
from registry.models import Batch, Province, Zone
from registry.resources import ZoneResource
from tests.factories import make_batch, make_zone
from tests.registry.batch_files import (
    BATCH_8_DOC,
    HEADER,
    HEADER_ZH,
    csv_file,
    register_counts,
    two_new_zones,
    xlsx_file,
    zone_row,
)
from zonetracker.tables import Table, read_table

pytestmark = pytest.mark.usefixtures("provinces")


def read_batch_file(raw: bytes) -> Table:
    return read_table(raw, table=BATCH_FORMAT)


def province(code: str) -> Province:
    return Province.objects.get(code=code)


def assert_refused(raw: bytes, *expected: str) -> list[str]:
    """Import ``raw``, expect it refused with each expected text in some error, nothing written."""
    before = register_counts()
    summary = zones_import(raw=raw)
    assert not summary.ok
    for text in expected:
        assert any(text in error for error in summary.errors), (text, summary.errors)
    assert register_counts() == before
    return summary.errors


# --- what is read -----------------------------------------------------------------------------


def test_it_imports_a_new_batch_with_its_zones():
    summary = zones_import(raw=csv_file(two_new_zones()))

    assert summary.ok, summary.errors
    assert (summary.new, summary.updated, summary.unchanged) == (2, 0, 0)
    batch = Batch.objects.get(number=8)
    assert batch.approved_on == datetime.date(2023, 6, 1)
    assert batch.document_no == BATCH_8_DOC
    hangzhou_like = Zone.objects.get(name_zh="测试一市")
    assert (hangzhou_like.name_en, hangzhou_like.province, hangzhou_like.kind) == (
        "Testone",
        province("33"),
        "city",
    )
    assert hangzhou_like.batch == batch
    assert Zone.objects.get(name_zh="测试二市").province == province("45")
    assert any("Batch 8 is new" in notice for notice in summary.notices)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(csv_file(two_new_zones()), id="utf-8"),
        pytest.param(csv_file(two_new_zones(), bom=True), id="utf-8 with BOM"),
        pytest.param(csv_file(two_new_zones(), encoding="gb18030"), id="gb18030"),
        pytest.param(csv_file(two_new_zones(), header=HEADER_ZH, encoding="gb18030"), id="zh"),
        pytest.param(xlsx_file(two_new_zones()), id="xlsx"),
    ],
)
def test_it_reads_every_accepted_kind_of_file(raw: bytes):
    summary = zones_import(raw=raw)

    assert summary.ok, summary.errors
    assert set(Zone.objects.values_list("name_zh", flat=True)) == {"测试一市", "测试二市"}


def test_it_reads_gb18030_that_is_not_valid_utf8():
    raw = csv_file(two_new_zones(), encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")

    assert read_batch_file(raw)[0][3] == "测试一市"


def test_it_reads_headers_in_any_case_and_with_spaces():
    header = ["Batch", " Approved On ", "document-no", "NAME_ZH", "name en", "Province", "kind"]

    assert zones_import(raw=csv_file(two_new_zones(), header=header)).ok


def test_it_reads_real_date_and_number_cells_from_xlsx():
    rows = [zone_row(batch=8.0, approved_on=datetime.datetime(2023, 6, 1), province=33)]

    summary = zones_import(raw=xlsx_file(rows))

    assert summary.ok, summary.errors
    assert Batch.objects.get(number=8).approved_on == datetime.date(2023, 6, 1)


def test_it_refuses_an_xlsx_date_with_a_time_of_day():
    rows = [zone_row(approved_on=datetime.datetime(2023, 6, 1, 9, 30))]

    assert_refused(xlsx_file(rows), "row 2, column approved_on: “2023-06-01 09:30:00” has a time")


def test_it_reads_only_the_first_sheet_and_says_so():
    summary = zones_import(raw=xlsx_file(two_new_zones(), extra_sheets=["notes"]))

    assert summary.ok
    assert any("Only the first sheet, “zones”, was read" in notice for notice in summary.notices)


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("33", "33"),
        ("330000", "33"),
        ("浙江省", "33"),
        ("浙江", "33"),
        ("Zhejiang", "33"),
        ("Zhejiang Province", "33"),
        ("  zhejiang province ", "33"),
        ("ZHEJIANG", "33"),
        ("广西壮族自治区", "45"),
        ("广西", "45"),
        ("Guangxi Zhuang Autonomous Region", "45"),
        ("内蒙古", "15"),
        ("Inner Mongolia Autonomous Region", "15"),
        ("Xinjiang Uygur Autonomous Region", "65"),
        ("宁夏回族自治区", "64"),
        ("北京市", "11"),
        ("北京", "11"),
        ("Beijing Municipality", "11"),
        ("西藏", "54"),
        ("Xizang", "54"),
    ],
)
def test_it_finds_provinces_by_code_or_name_with_or_without_suffix(written: str, code: str):
    summary = zones_import(raw=csv_file([zone_row(province=written)]))

    assert summary.ok, summary.errors
    assert Zone.objects.get().province == province(code)


def test_it_asks_for_the_code_when_a_name_fits_two_provinces():
    lookup = ProvinceLookup(
        [
            Province(code="81", name_zh="同名省", name_en="Twin"),
            Province(code="82", name_zh="同名市", name_en="Twin City"),
        ]
    )

    assert lookup.resolve("81").code == "81"
    with pytest.raises(ValueError, match="could be more than one province; give its code"):
        lookup.resolve("同名")


def test_it_looks_provinces_up_once_per_import_not_once_per_row():
    rows = [zone_row(f"测试{n}市", f"Test {n}", province="Zhejiang") for n in range(30)]

    with CaptureQueriesContext(connection) as queries:
        assert zones_import(raw=csv_file(rows)).ok

    province_reads = [q for q in queries if 'FROM "registry_province"' in q["sql"]]
    assert len(province_reads) == 1


@pytest.mark.parametrize("written", ["2023-06-01", "2023/06/01", "2023/6/1", "2023年6月1日"])
def test_it_reads_dates_in_the_three_forms(written: str):
    assert zones_import(raw=csv_file([zone_row(approved_on=written)])).ok

    assert Batch.objects.get(number=8).approved_on == datetime.date(2023, 6, 1)


def test_it_reports_unknown_columns_and_ignores_them():
    rows = [[*row, "yes", "x"] for row in two_new_zones()]

    summary = zones_import(raw=csv_file(rows, header=[*HEADER, "confirmed", "备注"]))

    assert summary.ok
    assert summary.notices[0] == (
        "These columns are not part of the batch format and were ignored: “confirmed”, “备注”."
    )


def test_it_does_without_the_optional_columns():
    header = [h for h in HEADER if h not in {"kind", "document_no"}]
    rows = [
        [cell for h, cell in zip(HEADER, row, strict=True) if h in header]
        for row in two_new_zones()
    ]

    assert zones_import(raw=csv_file(rows, header=header)).ok

    assert Batch.objects.get(number=8).document_no == ""
    assert Zone.objects.get(name_zh="测试一市").kind == ""


def test_it_skips_blank_rows_but_keeps_spreadsheet_row_numbers():
    rows = [
        zone_row("测试一市", "Testone"),
        [],
        ["", "", "", "", "", "", ""],
        zone_row("测试二市", "", province="Atlantis"),
    ]

    errors = assert_refused(csv_file(rows))

    assert errors == [
        "row 5, column name_en: The name is missing.",
        "row 5, column province: Unknown province “Atlantis”; give its code (such as 33), "
        "or its Chinese or English name.",
    ]


def test_it_names_columns_as_the_file_does():
    raw = csv_file([zone_row(province="Atlantis")], header=HEADER_ZH)

    assert_refused(raw, "row 2, column 省份: Unknown province “Atlantis”")


def test_it_imports_html_as_plain_text():
    assert zones_import(raw=csv_file([zone_row("测试<b>市</b>", "<script>alert(1)</script>")])).ok

    assert Zone.objects.filter(
        name_zh="测试<b>市</b>", name_en="<script>alert(1)</script>"
    ).exists()


def test_it_removes_the_apostrophe_that_the_export_puts_before_formulas():
    rows = [zone_row("'=测试+2", "'@SUM(A1)"), zone_row("测试二市", "''Quoted")]

    assert zones_import(raw=csv_file(rows)).ok

    assert set(Zone.objects.values_list("name_zh", "name_en")) == {
        ("=测试+2", "@SUM(A1)"),
        ("测试二市", "'Quoted"),
    }


# --- changes -----------------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing_and_says_so():
    raw = csv_file(two_new_zones())
    zones_import(raw=raw)
    history = Zone.history.count(), Batch.history.count()

    summary = zones_import(raw=raw)

    assert summary.ok
    assert summary.counts() == "0 new, 0 updated, 2 unchanged"
    assert (Zone.history.count(), Batch.history.count()) == history


def test_it_updates_the_english_name_province_and_kind():
    zones_import(raw=csv_file(two_new_zones()))
    rows = [
        zone_row("测试一市", "Testone City", province="Jiangsu", kind="prefecture"),
        zone_row("测试二市", "Testtwo", province="广西", kind="prefecture"),
    ]

    summary = zones_import(raw=csv_file(rows))

    assert summary.counts() == "0 new, 1 updated, 1 unchanged"
    zone = Zone.objects.get(name_zh="测试一市")
    assert (zone.name_en, zone.province, zone.kind) == (
        "Testone City",
        province("32"),
        "prefecture",
    )


def test_a_blank_kind_leaves_the_zones_kind_alone():
    zones_import(raw=csv_file(two_new_zones()))

    summary = zones_import(raw=csv_file([zone_row(kind="")]))

    assert summary.counts() == "0 new, 0 updated, 1 unchanged"
    assert Zone.objects.get(name_zh="测试一市").kind == "city"


def test_zones_join_a_batch_that_exists_when_the_file_agrees_with_it():
    make_batch(number=8, approved_on=datetime.date(2023, 6, 1), document_no=BATCH_8_DOC)

    summary = zones_import(raw=csv_file(two_new_zones()))

    assert summary.ok
    assert Batch.objects.count() == 1
    assert not any("is new" in notice for notice in summary.notices)


def test_an_empty_document_number_does_not_disagree_with_the_stored_one():
    make_batch(number=8, approved_on=datetime.date(2023, 6, 1), document_no=BATCH_8_DOC)

    assert zones_import(raw=csv_file([zone_row(document_no="")])).ok

    assert Batch.objects.get(number=8).document_no == BATCH_8_DOC


def test_a_new_batch_takes_the_document_number_any_of_its_rows_states():
    rows = [zone_row(document_no=""), zone_row("测试二市", "Testtwo")]

    assert zones_import(raw=csv_file(rows)).ok

    assert Batch.objects.get(number=8).document_no == BATCH_8_DOC


def test_a_dry_run_writes_nothing_but_reports_what_it_would_do():
    summary = zones_import(raw=csv_file(two_new_zones()), dry_run=True)

    assert summary.ok
    assert summary.counts() == "2 new, 0 updated, 0 unchanged"
    assert register_counts() == (0, 0)


# --- refused files ----------------------------------------------------------------------------


def test_it_rejects_unknown_province():
    assert_refused(csv_file([zone_row(province="Atlantis")]), "row 2, column province: Unknown")


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("2023-02-30", "“2023-02-30” is not a real date."),
        ("2023年2月30日", "“2023年2月30日” is not a real date."),
        ("01/02/2025", "“01/02/2025” is ambiguous: day and month could be either way round."),
        ("1.2.2025", "“1.2.2025” is ambiguous"),
        ("next week", "“next week” is not a date; write YYYY-MM-DD"),
        ("", "The approval date is missing."),
    ],
)
def test_it_rejects_impossible_ambiguous_and_missing_dates(written: str, problem: str):
    assert_refused(
        csv_file([zone_row(approved_on=written)]), f"row 2, column approved_on: {problem}"
    )


@pytest.mark.parametrize("written", ["two", "1.5", "0", "-1", "+3", "８", "99999"])
def test_it_rejects_a_batch_that_is_not_a_whole_number_from_1(written: str):
    assert_refused(csv_file([zone_row(batch=written)]), "row 2, column batch:")


def test_it_rejects_a_kind_it_does_not_know():
    assert_refused(
        csv_file([zone_row(kind="town")]),
        "row 2, column kind: Unknown kind “town”; use one of: city, prefecture, "
        "county-level city, new area, region.",
    )


def test_it_rejects_a_batch_whose_date_disagrees_with_the_stored_batch():
    make_batch(number=8, approved_on=datetime.date(2023, 6, 2), document_no=BATCH_8_DOC)

    assert_refused(
        csv_file(two_new_zones()),
        "row 2, column approved_on: Batch 8 was approved on 2023-06-02, not 2023-06-01.",
        "row 3, column approved_on: Batch 8 was approved on 2023-06-02, not 2023-06-01.",
    )


def test_it_rejects_a_batch_whose_document_number_disagrees_with_the_stored_batch():
    make_batch(number=8, approved_on=datetime.date(2023, 6, 1), document_no="国函〔2023〕51号")

    assert_refused(
        csv_file([zone_row()]),
        "row 2, column document_no: Batch 8 has document number 国函〔2023〕51号, "
        f"not {BATCH_8_DOC}.",
    )


def test_it_does_not_fill_in_the_document_number_of_a_stored_batch():
    make_batch(number=8, approved_on=datetime.date(2023, 6, 1), document_no="")

    assert_refused(csv_file([zone_row()]), "Batch 8 is stored without a document number")
    assert Batch.objects.get(number=8).document_no == ""


def test_it_rejects_rows_of_a_new_batch_that_disagree_with_each_other():
    rows = [
        zone_row("测试一市", "Testone"),
        zone_row("测试二市", "Testtwo", approved_on="2023-07-01"),
        zone_row("测试三市", "Testthree", document_no="国函〔2023〕99号"),
    ]

    errors = assert_refused(csv_file(rows))

    assert errors == [
        "row 3, column approved_on: Batch 8 is dated 2023-06-01 on row 2, not 2023-07-01.",
        f"row 4, column document_no: Batch 8 has document number {BATCH_8_DOC} on row 2, "
        "not 国函〔2023〕99号.",
    ]


def test_it_rejects_the_same_zone_twice_in_one_file():
    rows = [zone_row("测试一市", "Testone"), zone_row("测试一市", "Testone")]

    assert_refused(
        csv_file(rows),
        "row 3, column name_zh: “测试一市” is also on row 2; a zone may appear only once.",
    )


def test_it_rejects_a_zone_that_belongs_to_another_batch():
    make_zone(
        name_zh="测试一市", name_en="Testone", province=province("33"), batch=make_batch(number=7)
    )

    assert_refused(
        csv_file([zone_row()]),
        "row 2, column batch: 测试一市 belongs to batch 7; a zone never moves to another batch.",
    )
    assert Zone.objects.get(name_zh="测试一市").batch.number == 7


def test_it_rejects_an_english_name_that_another_zone_has():
    make_zone(name_zh="杭州市", name_en="Hangzhou", province=province("33"))

    assert_refused(
        csv_file([zone_row(name_en="Hangzhou")]),
        "row 2, column name_en: “Hangzhou” is already the English name of 杭州市.",
    )


def test_it_rejects_an_english_name_twice_in_one_file():
    rows = [zone_row("测试一市", "Same"), zone_row("测试二市", "Same")]

    assert_refused(
        csv_file(rows),
        "row 3, column name_en: “Same” is also the English name of 测试一市 on row 2.",
    )


@pytest.mark.parametrize(
    ("column", "length", "limit"),
    [("name_zh", 51, 50), ("name_en", 101, 100), ("document_no", 51, 50)],
)
def test_it_rejects_an_over_long_value(column: str, length: int, limit: int):
    row = dict(zip(HEADER, zone_row(), strict=True))
    row[column] = "长" * length

    assert_refused(
        csv_file([list(row.values())]),
        f"row 2, column {column}: “{'长' * length}” has {length} characters; at most {limit}",
    )


def test_the_model_validation_runs_on_every_imported_zone():
    # A second net behind the file check: Django's own field validation (lengths, choices).
    zone = Zone(name_zh="长" * 51, name_en="Long", kind="town")

    with pytest.raises(ValidationError) as raised:
        validate_zone(zone)

    assert set(raised.value.message_dict) == {"name_zh", "kind"}


@pytest.mark.parametrize("column", ["batch", "approved_on", "name_zh", "name_en", "province"])
def test_it_rejects_a_file_without_a_required_column(column: str):
    keep = [i for i, name in enumerate(HEADER) if name != column]
    rows = [[row[i] for i in keep] for row in two_new_zones()]

    assert_refused(
        csv_file(rows, header=[HEADER[i] for i in keep]),
        f"Row 1: the required column {column} (",
    )


@pytest.mark.parametrize(
    "header",
    [
        [*HEADER[:3], "name_zh", "name_en", "province", "中文名称"],
        ["batch", *HEADER[1:6], "Batch"],
    ],
    ids=["name_zh and 中文名称", "batch twice"],
)
def test_it_rejects_a_column_given_twice(header: list[str]):
    rows = [[*row[:6], row[0] if header[-1] == "Batch" else "别的市"] for row in two_new_zones()]

    assert_refused(csv_file(rows, header=header), "are the same column")


def test_it_rejects_a_column_without_a_name():
    rows = [[*row, "x"] for row in two_new_zones()]

    assert_refused(csv_file(rows, header=[*HEADER, ""]), "Row 1, column H: the column has no name.")


def test_it_rejects_ragged_rows_of_too_few_or_too_many_cells():
    rows = [zone_row()[:-1], zone_row("测试二市", "Testtwo"), [*zone_row("测试三市", "Three"), "x"]]

    errors = assert_refused(csv_file(rows))

    assert errors == [
        "Row 2 has 6 cells but the header has 7.",
        "Row 4 has 8 cells but the header has 7.",
    ]


def test_it_rejects_an_xlsx_value_beyond_the_last_named_column():
    rows = [zone_row(), [*zone_row("测试二市", "Testtwo"), None, "stray"]]

    assert_refused(xlsx_file(rows), "Row 3, column I: a value beyond the last named column.")


def test_an_xlsx_row_may_leave_its_last_cells_empty():
    assert zones_import(raw=xlsx_file([zone_row()[:-1]])).ok


@pytest.mark.parametrize(
    "raw",
    [b"", b"  \r\n\r\n", b"\xef\xbb\xbf"],
    ids=["0 bytes", "blank lines", "only a BOM"],
)
def test_it_rejects_an_empty_file(raw: bytes):
    assert assert_refused(raw) == ["The file is empty."]


def test_it_rejects_a_file_with_only_a_header():
    assert assert_refused(csv_file([])) == ["The file has a header row but no rows of zones."]
    assert assert_refused(xlsx_file([])) == ["The file has a header row but no rows of zones."]


@override_settings(IMPORT_MAX_ROWS=2)
def test_the_file_messages_name_the_rows_and_the_format_in_chinese():
    rows = [zone_row(f"测试{n}市", f"Test {n}") for n in range(3)]

    with translation.override("zh-hans"):
        assert assert_refused(csv_file([])) == ["文件只有表头，没有综试区数据行。"]
        assert_refused(csv_file(rows), "文件的综试区数据超过2行，请拆分为多个较小的文件。")
        summary = zones_import(raw=csv_file([[*rows[0], "yes"]], header=[*HEADER, "confirmed"]))

    assert summary.notices[0] == "以下列不属于批次文件格式，已忽略：“confirmed”。"


def test_the_batch_format_marks_the_optional_columns_and_the_date_column():
    columns = {column.name: column for column in BATCH_FORMAT.columns}

    assert list(BATCH_FORMAT.column_names) == HEADER
    assert [column.name_zh for column in BATCH_FORMAT.columns] == HEADER_ZH
    assert [name for name, column in columns.items() if not column.required] == [
        "document_no",
        "kind",
    ]
    assert BATCH_FORMAT.keeps_dates("approved_on") and not BATCH_FORMAT.keeps_dates("batch")


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


NOT_TEXT = (
    "The file is neither a CSV text file (UTF-8 or GB18030) nor an XLSX workbook; "
    "save it as CSV or XLSX."
)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (PNG, NOT_TEXT),
        (random.Random(2026).randbytes(2048), NOT_TEXT),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\x00", NOT_TEXT),
        (b"PK\x03\x04 not really a zip", "The file is not a readable XLSX workbook."),
    ],
    ids=["png", "random bytes", "pdf", "broken zip"],
)
def test_it_rejects_a_file_that_is_not_text_or_a_workbook(raw: bytes, problem: str):
    assert assert_refused(raw) == [problem]


def test_it_explains_what_to_do_with_an_old_excel_file():
    assert_refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "(.xls) are not read")


def test_it_explains_what_to_do_with_utf16_text():
    assert_refused(csv_file(two_new_zones(), encoding="utf-16"), "UTF-16")


def test_it_explains_that_columns_are_separated_by_commas():
    raw = "\r\n".join(";".join(map(str, row)) for row in [HEADER, *two_new_zones()]).encode()

    assert_refused(raw, "separated by commas")


@override_settings(IMPORT_MAX_BYTES=100)
def test_it_refuses_a_file_over_the_size_limit():
    assert_refused(csv_file(two_new_zones()), "the largest file accepted is 100")


@override_settings(IMPORT_MAX_ROWS=2)
def test_it_refuses_more_rows_than_the_limit():
    rows = [zone_row(f"测试{n}市", f"Test {n}") for n in range(3)]

    assert_refused(csv_file(rows), "The file has more than 2 rows of zones")


def test_one_bad_row_and_nothing_is_written():
    make_batch(number=7)
    rows = [
        *two_new_zones(),
        zone_row("测试三市", "Three", batch="7", approved_on="2020-01-02", document_no=""),
    ]

    errors = assert_refused(csv_file(rows))

    assert len(errors) == 1
    assert not Batch.objects.filter(number=8).exists()


def test_the_resource_rolls_back_even_when_its_caller_forgets_to_ask():
    rows = [*two_new_zones(), zone_row("测试三市", "Three", province="Atlantis")]

    result = ZoneResource().import_data(
        read_batch_file(csv_file(rows)),
        dry_run=False,
        use_transactions=False,
        rollback_on_validation_errors=False,
    )

    assert result.has_validation_errors()
    assert register_counts() == (0, 0)


def test_a_failed_lookup_is_a_validation_error_not_a_traceback():
    result = ZoneResource().import_data(read_batch_file(csv_file([zone_row(province="?")])))

    assert not result.has_errors()
    assert result.invalid_rows[0].field_specific_errors["province"]


# --- import_zones --------------------------------------------------------------------------------


@pytest.fixture
def batch_file(tmp_path: Path) -> Path:
    path = tmp_path / "batch8.csv"
    path.write_bytes(csv_file(two_new_zones(), encoding="gb18030"))
    return path


def run_import_zones(*args: object) -> str:
    out = StringIO()
    call_command("import_zones", *map(str, args), stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_command_imports_and_prints_the_counts(batch_file: Path):
    assert run_import_zones(batch_file).splitlines() == [
        "Batch 8 is new: approved on 2023-06-01, document number 国函〔2023〕50号.",
        "2 new, 0 updated, 0 unchanged",
    ]
    assert Zone.objects.count() == 2

    assert run_import_zones(batch_file).splitlines() == ["0 new, 0 updated, 2 unchanged"]


def test_the_command_dry_run_says_nothing_was_written(batch_file: Path):
    output = run_import_zones(batch_file, "--dry-run")

    assert output.splitlines()[-2:] == [
        "2 new, 0 updated, 0 unchanged",
        "dry run: nothing was written",
    ]
    assert register_counts() == (0, 0)


def test_the_command_prints_every_error_and_exits_with_status_1(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        csv_file([zone_row(province="Atlantis"), zone_row("测试二市", "T", batch="two")])
    )
    err = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("import_zones", str(path), stdout=StringIO(), stderr=err)

    assert raised.value.returncode == 1
    assert str(raised.value) == "2 problems found: nothing was written."
    assert err.getvalue().splitlines() == [
        "row 2, column province: Unknown province “Atlantis”; give its code (such as 33), "
        "or its Chinese or English name.",
        "row 3, column batch: “two” is not a batch number; batches are numbered 1, 2, 3 and so on.",
    ]
    assert register_counts() == (0, 0)


def test_the_command_reports_a_missing_file(tmp_path: Path):
    with pytest.raises(CommandError, match=r"There is no file .*missing\.csv"):
        run_import_zones(tmp_path / "missing.csv")


@override_settings(IMPORT_MAX_BYTES=10)
def test_the_command_refuses_a_big_file_before_reading_it(batch_file: Path):
    with pytest.raises(CommandError, match="the largest file accepted is 10"):
        run_import_zones(batch_file)


def test_the_check_of_a_file_reads_nothing_from_the_database():
    table = read_batch_file(csv_file(two_new_zones()))
    register = register_lookups(table)

    with CaptureQueriesContext(connection) as queries:
        check = zones_check(table, register)

    assert len(queries) == 0
    assert check.ok and [change.is_new for change in check.changes] == [True, True]
    assert register_counts() == (0, 0)
