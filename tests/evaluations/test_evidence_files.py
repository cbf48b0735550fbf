"""Evidence files are typed by their content, never by their name (no database)."""

import pytest

from evaluations.evidence import EvidenceRefused, evidence_kind
from tests.evidence_files import CSV, DOCX, EXECUTABLE, HTML, JPEG, PDF, PLAIN_ZIP, PNG, XLSX


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("report.pdf", PDF, "pdf"),
        ("photo.PNG", PNG, "png"),
        ("photo.jpg", JPEG, "jpeg"),
        ("photo.jpeg", JPEG, "jpeg"),
        ("figures.xlsx", XLSX, "xlsx"),
        ("letter.docx", DOCX, "docx"),
        ("figures.csv", CSV, "csv"),
        ("gbk.csv", "区,值\n甲市,1\n".encode("gb18030"), "csv"),
    ],
)
def test_it_accepts_each_allowed_kind_by_its_content(name, content, kind):
    assert evidence_kind(name, content) == kind


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("report.pdf", EXECUTABLE, "Only PDF"),
        ("page.html", HTML, "Only PDF"),
        ("figures.csv", HTML, "Only PDF"),
        ("archive.xlsx", PLAIN_ZIP, "Only PDF"),
        ("report.pdf", PNG, "content is PNG"),
        ("figures.xlsx", DOCX, "content is DOCX"),
        ("photo.png", CSV, "content is CSV"),
        ("noextension", PDF, "content is PDF"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_it_refuses_a_file_of_a_refused_type_or_lying_about_its_type(name, content, says):
    with pytest.raises(EvidenceRefused, match=says):
        evidence_kind(name, content)


def test_it_refuses_a_file_above_the_size_limit():
    with pytest.raises(EvidenceRefused, match="larger than"):
        evidence_kind("big.pdf", PDF + b"0" * 2048, max_bytes=1024)
    assert evidence_kind("small.pdf", PDF, max_bytes=1024) == "pdf"
