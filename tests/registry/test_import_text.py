"""The text of table files: encodings accepted and refused, Chinese names, invisible characters."""

from __future__ import annotations

import codecs

import pytest
from django.conf import settings

from registry.importing import provinces_import, zones_import
from registry.models import Batch, Province, Zone
from tests.registry.batch_files import csv_file, two_new_zones, xlsx_file, zone_row

pytestmark = pytest.mark.usefixtures("provinces")

ACCEPTED = "Accepted: UTF-8 (with or without a BOM) or GB18030/GBK, or an XLSX workbook."


def refused(raw: bytes) -> list[str]:
    summary = zones_import(raw=raw)
    assert not summary.ok
    assert not Zone.objects.exists() and not Batch.objects.exists()
    return summary.errors


def plain_row(name_zh: str, name_en: str = "Somewhere") -> list[object]:
    # Nothing but the names outside ASCII, so that any encoding can write the row.
    return zone_row(name_zh, name_en, document_no="", province="33")


# --- encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name_zh", "encoding"),
    [
        ("杭州新區", "big5"),
        ("臺北市", "big5"),
        ("東京都", "shift_jis"),
        ("杭州", "shift_jis"),
        ("とうきょう", "shift_jis"),
        ("ﾄｳｷｮｳ", "shift_jis"),
        ("서울특별시", "euc_kr"),
        ("부산광역시", "euc_kr"),
        ("Zürich", "latin-1"),
        ("São Paulo", "latin-1"),
    ],
)
def test_a_file_in_another_encoding_is_refused_naming_the_encodings_accepted(
    name_zh: str, encoding: str
):
    (error,) = refused(csv_file([plain_row(name_zh)], encoding=encoding))

    assert ACCEPTED in error


def test_the_big5_bytes_of_hangzhou_new_area_are_refused():
    raw = csv_file([plain_row("X")]).replace(b"X", b"\xa7\xf5\xa6{\xb7s\xb0\xcf")

    (error,) = refused(raw)

    assert "nor Chinese text in GB18030/GBK" in error


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_or_without_a_bom_are_refused(encoding: str):
    (error,) = refused(csv_file(two_new_zones(), encoding=encoding))

    assert "UTF-16" in error or "UTF-32" in error
    assert ACCEPTED in error


def test_a_utf8_file_with_one_cp1252_byte_is_refused_at_that_byte():
    good = csv_file([*two_new_zones(), plain_row("测试三市", "Cafe")])
    raw = good.replace(b"Cafe", b"Caf\xe9")

    (error,) = refused(raw)

    offset = raw.index(b"\xe9")
    assert error.startswith(
        f"The file is not valid UTF-8: byte {offset + 1} (0xE9, line 4) is not part of a UTF-8 "
        "character;"
    )
    assert ACCEPTED in error


def test_a_utf8_file_with_a_bom_and_one_bad_byte_is_refused_at_that_byte():
    raw = csv_file(two_new_zones(), bom=True).replace("测试二市".encode(), b"\x93test\x94")

    assert "is not valid UTF-8" in refused(raw)[0]


@pytest.mark.parametrize("bom", [False, True])
def test_utf8_with_or_without_a_bom_and_gb18030_are_still_read(bom: bool):
    assert zones_import(raw=csv_file(two_new_zones(), bom=bom)).ok
    assert zones_import(raw=csv_file(two_new_zones(), encoding="gb18030")).counts() == (
        "0 new, 0 updated, 2 unchanged"
    )


def test_the_real_register_in_gb18030_is_read():
    text = (settings.BASE_DIR / "fixtures" / "zones.csv").read_text(encoding="utf-8-sig")

    assert zones_import(raw=text.encode("gb18030"), dry_run=True).ok


# --- Chinese names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name_zh", "named"),
    [
        # 杭州 in UTF-8 read as cp1252 (its soft hyphen is refused by the reader already)
        ("æ\u00adå·ž", "U+00AD SOFT HYPHEN"),
        ("杭州å·", "U+00E5"),
        ("杭州Ã©", "U+00C3"),
        ("杭州\ue000", "U+E000"),
        ("杭州ｼ", "U+FF7C HALFWIDTH KATAKANA LETTER SI"),
        ("杭州の区", "U+306E HIRAGANA LETTER NO"),
        ("杭州시", "U+C2DC HANGUL SYLLABLE SI"),
        ("Hangzhou", "no Chinese character"),
    ],
)
def test_a_name_that_is_not_plausible_chinese_is_refused(name_zh: str, named: str):
    errors = refused(csv_file([zone_row(name_zh, "Somewhere")]))

    assert any(
        error.casefold().startswith("row 2, column name_zh:") and named in error for error in errors
    )


# --- invisible characters and normalisation ------------------------------------------------------


@pytest.mark.parametrize(
    ("name_zh", "named"),
    [
        ("杭州\u200b", "U+200B ZERO WIDTH SPACE"),
        ("杭\u200d州", "U+200D ZERO WIDTH JOINER"),
        ("杭\u200c州", "U+200C ZERO WIDTH NON-JOINER"),
        ("杭州\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u2066杭州", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("杭\ufeff州", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("杭\t州", "U+0009 CHARACTER TABULATION"),
        ("杭\n州", "U+000A LINE FEED"),
        ("杭\u00ad州", "U+00AD SOFT HYPHEN"),
    ],
)
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_invisible_or_control_character_in_a_name_is_refused_naming_it(
    name_zh: str, named: str, kind: str
):
    rows = [zone_row(name_zh, "Hangzhou")]
    raw = csv_file(rows) if kind == "csv" else xlsx_file(rows)

    (error,) = refused(raw)

    assert error == (
        f"Row 2, column name_zh: the text holds {named}, an invisible or control character; "
        "remove it."
    )


def test_an_invisible_character_never_makes_a_second_hangzhou():
    zones_import(raw=csv_file([zone_row("杭州", "Hangzhou")]))

    summary = zones_import(raw=csv_file([zone_row("杭州\u200b", "Hangzhou 2")]))

    assert not summary.ok
    assert Zone.objects.count() == 1


def test_surrounding_white_space_is_removed_and_text_is_normalised():
    rows = [zone_row("\u3000杭州 ", "Cafe\u0301 City\u3000")]

    assert zones_import(raw=csv_file(rows)).ok

    assert list(Zone.objects.values_list("name_zh", "name_en")) == [("杭州", "Café City")]


def test_an_invisible_character_in_a_provinces_file_is_refused():
    raw = "code,name_zh,name_en,region\n33,浙江\u200b省,Zhejiang,east\n".encode()

    summary = provinces_import(raw=raw)

    assert summary.errors == [
        "Row 2, column name_zh: the text holds U+200B ZERO WIDTH SPACE, an invisible or "
        "control character; remove it."
    ]
    assert Province.objects.get(code="33").name_zh == "浙江省"


def test_a_provinces_file_in_big5_is_refused():
    raw = "code,name_zh,name_en,region\n71,臺灣省,Taiwan,east\n".encode("big5")

    summary = provinces_import(raw=raw)

    assert ACCEPTED in summary.errors[0]
    assert not Province.objects.filter(code="71").exists()


def test_a_bom_at_the_start_of_a_utf8_file_is_not_part_of_the_header():
    assert zones_import(raw=codecs.BOM_UTF8 + csv_file(two_new_zones())).ok
