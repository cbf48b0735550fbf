"""Small evidence files built in code: real headers and packages, and files that lie."""

from __future__ import annotations

import io
import zipfile

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
CSV = "zone,value\n甲市,12.5\n".encode()
HTML = b"<html><body><script>alert(1)</script></body></html>"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def package(*parts: str) -> bytes:
    """A zip holding the named parts (each with a little XML)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in parts:
            archive.writestr(part, "<x/>")
    return buffer.getvalue()


XLSX = package("[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml")
DOCX = package("[Content_Types].xml", "word/document.xml")
PLAIN_ZIP = package("readme.txt")
