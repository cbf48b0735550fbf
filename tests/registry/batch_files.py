"""Batch files built in code (CSV in any encoding, XLSX), for the import and export tests."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence

import openpyxl

from registry.models import Batch, Zone

HEADER = ["batch", "approved_on", "document_no", "name_zh", "name_en", "province", "kind"]
HEADER_ZH = ["批次", "批准日期", "文号", "中文名称", "英文名称", "省份", "类型"]

BATCH_8_DATE = "2023-06-01"
BATCH_8_DOC = "国函〔2023〕50号"


def zone_row(
    name_zh: str = "测试一市",
    name_en: str = "Testone",
    *,
    batch: object = "8",
    approved_on: object = BATCH_8_DATE,
    document_no: str = BATCH_8_DOC,
    province: object = "浙江省",
    kind: str = "city",
) -> list[object]:
    """One row of a batch file, in the order of HEADER."""
    return [batch, approved_on, document_no, name_zh, name_en, province, kind]


def two_new_zones() -> list[list[object]]:
    return [
        zone_row("测试一市", "Testone"),
        zone_row("测试二市", "Testtwo", province="广西壮族自治区", kind="prefecture"),
    ]


def csv_file(
    rows: Sequence[Sequence[object]],
    *,
    header: Sequence[str] | None = HEADER,
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    raw = out.getvalue().encode(encoding)
    return codecs.BOM_UTF8 + raw if bom else raw


def xlsx_file(
    rows: Sequence[Sequence[object]],
    *,
    header: Sequence[str] | None = HEADER,
    extra_sheets: Sequence[str] = (),
) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "zones"
    if header is not None:
        sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for title in extra_sheets:
        workbook.create_sheet(title)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_xlsx(raw: bytes) -> list[list[object]]:
    workbook = openpyxl.load_workbook(io.BytesIO(raw))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def register_counts() -> tuple[int, int]:
    """(zones, batches): asserted unchanged after every refused import."""
    return Zone.objects.count(), Batch.objects.count()
