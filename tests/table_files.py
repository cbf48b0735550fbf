"""Workbooks written by hand (zip members of raw XML), for tests of damaged and hostile files."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    b'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    b'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    b'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
ROOT_RELS = (
    f'<?xml version="1.0"?><Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
    f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
).encode()
WORKBOOK = (
    f'<?xml version="1.0"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
    '<sheet name="zones" sheetId="1" r:id="rId1"/></sheets></workbook>'
).encode()
WORKBOOK_RELS = (
    f'<?xml version="1.0"?><Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
    f'Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
    f'Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
).encode()


def sheet_xml(rows: bytes) -> bytes:
    """A worksheet part around the given ``<row>`` elements."""
    return (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
        + rows
        + b"</sheetData></worksheet>"
    )


def shared_strings_xml(strings: Iterable[str]) -> bytes:
    items = "".join(f"<si><t>{text}</t></si>" for text in strings)
    return f'<?xml version="1.0"?><sst xmlns="{MAIN_NS}">{items}</sst>'.encode()


def inline_row(number: int, texts: Iterable[str]) -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t>{text}</t></is></c>' for text in texts)
    return f'<row r="{number}">{cells}</row>'.encode()


def workbook(sheet: bytes, shared_strings: bytes | None = None) -> bytes:
    """An XLSX workbook of one sheet whose XML is given as is."""
    members = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": shared_strings or shared_strings_xml([]),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def repeated_deflate(unit: bytes, times: int) -> bytes:
    """Raw deflate data of ``unit`` repeated ``times`` times, without compressing it all.

    After a full flush the compressor starts afresh, so the compressed form of one unit can
    be repeated: this is how a small file unpacks to gigabytes.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * times + compressor.flush()


def bomb_workbook(sheet_prefix: bytes, unit: bytes, times: int, sheet_suffix: bytes) -> bytes:
    """A workbook whose sheet is ``prefix + unit × times + suffix``, zipped by hand.

    Only the compressed form of one unit is repeated, so a few megabytes that unpack to
    gigabytes take a moment to build.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(sheet_prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = repeated_deflate(unit, times)[: -len(zlib.compressobj(9, zlib.DEFLATED, -15).flush())]
    tail_compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = tail_compressor.compress(sheet_suffix) + tail_compressor.flush()
    sheet = head + body + tail
    size = len(sheet_prefix) + len(unit) * times + len(sheet_suffix)
    small = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/sharedStrings.xml": shared_strings_xml([]),
    }
    members = [
        (name, _deflate(content), zlib.crc32(content), len(content))
        for name, content in small.items()
    ]
    crc = zlib.crc32(sheet_prefix)
    for _ in range(times):
        crc = zlib.crc32(unit, crc)
    members.append(("xl/worksheets/sheet1.xml", sheet, zlib.crc32(sheet_suffix, crc), size))
    return _zip(members)


def _deflate(content: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(content) + compressor.flush()


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of already deflated members: (name, data, crc, unpacked size)."""
    out = io.BytesIO()
    central = io.BytesIO()
    for name, data, crc, size in members:
        encoded = name.encode()
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0
            )
        )
        out.write(encoded)
        out.write(data)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        central.write(encoded)
    start = out.tell()
    directory = central.getvalue()
    out.write(directory)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), start, 0
        )
    )
    return out.getvalue()
