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
import struct
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import tablib
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from zonetracker.punctuation import enumeration

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
        ) % {"format": self.name, "columns": enumeration(f"“{text}”" for text in ignored)}

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

# A message quotes a long cell by this many characters, followed by its length.
EXCERPT_CHARS = 40
# Text up to this long is quoted whole.
EXCERPT_WHOLE_UP_TO = 120


@dataclass(frozen=True)
class ReadLimits:
    """What one table file may hold, from the settings; every row read counts, blank or not."""

    rows: int
    columns: int
    cell_chars: int
    xlsx_bytes: int

    @classmethod
    def from_settings(cls) -> ReadLimits:
        return cls(
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            xlsx_bytes=settings.IMPORT_MAX_XLSX_BYTES,
        )

    @property
    def last_row(self) -> int:
        # The header row comes on top of the rows of data.
        return self.rows + 1


def read_table(raw: bytes, *, table: TableFormat) -> Table:
    """Read an uploaded table (CSV in UTF-8, UTF-8 with BOM or GB18030, or XLSX).

    The kind of file is recognised from its content, not its name or the format chosen in the
    admin. Raises ``TableFileError`` naming every problem that makes the file unreadable: too
    big, empty, not text in an accepted encoding, not a workbook, a workbook that unpacks too
    big, ragged rows, too many rows or columns, a cell too long or holding an invisible or
    control character, missing, unnamed or duplicated columns. Reading stops at the first row
    beyond the limits, so that no file within the upload limit holds a worker for long.
    Problems of single values (an unknown province, a bad date) are not checked here but by
    the import itself.
    """
    max_bytes = settings.IMPORT_MAX_BYTES
    if len(raw) > max_bytes:
        raise TableFileError(
            _("The file is %(size)s; the largest file accepted is %(max)s.")
            % {"size": filesizeformat(len(raw)), "max": filesizeformat(max_bytes)}
        )
    if not raw.strip():
        raise TableFileError(_("The file is empty."))
    limits = ReadLimits.from_settings()
    if raw.startswith(_ZIP_MAGIC):
        return _read_xlsx(raw, table, limits)
    if raw.startswith(_OLE2_MAGIC):
        raise TableFileError(
            _("Excel 97-2003 workbooks (.xls) are not read; save the file as .xlsx or as CSV.")
        )
    return table_from_rows(
        _csv_rows(decode_text(raw)), table=table, strict_width=True, limits=limits
    )


# --- text encodings ----------------------------------------------------------------------------

_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# One valid UTF-8 sequence of two to four bytes (RFC 3629).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
# What Chinese text in GB18030 decodes to besides ASCII: CJK ideographs (with extension A
# and the compatibility block), CJK and full-width punctuation, general punctuation and the
# few symbols and pinyin letters of GB2312. Kana, hangul, Greek, Cyrillic, box drawing and
# the rest are what other encodings (Shift-JIS, EUC-KR, Big5, Latin-1) turn into when they
# are read as GB18030.
_CHINESE_TEXT = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e\uffe0-\uffe6"
    "\u2010-\u2027\u2030-\u205e\u2103\u2116\u2160-\u217f\u2460-\u249b\u3220-\u3229"
    "\u00a4\u00a7\u00a8\u00b0\u00b1\u00b7\u00d7\u00e0\u00e1\u00e8-\u00ea\u00ec\u00ed"
    "\u00f2\u00f3\u00f7\u00f9\u00fa\u00fc\u0101\u0113\u011b\u012b\u0144\u0148\u014d"
    "\u016b\u01ce\u01d0\u01d2\u01d4\u01d6\u01d8\u01da\u01dc\u0251\u0261]"
)
_IDEOGRAPH = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Korean text in EUC-KR reads as GB18030 without an error: its syllables (lead bytes
# 0xB0-0xC8) land on common Chinese characters. Chinese text keeps to that band only by chance,
# which a few characters already make unlikely.
_EUC_KR_SYLLABLE = re.compile(rb"[\xb0-\xc8][\xa1-\xfe]")
_DOUBLE_BYTE = re.compile(rb"[\x81-\xfe][\x40-\x7e\x80-\xfe]")
_KOREAN_EVIDENCE = 4


def accepted_encodings() -> str:
    return _("UTF-8 (with or without a BOM) or GB18030/GBK, or an XLSX workbook")


def decode_text(raw: bytes) -> str:
    """Decode a text file as UTF-8 (with or without a BOM) or GB18030/GBK; refuse the rest.

    Strict UTF-8 first. A file that is UTF-8 but for a few bytes (one cp1252 byte in it, say)
    is refused with the place of the first bad byte, not read as GB18030. Otherwise GB18030,
    which accepts almost any byte sequence, is taken only when what it yields reads as
    Chinese text: Big5, Shift-JIS, EUC-KR, UTF-16 and Latin-1 files are refused with a
    message naming the encodings accepted. Text holding control characters is refused too,
    as binary data decodes to them.
    """
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise TableFileError(_other_encoding_message(_("UTF-32 text")))
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(raw):
        raise TableFileError(_other_encoding_message(_("UTF-16 text")))
    if _CONTROL_BYTES.search(raw):
        # No text encoding accepted here writes these bytes but for control characters.
        raise TableFileError(_not_text_message())
    body = raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        if body is not raw or _mostly_utf8(body):
            raise TableFileError(_bad_utf8_message(body, error.start)) from None
        text = _decode_gb18030(body)
        if text is None:
            raise TableFileError(_not_chinese_message(body, error.start)) from None
    if _CONTROL_CHARACTERS.search(text):
        raise TableFileError(_not_text_message())
    return text


def _utf16_without_bom(raw: bytes) -> bool:
    # The zero byte of every ASCII character, on the odd bytes (little-endian) or the even.
    start = raw[:4096]
    half = len(start) // 2
    return half > 0 and max(start[0::2].count(0), start[1::2].count(0)) * 4 >= half * 3


def _mostly_utf8(raw: bytes) -> bool:
    """Whether more of the file's non-ASCII bytes form UTF-8 characters than do not."""
    in_sequences = sum(len(match) for match in _UTF8_MULTIBYTE.findall(raw))
    if not in_sequences:
        return False
    high = len(_HIGH_BYTE.findall(raw))
    return in_sequences >= (high - in_sequences) * 4


def _decode_gb18030(raw: bytes) -> str | None:
    """The text, when the bytes are GB18030 and read as Chinese; None otherwise."""
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return None
    ideographs = 0
    rare = 0
    for character in text:
        if character < "\x80":
            continue
        if not _CHINESE_TEXT.match(character):
            return None
        if _IDEOGRAPH.match(character):
            ideographs += 1
            # Outside GB2312: the rare characters. Shift-JIS kanji and kana, and a Latin-1
            # letter followed by an ASCII one, decode to these.
            try:
                character.encode("gb2312")
            except UnicodeEncodeError:
                rare += 1
    if rare and rare * 3 >= ideographs:
        return None
    double_bytes = _DOUBLE_BYTE.findall(raw)
    if len(double_bytes) >= _KOREAN_EVIDENCE and all(
        _EUC_KR_SYLLABLE.fullmatch(pair) for pair in double_bytes
    ):
        try:
            raw.decode("euc_kr")
        except UnicodeDecodeError:
            return text
        return None
    return text


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _bad_utf8_message(raw: bytes, offset: int) -> str:
    return _(
        "The file is not valid UTF-8: byte %(byte)s (0x%(value)02X, line %(line)s) is not part "
        "of a UTF-8 character; save the file again as CSV UTF-8. Accepted: %(accepted)s."
    ) % {
        "byte": offset + 1,
        "value": raw[offset],
        "line": _line_of(raw, offset),
        "accepted": accepted_encodings(),
    }


def _not_chinese_message(raw: bytes, offset: int) -> str:
    return _(
        "The file is neither UTF-8 (byte %(byte)s on line %(line)s is not) nor Chinese text "
        "in GB18030/GBK: it may be Big5, Shift-JIS, EUC-KR or Latin-1. Accepted: "
        "%(accepted)s."
    ) % {"byte": offset + 1, "line": _line_of(raw, offset), "accepted": accepted_encodings()}


def _other_encoding_message(encoding: str) -> str:
    return _("The file is %(encoding)s, which is not read. Accepted: %(accepted)s.") % {
        "encoding": encoding,
        "accepted": accepted_encodings(),
    }


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


# --- workbooks ---------------------------------------------------------------------------------

# A member of a workbook unpacking to more than this ratio of its packed size is a zip bomb:
# spreadsheet XML packs ten to thirty times smaller, not hundreds.
_XLSX_MAX_RATIO = 100
_XLSX_RATIO_FROM = 1024 * 1024
_XLSX_MAX_MEMBERS = 1000
# openpyxl parses about a quarter of a million XML tags a second at worst: a workbook (the
# first sheet, shared strings, styles and the rest) may hold this many, which bounds the time
# of any workbook. A batch file of 20,000 rows of 7 cells holds about 760,000.
_XLSX_MAX_TAGS = 1_000_000
# Shared strings: a batch file of 20,000 zones holds about 40,000.
_XLSX_MAX_SHARED_STRINGS = 100_000
# The last resort: a file that the limits above let through and that still takes more than
# this many seconds of processor time to read (cells that are costly to parse) is refused.
READ_DEADLINE_SECONDS = 4.0
# One row of the sheet (its cells and whatever else sits between it and the next row) may
# hold this many tags per column; a cell holds 2 to 6, rich text more.
_XLSX_TAGS_PER_COLUMN = 12
# What may sit before the first row and after the last (sheet views, column widths, merged
# cells, conditional formats): generous, but bounded, as openpyxl keeps it in memory.
_XLSX_OUTSIDE_ROWS_TAGS = 20_000
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]{0,50}:)?row[\s/>]")
_CHUNK = 1024 * 1024


def _unreadable_workbook() -> TableFileError:
    return TableFileError(_("The file is not a readable XLSX workbook."))


def _workbook_too_big(limits: ReadLimits) -> TableFileError:
    return TableFileError(
        _(
            "The workbook unpacks to more than %(max)s of XML, or holds more cells, rows or "
            "text than an import takes; split it into smaller files."
        )
        % {"max": filesizeformat(limits.xlsx_bytes)}
    )


def _check_archive(archive: zipfile.ZipFile, limits: ReadLimits) -> None:
    """Refuse a zip that unpacks too big, whole or by ratio, before anything is unpacked.

    ``file_size`` is what each member says it unpacks to; zipfile never returns more, so the
    sum bounds the work.
    """
    members = archive.infolist()
    if len(members) > _XLSX_MAX_MEMBERS:
        raise _unreadable_workbook()
    total = 0
    for member in members:
        total += member.file_size
        if (
            member.file_size > _XLSX_RATIO_FROM
            and member.file_size > member.compress_size * _XLSX_MAX_RATIO
        ):
            raise _workbook_too_big(limits)
    if total > limits.xlsx_bytes:
        raise _workbook_too_big(limits)
    # openpyxl parses the shared strings, styles and the rest whole when it opens a workbook,
    # wherever the workbook's relations put them: every member counts, in C, before that.
    tags = 0
    strings = 0
    for member in members:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                tags += chunk.count(b"<")
                # Each shared string costs openpyxl as much as a dozen other tags.
                strings += chunk.count(b"<si>") + chunk.count(b"<si ")
                if tags > _XLSX_MAX_TAGS or strings > _XLSX_MAX_SHARED_STRINGS:
                    raise _workbook_too_big(limits)


def _check_sheet_xml(
    archive: zipfile.ZipFile, sheet_path: str, table: TableFormat, limits: ReadLimits
) -> None:
    """Count the rows of the first sheet and the tags of each before openpyxl parses it.

    openpyxl builds each row whole before handing it over and keeps unknown elements: a
    single row of a million empty cells takes it seconds and half a gigabyte. Counting ``<``
    runs in C over the unpacked bytes, a megabyte at a time, and stops at the first limit.
    """
    per_row = limits.columns * _XLSX_TAGS_PER_COLUMN
    rows = 0
    # Tags since the last row tag (or the start); a row tag may straddle two chunks, so the
    # last bytes of each chunk wait for the next.
    segment = 0
    pending = b""
    with archive.open(sheet_path) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            buffer = pending + chunk
            end = len(buffer) if not chunk else max(0, len(buffer) - 128)
            start = 0
            for match in _ROW_TAG.finditer(buffer, 0, len(buffer)):
                if match.start() >= end:
                    break
                segment += buffer.count(b"<", start, match.start())
                allowed = per_row if rows else _XLSX_OUTSIDE_ROWS_TAGS
                if segment > allowed:
                    raise _workbook_too_big(limits)
                rows += 1
                if rows > limits.last_row:
                    raise TableFileError(table.too_many_rows_message(limits.rows))
                segment = 0
                start = match.start()
            segment += buffer.count(b"<", start, end)
            if segment > _XLSX_OUTSIDE_ROWS_TAGS + per_row:
                raise _workbook_too_big(limits)
            pending = buffer[end:]
            if not chunk:
                break


def _read_xlsx(raw: bytes, table: TableFormat, limits: ReadLimits) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    # Whatever a damaged or hostile workbook makes zipfile, openpyxl or the XML parser raise
    # means the same to the user: the file is not a workbook that can be read.
    unreadable = (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        InvalidFileException,
        KeyError,
        OSError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        EOFError,
        NotImplementedError,
        SyntaxError,  # xml.etree's ParseError
        RuntimeError,
        ArithmeticError,  # a date serial far out of range
        struct.error,
        zlib.error,
    )
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            _check_archive(archive, limits)
    except unreadable:
        raise _unreadable_workbook() from None
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except unreadable:
        raise _unreadable_workbook() from None
    try:
        if not workbook.worksheets:
            raise TableFileError(_("The workbook has no worksheet."))
        notices = []
        if len(workbook.sheetnames) > 1:
            notices.append(
                _("Only the first sheet, “%(sheet)s”, was read; the workbook has %(count)s.")
                % {"sheet": excerpt(workbook.sheetnames[0]), "count": len(workbook.sheetnames)}
            )
        sheet = workbook.worksheets[0]
        try:
            # openpyxl keeps the sheet's part name privately; the tags are counted there.
            _check_sheet_xml(workbook._archive, sheet._worksheet_path, table, limits)
            # Some writers store wrong sheet dimensions, which read-only mode would trust.
            sheet.reset_dimensions()
            return table_from_rows(
                _sheet_rows(sheet), table=table, strict_width=False, notices=notices, limits=limits
            )
        except TableFileError:
            raise
        except unreadable:
            raise _unreadable_workbook() from None
    finally:
        workbook.close()


def _sheet_rows(sheet) -> Iterator[tuple[int, list[object]]]:
    # Read-only mode streams the sheet; it also yields empty rows for gaps, which keeps row
    # numbers right and lets every row, blank or not, count against the limit.
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = list(values)
        while cells and _is_blank(cells[-1]):
            cells.pop()
        yield number, cells


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- cells -------------------------------------------------------------------------------------

# Characters no cell may hold: controls (tab and line breaks included) and invisible format
# characters (zero-width spaces and joiners, bidi controls, BOMs), and the line and paragraph
# separators. Two names differing by one of them look identical and would be two zones.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_CONTROL_NAMES = {
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
}


def excerpt(text: str) -> str:
    """Text short enough to quote in a message: whole, or its start and its length."""
    if len(text) <= EXCERPT_WHOLE_UP_TO:
        return text
    return _("%(start)s… (%(length)s characters)") % {
        "start": text[:EXCERPT_CHARS],
        "length": len(text),
    }


def character_name(character: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: a character as a message names it."""
    name = unicodedata.name(character, "") or _CONTROL_NAMES.get(character, "")
    return f"U+{ord(character):04X} {name}".rstrip()


def invisible_character(text: str) -> str | None:
    """The first control or invisible format character of ``text``, or None."""
    for character in text:
        if unicodedata.category(character) in _INVISIBLE_CATEGORIES:
            return character
    return None


_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff65-\uff9f]")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
# Latin letters with accents and the Latin-1 symbols: what UTF-8 read as Latin-1 or cp1252
# looks like ("æ­" for "杭").
_LATIN_MOJIBAKE = re.compile("[\u0080-\u024f]")


def chinese_name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name in Chinese, or None when it can.

    A Chinese name holds Chinese characters, and none of what text read in the wrong
    encoding turns into: private-use or unassigned code points, Latin-1 letters and symbols
    ("Ã¦"), kana (half-width or not) or hangul.
    """
    for character in text:
        if unicodedata.category(character) in {"Co", "Cn"} or (
            _KANA.match(character) or _HANGUL.match(character) or _LATIN_MOJIBAKE.match(character)
        ):
            return _(
                "“%(value)s” is not a Chinese name: it holds %(character)s. Check that the file "
                "was saved as UTF-8 or GB18030."
            ) % {"value": excerpt(text), "character": character_name(character)}
    if not _IDEOGRAPH.search(text):
        return _("“%(value)s” is not a Chinese name: it holds no Chinese character.") % {
            "value": excerpt(text)
        }
    return None


def _cell_problem(value: object, limits: ReadLimits) -> str | None:
    if not isinstance(value, str):
        return None
    if len(value) > limits.cell_chars:
        return _("the text “%(text)s” is longer than %(max)s characters.") % {
            "text": excerpt(value),
            "max": limits.cell_chars,
        }
    character = invisible_character(value)
    if character is not None:
        return _("the text holds %(character)s, an invisible or control character; remove it.") % {
            "character": character_name(character)
        }
    return None


def table_from_rows(
    rows: Iterable[tuple[int, Sequence[object]]],
    *,
    table: TableFormat,
    strict_width: bool = True,
    notices: Sequence[str] = (),
    limits: ReadLimits | None = None,
) -> Table:
    """Check raw rows (header first) and build a ``Table`` of the format's columns.

    ``rows`` yields ``(spreadsheet row number, cells)``. Every row counts against the row
    limit, blank or not, and reading stops at the first row beyond it; blank rows are then
    skipped. A row may hold at most the column limit of cells. With ``strict_width`` (CSV)
    every row must have as many cells as the header; without it (spreadsheets, where empty
    cells at the end of a row are simply absent) a row may be shorter, but never hold a value
    beyond the last named column. Text cells are normalised (NFC, surrounding white space
    removed) and refused when too long or holding a control or invisible character.
    """
    limits = limits or ReadLimits.from_settings()
    problems: list[str] = []
    dataset = Table()
    dataset.notices.extend(notices)
    header: list[str] | None = None
    positions: dict[str, int] = {}

    # The processor time of this thread: the work the file costs, whatever else the machine
    # (or another thread of the worker) is doing meanwhile.
    deadline = time.thread_time() + READ_DEADLINE_SECONDS
    for number, cells in rows:
        if number > limits.last_row:
            raise TableFileError(table.too_many_rows_message(limits.rows))
        if time.thread_time() > deadline:
            raise TableFileError(
                _(
                    "Row %(row)s: the file takes too long to read; split it into smaller files "
                    "or save it again as CSV."
                )
                % {"row": number}
            )
        if len(cells) > limits.columns:
            raise TableFileError(
                _("Row %(row)s has %(count)s cells; at most %(max)s columns are read.")
                % {"row": number, "count": len(cells), "max": limits.columns}
            )
        if all(_is_blank(cell) for cell in cells):
            continue
        if header is None:
            header = [_header_text(cell) for cell in cells]
            for position, text in enumerate(header):
                if len(text) > limits.cell_chars:
                    problems.append(
                        _(
                            "Row %(row)s, column %(letter)s: the header is longer than %(max)s "
                            "characters."
                        )
                        % {
                            "row": number,
                            "letter": column_letter(position),
                            "max": limits.cell_chars,
                        }
                    )
            if problems:
                raise TableFileError(problems)
            positions = _read_header(header, number, dataset, problems, table)
            if problems:
                raise TableFileError(problems)
            dataset.headers = list(positions)
            # (name, position, keeps dates) of each column, worked out once for every row.
            layout = [
                (name, position, table.keeps_dates(name)) for name, position in positions.items()
            ]
            continue
        if len(cells) != len(header) and (strict_width or len(cells) > len(header)):
            problems.append(_ragged_message(number, len(cells), len(header), cells, strict_width))
            continue
        padded = [*cells, *[None] * (len(header) - len(cells))]
        values = []
        for name, position, keep in layout:
            value = normalise_cell(padded[position], keep_dates=keep)
            problem = _cell_problem(value, limits)
            if problem is not None:
                problems.append(
                    _("Row %(row)s, column %(column)s: %(problem)s")
                    % {
                        "row": number,
                        "column": excerpt(dataset.column_labels.get(name, name)),
                        "problem": problem,
                    }
                )
            values.append(value)
        dataset.append(values)
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
    """A cell as a check expects it: NFC text, trimmed, without the export's leading ``'``.

    Trimming removes all surrounding white space, the ideographic space U+3000 included; NFC
    makes "é" typed as e and a combining accent the same text as "é". Spreadsheet cells arrive
    typed: whole numbers become their digits (Excel stores 3 as 3.0), dates stay dates only
    in the columns that keep them.
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
    text = unicodedata.normalize("NFC", str(value)).strip()
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
