"""Hostile table files: each is refused within the time and memory budget of any upload."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from registry.importing import BATCH_FORMAT
from registry.models import Zone
from tests.registry.batch_files import HEADER, csv_file, xlsx_file, zone_row
from tests.table_files import (
    bomb_workbook,
    inline_row,
    shared_strings_xml,
    sheet_xml,
    workbook,
)
from zonetracker.tables import TableFileError, read_table

SHEET_START = sheet_xml(b"")[: -len(b"</sheetData></worksheet>")]
SHEET_END = b"</sheetData></worksheet>"
HEADER_ROW = inline_row(1, HEADER)

# Any file within the upload limit is accepted or refused within these, on a noisy machine.
BUDGET_SECONDS = 5
BUDGET_MEGABYTES = 200


def refusal(raw: bytes) -> list[str]:
    with pytest.raises(TableFileError) as refused:
        read_table(raw, table=BATCH_FORMAT)
    return refused.value.problems


def million_empty_rows() -> bytes:
    """About 4 MB of XLSX holding half a billion empty rows (2.7 GB of XML)."""
    return bomb_workbook(SHEET_START + HEADER_ROW, b"<row/>" * (1 << 17), 3500, SHEET_END)


def empty_rows_within_the_unpacked_limit() -> bytes:
    # Under 1 MB unpacked, so that only the count of rows can stop it.
    return workbook(sheet_xml(HEADER_ROW + b"<row/>" * 150_000))


def a_row_far_below() -> bytes:
    # One row numbered a million: the rows in between are read as blank rows.
    return workbook(sheet_xml(HEADER_ROW + b'<row r="1048576"><c><v>1</v></c></row>'))


def one_row_of_many_cells() -> bytes:
    return workbook(sheet_xml(HEADER_ROW + b"<row>" + b"<c/>" * 200_000 + b"</row>"))


def a_huge_shared_string() -> bytes:
    """One 30 MB shared string, compressed to a few kilobytes."""
    start = shared_strings_xml(["甲"])
    return workbook(
        sheet_xml(HEADER_ROW + b'<row><c t="s"><v>0</v></c></row>'),
        start.replace("甲".encode(), "长".encode() * 10_000_000),
    )


def many_shared_strings() -> bytes:
    """300,000 short shared strings: openpyxl parses them all as it opens the workbook."""
    return workbook(sheet_xml(HEADER_ROW), shared_strings_xml(str(n) for n in range(300_000)))


def many_blank_csv_lines() -> bytes:
    return ",".join(HEADER).encode() + b"\n" * 200_000


def many_ragged_csv_rows() -> bytes:
    return ",".join(HEADER).encode() + b"\n" + b",,,,,,,,,,,,\n" * 200_000


def a_csv_row_of_many_cells() -> bytes:
    return ",".join(HEADER).encode() + b"\n" + b"," * 1_000_000 + b"\n"


def a_very_long_name() -> bytes:
    return csv_file([zone_row("杭" * 100_000, "Long")])


HOSTILE = {
    "half a billion empty rows": million_empty_rows,
    "empty rows within the unpacked limit": empty_rows_within_the_unpacked_limit,
    "a row far below": a_row_far_below,
    "one row of many cells": one_row_of_many_cells,
    "a huge shared string": a_huge_shared_string,
    "many shared strings": many_shared_strings,
    "many blank CSV lines": many_blank_csv_lines,
    "many ragged CSV rows": many_ragged_csv_rows,
    "a CSV row of many cells": a_csv_row_of_many_cells,
    "a very long name": a_very_long_name,
}


def test_every_hostile_file_fits_the_upload_limit():
    for name, build in HOSTILE.items():
        assert len(build()) <= settings.IMPORT_MAX_BYTES, name


def test_a_workbook_unpacking_to_gigabytes_is_refused_before_it_is_unpacked():
    (problem,) = refusal(million_empty_rows())

    assert problem.startswith("The workbook unpacks to more than 20.0")
    assert problem.endswith("split it into smaller files.")


@pytest.mark.parametrize(
    "build",
    [
        empty_rows_within_the_unpacked_limit,
        a_row_far_below,
        many_blank_csv_lines,
        many_ragged_csv_rows,
    ],
    ids=["empty xlsx rows", "a row far below", "blank csv lines", "ragged csv rows"],
)
def test_blank_rows_count_against_the_row_limit(build):
    assert refusal(build()) == [
        "The file has more than 20000 rows of zones; split it into smaller files."
    ]


def test_a_row_of_too_many_cells_is_refused():
    assert "unpacks to more than" in refusal(one_row_of_many_cells())[0]
    assert refusal(a_csv_row_of_many_cells()) == [
        "Row 2 has 1000001 cells; at most 50 columns are read."
    ]


@pytest.mark.parametrize("build", [a_huge_shared_string, many_shared_strings])
def test_a_workbook_of_huge_or_countless_shared_strings_is_refused(build):
    assert "unpacks to more than" in refusal(build())[0]


def test_a_long_name_is_refused_and_quoted_short():
    (problem,) = refusal(a_very_long_name())

    assert problem == (
        "Row 2, column name_zh: the text “" + "杭" * 40 + "… (100000 characters)” is longer "
        "than 500 characters."
    )


def test_a_long_shared_string_within_the_unpacked_limit_is_refused_and_quoted_short():
    raw = workbook(
        sheet_xml(HEADER_ROW + b'<row r="2"><c t="s"><v>0</v></c></row>'),
        shared_strings_xml(["x" * 900_000]),
    )

    (problem,) = refusal(raw)

    assert problem.startswith("Row 2, column batch: the text “xxxx")
    assert len(problem) < 200


MEASURE = """
import json, sys, time
import django
django.setup()
from registry.importing import BATCH_FORMAT
from zonetracker.tables import TableFileError, read_table
report = {}
for path in sys.argv[1:]:
    raw = open(path, "rb").read()
    # Processor time, which other work on a busy machine does not inflate as it does the clock.
    started = time.process_time()
    try:
        read_table(raw, table=BATCH_FORMAT)
        outcome = "read"
    except TableFileError as error:
        outcome = error.problems[0]
    report[path] = [time.process_time() - started, outcome]
# The peak of this process's own memory: ru_maxrss would also count the memory of the
# test process it was forked from.
with open("/proc/self/status") as status:
    peak = next(line for line in status if line.startswith("VmHWM:"))
report["megabytes"] = int(peak.split()[1]) / 1024
print(json.dumps(report))
"""


def test_every_hostile_file_is_refused_within_the_time_and_memory_budget(tmp_path: Path):
    paths = []
    for number, build in enumerate(HOSTILE.values()):
        path = tmp_path / f"hostile-{number}"
        path.write_bytes(build())
        paths.append(str(path))

    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, *paths],
        capture_output=True,
        check=True,
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "zonetracker.test_settings", "PATH": ""},
        text=True,
        timeout=120,
    )
    report = json.loads(measured.stdout)

    assert report.pop("megabytes") < BUDGET_MEGABYTES, report
    for name, path in zip(HOSTILE, paths, strict=True):
        seconds, outcome = report[path]
        assert outcome != "read", name
        assert seconds < BUDGET_SECONDS, (name, seconds)


def test_a_legitimate_file_of_the_largest_size_is_read_within_the_budget(tmp_path: Path):
    # 20,000 rows of 7 cells, as a spreadsheet program writes them (shared strings).
    rows = [
        ["8", "2023-06-01", "", f"名{number}", f"N{number}", "33", "city"]
        for number in range(20_000)
    ]
    path = tmp_path / "largest.xlsx"
    path.write_bytes(xlsx_file(rows))

    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        check=True,
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "zonetracker.test_settings", "PATH": ""},
        text=True,
        timeout=120,
    )
    report = json.loads(measured.stdout)

    assert report.pop("megabytes") < BUDGET_MEGABYTES
    seconds, outcome = report[str(path)]
    assert outcome == "read"
    assert seconds < BUDGET_SECONDS


# --- what a refused file prints stays small ------------------------------------------------------


@pytest.mark.django_db
def test_import_zones_prints_a_bounded_report_for_a_file_of_long_bad_names(tmp_path: Path):
    # Every name within the cell limit but far over the zone's: 3,000 problems, each quoting.
    rows = [zone_row("名" * 499, f"N{number}") for number in range(3_000)]
    path = tmp_path / "long.csv"
    path.write_bytes(csv_file(rows))
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError):
        call_command("import_zones", str(path), stdout=out, stderr=err)

    assert len(err.getvalue()) < 10_000
    assert "… and " in err.getvalue()
    assert not Zone.objects.exists()


def test_a_file_that_takes_too_long_to_read_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("zonetracker.tables.READ_DEADLINE_SECONDS", -1)

    assert refusal(csv_file([zone_row()])) == [
        "Row 1: the file takes too long to read; split it into smaller files or save it again "
        "as CSV."
    ]
