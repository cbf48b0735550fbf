"""Damaged workbooks: import_zones and the admin say the file cannot be read, never a traceback."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from registry.models import Zone
from tests.registry.batch_files import HEADER, two_new_zones, xlsx_file
from tests.table_files import inline_row, shared_strings_xml, sheet_xml, workbook

pytestmark = pytest.mark.usefixtures("provinces")

UNREADABLE = "The file is not a readable XLSX workbook."
HEADER_ROW = inline_row(1, HEADER)


def corrupt_compressed_sheet() -> bytes:
    raw = bytearray(xlsx_file(two_new_zones() * 50))
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        member = archive.getinfo("xl/worksheets/sheet1.xml")
    start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    for offset in range(start + 10, start + member.compress_size - 10, 7):
        raw[offset] ^= 0x5A
    return bytes(raw)


def zip_without_a_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return out.getvalue()


BROKEN = {
    "unclosed XML": workbook(b'<?xml version="1.0"?><worksheet><sheetData><row><c t="s"><v>0'),
    "garbage XML": workbook(b"\x00\x01garbage<<<>>>"),
    "a zip that is not a workbook": zip_without_a_workbook(),
    "a truncated workbook": xlsx_file(two_new_zones())[:-200],
    "half a workbook": xlsx_file(two_new_zones())[:1500],
    "a corrupt compressed sheet": corrupt_compressed_sheet(),
    "a missing shared string": workbook(
        sheet_xml(HEADER_ROW + b'<row r="2"><c t="s"><v>99</v></c></row>'), shared_strings_xml([])
    ),
    "a number that is not one": workbook(
        sheet_xml(HEADER_ROW + b'<row r="2"><c t="n"><v>eight</v></c></row>')
    ),
    "a date out of range": workbook(
        sheet_xml(HEADER_ROW + b'<row r="2"><c t="d"><v>99999-99-99</v></c></row>')
    ),
}


@pytest.mark.parametrize("raw", BROKEN.values(), ids=BROKEN.keys())
def test_import_zones_refuses_a_damaged_workbook_with_a_message(raw: bytes, tmp_path: Path):
    path = tmp_path / "zones.xlsx"
    path.write_bytes(raw)
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_zones", str(path), stdout=io.StringIO(), stderr=err)

    assert err.getvalue().strip() == UNREADABLE
    assert not Zone.objects.exists()


def test_import_zones_exits_with_status_1_and_no_traceback_on_a_damaged_workbook(
    tmp_path: Path,
):
    path = tmp_path / "zones.xlsx"
    path.write_bytes(BROKEN["unclosed XML"])

    finished = subprocess.run(
        [sys.executable, "manage.py", "import_zones", str(path)],
        capture_output=True,
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "zonetracker.test_settings", "PATH": ""},
        text=True,
        timeout=60,
    )

    assert finished.returncode == 1
    assert UNREADABLE in finished.stderr
    assert "Traceback" not in finished.stderr
