"""Reading table files (CSV or XLSX) for every import, and writing tables for every export.

Every table file zonetracker takes (batch files of zones, score files, the indicator
framework, the provinces) is read here, once: the kind of file recognised from its content,
the text's encoding detected (UTF-8, UTF-8 with a BOM, GB18030 as Chinese Excel writes it),
only an XLSX workbook's first sheet read, headers accepted in English or Chinese, rows
numbered as a spreadsheet numbers them (the header is row 1), size and row limits enforced.
What the values mean is each table's own pure check; writing them is each table's service.

tablib and django-import-export are too forgiving for reading: they decode with one fixed
encoding, pad short rows, let a duplicated header's last column win and stringify anything.
Exports go the other way through tablib, with one formula-escaping function.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import tablib
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext as _

# At most this many problems are listed for one file; the rest are counted.
MAX_LISTED_PROBLEMS = 50


@dataclass(frozen=True)
class Column:
    """One column of a table format; ``keeps_dates`` leaves a spreadsheet's date cells typed."""

    name: str
    name_zh: str
    required: bool
    keeps_dates: bool = False


def _header_key(text: str) -> str:
    # "Name ZH", "name-zh" and "name_zh" are the same header.
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


@dataclass(frozen=True)
class TableFormat:
    """The columns of one kind of file, and how its messages name its rows and the format."""

    columns: tuple[Column, ...]
    rows: str | Promise  # what a row is, plural: "zones"
    name: str | Promise  # the format: "batch" in "not part of the batch format"

    @classmethod
    def declare(
        cls,
        columns: str,
        *,
        rows: str | Promise,
        name: str | Promise,
        keeps_dates: Iterable[str] = (),
    ) -> TableFormat:
        """A format from its columns in file order, written ``"name 中文表头, note? 备注"``.

        Each column is its name and its Chinese header; a ``?`` after the name marks a column
        the file may leave out. The columns named in ``keeps_dates`` leave a spreadsheet's date
        cells typed.
        """
        declared = []
        for spec in columns.split(","):
            column, name_zh = spec.split()
            optional = column.endswith("?")
            column = column.removesuffix("?")
            declared.append(
                Column(column, name_zh, required=not optional, keeps_dates=column in keeps_dates)
            )
        return cls(columns=tuple(declared), rows=rows, name=name)

    def no_rows_message(self) -> str:
        return _("The file has a header row but no rows of %(rows)s.") % {"rows": self.rows}

    def too_many_rows_message(self, max_rows: int) -> str:
        return _(
            "The file has more than %(max)s rows of %(rows)s; split it into smaller files."
        ) % {"max": max_rows, "rows": self.rows}

    def ignored_columns_message(self, ignored: Iterable[str]) -> str:
        return _(
            "These columns are not part of the %(format)s format and were ignored: %(columns)s."
        ) % {"format": self.name, "columns": ", ".join(f"“{text}”" for text in ignored)}

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def aliases(self) -> dict[str, str]:
        """Every accepted header (English or Chinese, any case) → the column's name."""
        return {
            _header_key(text): column.name
            for column in self.columns
            for text in (column.name, column.name_zh)
        }

    def keeps_dates(self, name: str) -> bool:
        return any(column.keeps_dates for column in self.columns if column.name == name)


class TableFileError(Exception):
    """A table file that cannot be read at all; ``problems`` says why, one message each."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class Table(tablib.Dataset):
    """A tablib dataset of a table file, holding only the format's columns (canonical names).

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

    def numbered_rows(self) -> Iterator[tuple[int, dict[str, object]]]:
        """Each row as ``(spreadsheet row number, {column: value})``."""
        return zip(self.row_numbers, self.dict, strict=True)


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


class RowProblems:
    """The problems a check finds, by spreadsheet row and column, worded in the file's terms."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.labels = table.column_labels
        self.columns = list(columns)
        self.by_row: dict[int, dict[str, list[str]]] = {}

    def add(self, row: int, column: str, message: str) -> None:
        self.by_row.setdefault(row, {}).setdefault(column, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_row)

    def __contains__(self, row: int) -> bool:
        return row in self.by_row

    def messages(self) -> list[str]:
        """ "row N, column C: problem", in row order then column order, at most a screenful."""
        worded = []
        for row in sorted(self.by_row):
            columns = self.by_row[row]
            for column in sorted(columns, key=self._column_order):
                for message in columns[column]:
                    worded.append(
                        _("row %(row)s, column %(column)s: %(message)s")
                        % {
                            "row": row,
                            "column": self.labels.get(column, column),
                            "message": message,
                        }
                    )
        return cap_problems(worded)

    def _column_order(self, column: str) -> int:
        return self.columns.index(column) if column in self.columns else len(self.columns)


# --- reading ---------------------------------------------------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls
# C0 and C1 control characters other than tab, line feed and carriage return never occur in a
# CSV typed by a person; they do occur when binary data happens to decode (GB18030 accepts a
# PNG header, for instance).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def read_table(raw: bytes, *, table: TableFormat) -> Table:
    """Read an uploaded table (CSV in UTF-8, UTF-8 with BOM or GB18030, or XLSX).

    The kind of file is recognised from its content, not its name or the format chosen in the
    admin. Raises ``TableFileError`` naming every problem that makes the file unreadable: too
    big, empty, not text, not a workbook, ragged rows, missing, unnamed or duplicated columns,
    too many rows. Problems of single values (an unknown province, a bad date) are not checked
    here but by the import itself.
    """
    max_bytes = settings.IMPORT_MAX_BYTES
    if len(raw) > max_bytes:
        raise TableFileError(
            _("The file is %(size)s; the largest file accepted is %(max)s.")
            % {"size": filesizeformat(len(raw)), "max": filesizeformat(max_bytes)}
        )
    if not raw.strip():
        raise TableFileError(_("The file is empty."))
    if raw.startswith(_ZIP_MAGIC):
        return _read_xlsx(raw, table)
    if raw.startswith(_OLE2_MAGIC):
        raise TableFileError(
            _("Excel 97-2003 workbooks (.xls) are not read; save the file as .xlsx or as CSV.")
        )
    return table_from_rows(_csv_rows(decode_text(raw)), table=table, strict_width=True)


def decode_text(raw: bytes) -> str:
    """Decode a text file: UTF-8 after a BOM, else strict UTF-8, else GB18030.

    GB18030 comes last because it accepts almost any byte sequence; text that only decodes
    with it is still refused when it holds control characters, which binary data does.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TableFileError(
            _("The file is UTF-16 text; save it as CSV UTF-8 (or CSV in GB18030) instead.")
        )
    if raw.startswith(codecs.BOM_UTF8):
        try:
            text = raw[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError:
            raise TableFileError(
                _("The file starts as UTF-8 but is not valid UTF-8 further on.")
            ) from None
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise TableFileError(_not_text_message()) from None
    if _CONTROL_CHARACTERS.search(text):
        raise TableFileError(_not_text_message())
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
        raise TableFileError(
            _("Row %(row)s: the CSV cannot be read (%(error)s).")
            % {"row": number + 1, "error": error}
        ) from None


def _read_xlsx(raw: bytes, table: TableFormat) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise TableFileError(_("The file is not a readable XLSX workbook.")) from None
    try:
        if not workbook.worksheets:
            raise TableFileError(_("The workbook has no worksheet."))
        notices = []
        if len(workbook.sheetnames) > 1:
            notices.append(
                _("Only the first sheet, “%(sheet)s”, was read; the workbook has %(count)s.")
                % {"sheet": workbook.sheetnames[0], "count": len(workbook.sheetnames)}
            )
        sheet = workbook.worksheets[0]
        # Some writers store wrong sheet dimensions, which read-only mode would trust.
        sheet.reset_dimensions()
        return table_from_rows(_sheet_rows(sheet), table=table, strict_width=False, notices=notices)
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
        raise TableFileError(_("The file is not a readable XLSX workbook.")) from None


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def table_from_rows(
    rows: Iterable[tuple[int, Sequence[object]]],
    *,
    table: TableFormat,
    strict_width: bool = True,
    notices: Sequence[str] = (),
) -> Table:
    """Check raw rows (header first) and build a ``Table`` of the format's columns.

    ``rows`` yields ``(spreadsheet row number, cells)``. Blank rows are skipped. With
    ``strict_width`` (CSV) every row must have as many cells as the header; without it
    (spreadsheets, where empty cells at the end of a row are simply absent) a row may be
    shorter, but never hold a value beyond the last named column.
    """
    max_rows = settings.IMPORT_MAX_ROWS
    problems: list[str] = []
    dataset = Table()
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
                raise TableFileError(problems)
            dataset.headers = list(positions)
            # (position, keeps dates) of each column, worked out once for every row.
            layout = [(position, table.keeps_dates(name)) for name, position in positions.items()]
            continue
        if len(cells) != len(header) and (strict_width or len(cells) > len(header)):
            problems.append(_ragged_message(number, len(cells), len(header), cells, strict_width))
            continue
        if len(dataset.row_numbers) >= max_rows:
            raise TableFileError(table.too_many_rows_message(max_rows))
        padded = [*cells, *[None] * (len(header) - len(cells))]
        dataset.append(
            [normalise_cell(padded[position], keep_dates=keep) for position, keep in layout]
        )
        dataset.row_numbers.append(number)

    if header is None:
        raise TableFileError(_("The file is empty."))
    if problems:
        raise TableFileError(cap_problems(problems))
    if not dataset.row_numbers:
        raise TableFileError(table.no_rows_message())
    return dataset


def _header_text(cell: object) -> str:
    text = "" if cell is None else str(cell)
    return text.replace("\ufeff", "").strip()


def _read_header(
    header: list[str],
    number: int,
    dataset: Table,
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
        dataset.notices.append(table.ignored_columns_message(ignored))
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


def cap_problems(problems: list[str]) -> list[str]:
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


def normalise_cell(value: object, *, keep_dates: bool = False) -> object:
    """A cell as a check expects it: trimmed text without the export's leading ``'``.

    Spreadsheet cells arrive typed: whole numbers become their digits (Excel stores 3 as 3.0),
    dates stay dates only in the columns that keep them.
    """
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if keep_dates:
            return value.date() if value.time() == datetime.time(0) else value
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value if keep_dates else value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    # The one apostrophe the export put in front of formula-like text (escape_formula).
    return text[1:] if text.startswith("'") else text


# --- writing tables ------------------------------------------------------------------------------

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


# The column that marks every row of an export of demonstration data, last so that programs
# reading the documented columns by position or by name are not disturbed.
DEMO_COLUMN = "demo"
DEMO_MARKER = "demonstration data, not official results"


def demo_marked(
    dataset: tablib.Dataset, *, header: str = DEMO_COLUMN, marker: str = DEMO_MARKER
) -> tablib.Dataset:
    """A copy of ``dataset`` with a final column saying, on every row, that the figures are
    demonstration data: a file cut from it still says so."""
    marked = tablib.Dataset(headers=[*dataset.headers, header], title=dataset.title)
    for row in dataset:
        marked.append([*row, marker])
    return marked


def formula_escaped(dataset: tablib.Dataset) -> tablib.Dataset:
    """A copy of ``dataset`` whose text cells are passed through ``escape_formula``."""
    escaped = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        escaped.append([escape_formula(value) for value in row])
    return escaped


def table_text(dataset: tablib.Dataset, file_format: str) -> str:
    """The table as CSV (formula-like text escaped) or JSON (a list of objects) text."""
    if file_format == "json":
        return json.dumps(
            [
                {
                    name: float(value) if isinstance(value, Decimal) else value
                    for name, value in row.items()
                }
                for row in dataset.dict
            ],
            ensure_ascii=False,
            indent=2,
        )
    return formula_escaped(dataset).export("csv", lineterminator="\n")


def table_bytes(dataset: tablib.Dataset, file_format: str) -> bytes:
    """The table as a file: CSV for Excel (UTF-8 with a BOM), XLSX or JSON.

    CSV and XLSX text that a spreadsheet could run as a formula is escaped; numbers and
    dates stay typed in XLSX. Raises ``ValueError`` with a message when XLSX cannot store
    a text (control characters), rather than writing a broken workbook.
    """
    if file_format == "xlsx":
        from openpyxl.utils.exceptions import IllegalCharacterError

        try:
            return formula_escaped(dataset).export("xlsx")
        except IllegalCharacterError:
            # The text itself is not repeated, as it may be anything.
            raise ValueError(
                _("A text holds a control character that XLSX cannot store; export as CSV.")
            ) from None
    text = table_text(dataset, file_format)
    if file_format == "csv":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    return text.encode("utf-8")
