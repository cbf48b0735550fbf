"""Reading batch files of zones: decoding, raw checks, admin formats, pending uploads, summaries.

The batch file format itself (DESIGN §5) is interpreted by ``registry.resources.ZoneResource``;
this module turns uploaded bytes into a clean ``BatchDataset`` first, because
django-import-export and tablib are too forgiving about what they read: they decode with one
fixed encoding, pad short rows, let a duplicated header's last column win and stringify
anything. Everything here is plain functions and small classes, shared by the admin, the
``import_zones`` command and ``load_register``.

Rows are numbered as a spreadsheet numbers them: the header is row 1, the first zone row 2.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.formats import base_formats
from import_export.results import Result, RowResult
from import_export.tmp_storages import BaseStorage

from registry.models import PendingImport

# An uploaded file waiting for confirmation longer than this is abandoned.
PENDING_IMPORT_LIFETIME = datetime.timedelta(days=1)

# At most this many problems are listed for one file; the rest are counted.
MAX_LISTED_PROBLEMS = 50


@dataclass(frozen=True)
class Column:
    """One column of the batch file format."""

    name: str
    name_zh: str
    required: bool


COLUMNS: tuple[Column, ...] = (
    Column("batch", "批次", required=True),
    Column("approved_on", "批准日期", required=True),
    Column("document_no", "文号", required=False),
    Column("name_zh", "中文名称", required=True),
    Column("name_en", "英文名称", required=True),
    Column("province", "省份", required=True),
    Column("kind", "类型", required=False),
)
COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)


def _header_key(text: str) -> str:
    # "Name ZH", "name-zh" and "name_zh" are the same header.
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


@dataclass(frozen=True)
class TableFormat:
    """The columns of one kind of file, and how its messages name its rows."""

    columns: tuple[Column, ...]
    no_rows: str
    too_many_rows: str  # with %(max)s
    ignored_columns: str  # with %(columns)s

    def aliases(self) -> dict[str, str]:
        """Every accepted header (English or Chinese, any case) → the column's name."""
        return {
            _header_key(text): column.name
            for column in self.columns
            for text in (column.name, column.name_zh)
        }


BATCH_FORMAT = TableFormat(
    columns=COLUMNS,
    no_rows=gettext_lazy("The file has a header row but no rows of zones."),
    too_many_rows=gettext_lazy(
        "The file has more than %(max)s rows of zones; split it into smaller files."
    ),
    ignored_columns=gettext_lazy(
        "These columns are not part of the batch format and were ignored: %(columns)s."
    ),
)


class BatchFileError(Exception):
    """A batch file that cannot be read at all; ``problems`` says why, one message each."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class PendingImportMissing(BatchFileError):
    """The upload a confirmation refers to is gone (already imported, or expired)."""


class BatchDataset(tablib.Dataset):
    """A tablib dataset of a batch file, holding only the format's columns (canonical names).

    ``row_numbers[i]`` is the spreadsheet row of data row ``i`` (blank rows are left out, so
    the two can differ); ``column_labels`` maps each column to its header as written in the
    file, so that messages name columns the way the user sees them; ``notices`` are remarks
    about the file that do not stop the import (ignored columns, other sheets).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.row_numbers: list[int] = []
        self.column_labels: dict[str, str] = {}
        self.notices: list[str] = []


# --- reading ---------------------------------------------------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls
# C0 and C1 control characters other than tab, line feed and carriage return never occur in a
# CSV typed by a person; they do occur when binary data happens to decode (GB18030 accepts a
# PNG header, for instance).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def read_batch_file(raw: bytes) -> BatchDataset:
    """Read an uploaded batch file of zones (DESIGN §5); see ``read_table``."""
    return read_table(raw, table=BATCH_FORMAT)


def read_table(raw: bytes, *, table: TableFormat) -> BatchDataset:
    """Read an uploaded table (CSV in UTF-8, UTF-8 with BOM or GB18030, or XLSX).

    The kind of file is recognised from its content, not its name or the format chosen in the
    admin. Raises ``BatchFileError`` naming every problem that makes the file unreadable: too
    big, empty, not text, not a workbook, ragged rows, missing, unnamed or duplicated columns,
    too many rows. Problems of single values (an unknown province, a bad date) are not checked
    here but by the import itself.
    """
    max_bytes = settings.IMPORT_MAX_BYTES
    if len(raw) > max_bytes:
        raise BatchFileError(
            _("The file is %(size)s; the largest file accepted is %(max)s.")
            % {"size": filesizeformat(len(raw)), "max": filesizeformat(max_bytes)}
        )
    if not raw.strip():
        raise BatchFileError(_("The file is empty."))
    if raw.startswith(_ZIP_MAGIC):
        return _read_xlsx(raw, table)
    if raw.startswith(_OLE2_MAGIC):
        raise BatchFileError(
            _("Excel 97-2003 workbooks (.xls) are not read; save the file as .xlsx or as CSV.")
        )
    return dataset_from_rows(_csv_rows(decode_text(raw)), table=table, strict_width=True)


def decode_text(raw: bytes) -> str:
    """Decode a text file: UTF-8 after a BOM, else strict UTF-8, else GB18030.

    GB18030 comes last because it accepts almost any byte sequence; text that only decodes
    with it is still refused when it holds control characters, which binary data does.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise BatchFileError(
            _("The file is UTF-16 text; save it as CSV UTF-8 (or CSV in GB18030) instead.")
        )
    if raw.startswith(codecs.BOM_UTF8):
        try:
            text = raw[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError:
            raise BatchFileError(
                _("The file starts as UTF-8 but is not valid UTF-8 further on.")
            ) from None
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise BatchFileError(_not_text_message()) from None
    if _CONTROL_CHARACTERS.search(text):
        raise BatchFileError(_not_text_message())
    return text


def _not_text_message() -> str:
    return _(
        "The file is neither a CSV text file (UTF-8 or GB18030) nor an XLSX workbook; "
        "save it as CSV or XLSX."
    )


def _csv_rows(text: str) -> Iterator[tuple[int, list[object]]]:
    # strict=True makes an unterminated quote an error instead of swallowing the rest of the
    # file into one cell.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        for cells in reader:
            number += 1
            yield number, list(cells)
    except csv.Error as error:
        raise BatchFileError(
            _("Row %(row)s: the CSV cannot be read (%(error)s).")
            % {"row": number + 1, "error": error}
        ) from None


def _read_xlsx(raw: bytes, table: TableFormat) -> BatchDataset:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise BatchFileError(_("The file is not a readable XLSX workbook.")) from None
    try:
        if not workbook.worksheets:
            raise BatchFileError(_("The workbook has no worksheet."))
        notices = []
        if len(workbook.sheetnames) > 1:
            notices.append(
                _("Only the first sheet, “%(sheet)s”, was read; the workbook has %(count)s.")
                % {"sheet": workbook.sheetnames[0], "count": len(workbook.sheetnames)}
            )
        sheet = workbook.worksheets[0]
        # Some writers store wrong sheet dimensions, which read-only mode would trust.
        sheet.reset_dimensions()
        return dataset_from_rows(
            _sheet_rows(sheet), table=table, strict_width=False, notices=notices
        )
    finally:
        workbook.close()


def _sheet_rows(sheet) -> Iterator[tuple[int, list[object]]]:
    # Read-only mode streams the sheet, so a huge sheet stops at the row limit instead of
    # filling memory; it also yields empty rows for gaps, which keeps row numbers right.
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = list(values)
            while cells and _is_blank(cells[-1]):
                cells.pop()
            yield number, cells
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise BatchFileError(_("The file is not a readable XLSX workbook.")) from None


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def dataset_from_rows(
    rows: Iterable[tuple[int, Sequence[object]]],
    *,
    table: TableFormat = BATCH_FORMAT,
    strict_width: bool = True,
    notices: Sequence[str] = (),
) -> BatchDataset:
    """Check raw rows (header first) and build a ``BatchDataset`` of the format's columns.

    ``rows`` yields ``(spreadsheet row number, cells)``. Blank rows are skipped. With
    ``strict_width`` (CSV) every row must have as many cells as the header; without it
    (spreadsheets, where empty cells at the end of a row are simply absent) a row may be
    shorter, but never hold a value beyond the last named column.
    """
    max_rows = settings.IMPORT_MAX_ROWS
    problems: list[str] = []
    dataset = BatchDataset()
    dataset.notices.extend(notices)
    header: list[str] | None = None
    positions: dict[str, int] = {}

    for number, cells in rows:
        if all(_is_blank(cell) for cell in cells):
            continue
        if header is None:
            header = [_header_text(cell) for cell in cells]
            positions = _read_header(header, number, dataset, problems, table)
            if problems:
                raise BatchFileError(problems)
            dataset.headers = list(positions)
            continue
        if len(cells) != len(header) and (strict_width or len(cells) > len(header)):
            problems.append(_ragged_message(number, len(cells), len(header), cells, strict_width))
            continue
        if len(dataset.row_numbers) >= max_rows:
            raise BatchFileError(str(table.too_many_rows) % {"max": max_rows})
        padded = [*cells, *[None] * (len(header) - len(cells))]
        dataset.append(
            [normalise_cell(name, padded[position]) for name, position in positions.items()]
        )
        dataset.row_numbers.append(number)

    if header is None:
        raise BatchFileError(_("The file is empty."))
    if problems:
        raise BatchFileError(_cap(problems))
    if not dataset.row_numbers:
        raise BatchFileError(str(table.no_rows))
    return dataset


def _header_text(cell: object) -> str:
    text = "" if cell is None else str(cell)
    return text.replace("\ufeff", "").strip()


def _read_header(
    header: list[str],
    number: int,
    dataset: BatchDataset,
    problems: list[str],
    table: TableFormat,
) -> dict[str, int]:
    """Map each known column to its position; report unnamed, duplicated and missing ones."""
    aliases = table.aliases()
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for position, text in enumerate(header):
        if not text:
            problems.append(
                _("Row %(row)s, column %(letter)s: the column has no name.")
                % {"row": number, "letter": column_letter(position)}
            )
            continue
        name = aliases.get(_header_key(text))
        if name is None:
            ignored.append(text)
            continue
        if name in positions:
            problems.append(
                _(
                    "Row %(row)s: columns %(first)s and %(second)s are the same column "
                    "(%(name)s); keep only one."
                )
                % {
                    "row": number,
                    "first": f"“{dataset.column_labels[name]}”",
                    "second": f"“{text}”",
                    "name": name,
                }
            )
            continue
        positions[name] = position
        dataset.column_labels[name] = text
    missing = [c for c in table.columns if c.required and c.name not in positions]
    for column in missing:
        problems.append(
            _("Row %(row)s: the required column %(name)s (%(name_zh)s) is missing.")
            % {"row": number, "name": column.name, "name_zh": column.name_zh}
        )
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        problems.append(_("Columns must be separated by commas, not semicolons or tabs."))
    if ignored:
        dataset.notices.append(
            str(table.ignored_columns) % {"columns": ", ".join(f"“{text}”" for text in ignored)}
        )
    return positions


def _ragged_message(
    number: int, count: int, expected: int, cells: Sequence[object], strict: bool
) -> str:
    if strict:
        return _("Row %(row)s has %(count)s cells but the header has %(expected)s.") % {
            "row": number,
            "count": count,
            "expected": expected,
        }
    extra = next(i for i in range(expected, len(cells)) if not _is_blank(cells[i]))
    return _("Row %(row)s, column %(letter)s: a value beyond the last named column.") % {
        "row": number,
        "letter": column_letter(extra),
    }


def column_letter(position: int) -> str:
    """A spreadsheet column letter for a 0-based position: 0 → A, 26 → AA."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _cap(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED_PROBLEMS:
        return problems
    hidden = len(problems) - MAX_LISTED_PROBLEMS
    return [
        *problems[:MAX_LISTED_PROBLEMS],
        _("… and %(count)s more problems.") % {"count": hidden},
    ]


# Exported text starting with one of these gets an apostrophe in front: = + - @ tab and CR
# are the OWASP list of formula triggers. The apostrophe is in the list too because the import
# removes one leading apostrophe: "'abc" is exported as "''abc" and so round-trips exactly.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_formula(value: object) -> object:
    """Prefix text that a spreadsheet could run as a formula with ``'`` (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def normalise_cell(column: str, value: object) -> object:
    """A cell as the import expects it: trimmed text without the export's leading ``'``.

    Spreadsheet cells arrive typed: whole numbers become their digits (Excel stores 3 as 3.0),
    dates stay dates in ``approved_on`` only.
    """
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if column == "approved_on":
            return value.date() if value.time() == datetime.time(0) else value
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value if column == "approved_on" else value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    # The one apostrophe the export put in front of formula-like text (escape_formula).
    return text[1:] if text.startswith("'") else text


# --- admin formats ---------------------------------------------------------------------------


class _BatchFileFormat(base_formats.TablibFormat):
    """Reads any batch file through ``read_batch_file``, whatever format was chosen.

    ``is_binary()`` is True so that the admin hands over the upload's bytes untouched: its own
    decoding uses one fixed encoding (``utf-8-sig``) and would refuse GB18030.
    """

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: bytes | str, **kwargs) -> BatchDataset:
        if isinstance(in_stream, str):
            in_stream = in_stream.encode("utf-8")
        return read_batch_file(in_stream)


class BatchCSV(_BatchFileFormat):
    """CSV; exported as UTF-8 with a BOM so that Excel shows the Chinese names."""

    TABLIB_MODULE = "tablib.formats._csv"
    CONTENT_TYPE = "text/csv; charset=utf-8"

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        text = dataset.export("csv", **kwargs)
        return codecs.BOM_UTF8 + text.encode("utf-8")


class BatchXLSX(_BatchFileFormat):
    TABLIB_MODULE = "tablib.formats._xlsx"
    CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        from openpyxl.utils.exceptions import IllegalCharacterError

        try:
            return dataset.export("xlsx", **kwargs)
        except IllegalCharacterError:
            # The admin shows a ValueError's message instead of failing; the text itself is
            # not repeated, as it may be anything.
            raise ValueError(
                _("A text holds a control character that XLSX cannot store; export as CSV.")
            ) from None


BATCH_FORMATS = [BatchCSV, BatchXLSX]


# --- uploads waiting for confirmation ----------------------------------------------------------


class DatabaseTmpStorage(BaseStorage):
    """django-import-export's temporary storage, kept in ``PendingImport`` rows.

    The default storage writes to a temporary folder on the local disk, which breaks as soon
    as the preview and the confirmation are served by different app processes or hosts.
    """

    def save(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        PendingImport.objects.filter(
            created_at__lt=timezone.now() - PENDING_IMPORT_LIFETIME
        ).delete()
        pending = PendingImport(data=data)
        if self.name:
            pending.name = self.name
        pending.save()
        self.name = pending.name

    def read(self) -> bytes | str:
        pending = PendingImport.objects.filter(name=self.name or "").first()
        if pending is None:
            raise PendingImportMissing(
                _(
                    "This upload is no longer waiting for confirmation: it was imported "
                    "already, or it expired. Upload the file again."
                )
            )
        data = bytes(pending.data)
        if "b" in self.read_mode:
            return data
        return data.decode(self.encoding or "utf-8-sig")

    def remove(self) -> None:
        PendingImport.objects.filter(name=self.name or "").delete()


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    """What an import did or would do, in words a user reads."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> str:
        return _("%(new)s new, %(updated)s updated, %(unchanged)s unchanged") % {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def summarise_result(result: Result) -> ImportSummary:
    """Count a result's rows and word its errors as "row N, column C: problem".

    Row numbers are spreadsheet rows: ``ZoneResource`` renumbers its results that way.
    """
    labels: dict[str, str] = getattr(result, "column_labels", {})
    entries: list[tuple[int, int, str]] = []
    for error in result.base_errors:
        entries.append((0, 0, str(error.error)))
    for invalid in result.invalid_rows:
        for key, messages in invalid.error_dict.items():
            for message in messages:
                if key == NON_FIELD_ERRORS:
                    text = _("row %(row)s: %(message)s") % {
                        "row": invalid.number,
                        "message": message,
                    }
                    order = len(COLUMN_NAMES)
                else:
                    text = _("row %(row)s, column %(column)s: %(message)s") % {
                        "row": invalid.number,
                        "column": labels.get(key, key),
                        "message": message,
                    }
                    order = COLUMN_NAMES.index(key) if key in COLUMN_NAMES else len(COLUMN_NAMES)
                entries.append((invalid.number, order, text))
    for error_row in result.error_rows:
        for error in error_row.errors:
            text = _("row %(row)s: the zone could not be saved (%(error)s)") % {
                "row": error_row.number,
                "error": error.error,
            }
            entries.append((error_row.number, len(COLUMN_NAMES) + 1, text))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    totals = result.totals
    return ImportSummary(
        new=totals[RowResult.IMPORT_TYPE_NEW],
        updated=totals[RowResult.IMPORT_TYPE_UPDATE],
        unchanged=totals[RowResult.IMPORT_TYPE_SKIP],
        errors=_cap([text for _row, _order, text in entries]),
        notices=list(getattr(result, "notices", [])),
    )
