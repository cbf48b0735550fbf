"""What an evidence file is, read from its content and never from its name (pure).

Accepted: PDF, PNG, JPEG, XLSX and DOCX (zip packages holding the parts of their kind), and
CSV (text that decodes as UTF-8 or GB18030, without NUL bytes). The name's extension must
agree with the content, so a file that lies about its type is refused.
"""

from __future__ import annotations

import io
import zipfile

from django.utils.translation import gettext as _

# The largest evidence file, in bytes.
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024

# kind -> the extensions a name of that kind may carry, and the content type it is served as.
KINDS: dict[str, tuple[set[str], str]] = {
    "pdf": ({"pdf"}, "application/pdf"),
    "png": ({"png"}, "image/png"),
    "jpeg": ({"jpg", "jpeg"}, "image/jpeg"),
    "xlsx": ({"xlsx"}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "docx": (
        {"docx"},
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "csv": ({"csv"}, "text/csv"),
}


class EvidenceRefused(ValueError):
    """The file is too large, of a refused type, or not what its name says."""


def evidence_kind(name: str, content: bytes, *, max_bytes: int = EVIDENCE_MAX_BYTES) -> str:
    """The kind of an evidence file (a key of ``KINDS``), or EvidenceRefused saying why."""
    if len(content) > max_bytes:
        raise EvidenceRefused(
            _("The file is larger than %(size)s MB.") % {"size": max_bytes // (1024 * 1024)}
        )
    if not content:
        raise EvidenceRefused(_("The file is empty."))
    kind = _sniff(content)
    if kind is None:
        raise EvidenceRefused(
            _("Only PDF, PNG, JPEG, XLSX, DOCX and CSV files are accepted as evidence.")
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in KINDS[kind][0]:
        raise EvidenceRefused(
            _("The file's name says .%(extension)s, but its content is %(kind)s.")
            % {"extension": extension, "kind": kind.upper()}
        )
    return kind


def _sniff(content: bytes) -> str | None:
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"PK\x03\x04"):
        return _office_kind(content)
    return "csv" if _is_text(content) else None


def _office_kind(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            names = set(package.namelist())
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "docx"
    return None


def _is_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    head = content[:4096].lstrip()
    # Markup a browser might render is never taken for a table, whatever its name.
    if head[:1] == b"<":
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False
