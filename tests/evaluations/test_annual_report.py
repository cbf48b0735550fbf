"""The annual report of a published cycle: the printable page, its PDF made on the server,
and the annual_report command."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from evaluations.models import Cycle
from evaluations.report_pdf import pdf_problem
from tests.api_data import World, build_world


@pytest.fixture
def world(db) -> World:
    return build_world()


def report_url(year: int = 2022) -> str:
    return reverse("evaluations:annual_report", kwargs={"year": year})


def pdf_url(year: int = 2022) -> str:
    return reverse("evaluations:annual_report_pdf", kwargs={"year": year})


def pdf_text(content: bytes) -> tuple[int, list[str]]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), [page.extract_text() for page in reader.pages]


def test_the_report_page_tells_the_year(world, dave):
    client = Client()
    client.force_login(dave)
    html = client.get(report_url()).content.decode()
    assert "Annual report of the evaluation of 2022" in html
    # The grade counts, the top grade, each province side by side, movement, decisions.
    assert re.search(r"1 · notable results</th><td class=\"numeric\">1<", html)
    assert "Bravo" in html and "Eastshire" in html and "Westshire" in html
    assert "Against 2021: 1 rose, 2 fell, 1 kept their rank and 1 were ranked" in html
    assert "Warnings, exits and decisions" in html
    assert "Grade 1 goes to the zones ranked in the top 10 places" in html
    assert 'class="tile-map__drawing"' in html


def test_the_report_page_has_no_navigation_and_a_print_stylesheet(world, dave):
    client = Client()
    client.force_login(dave)
    html = client.get(report_url()).content.decode()
    assert "<nav" not in html
    assert "/static/css/report.css" in html
    assert "<style" not in html and "style=" not in html and "<script" not in html


def test_the_print_stylesheet_lays_out_numbered_a4_pages():
    from django.contrib.staticfiles import finders

    css = Path(finders.find("css/report.css")).read_text(encoding="utf-8")
    assert "size: A4" in css
    assert "counter(page)" in css and "counter(pages)" in css


def test_a_cycle_not_published_has_no_report(world, alice):
    client = Client()
    client.force_login(alice)
    assert client.get(report_url(2023)).status_code == 404
    assert client.get(pdf_url(2023)).status_code == 404


def test_the_report_is_read_where_the_rankings_are(world, settings):
    settings.PUBLIC_RANKINGS = False
    assert Client().get(report_url()).status_code == 302
    settings.PUBLIC_RANKINGS = True
    assert Client().get(report_url()).status_code == 200


def test_the_pdf_link_says_when_the_pdf_cannot_be_made(world, dave, monkeypatch):
    from evaluations import report_views

    monkeypatch.setattr(report_views, "pdf_problem", lambda: "libpango not found")
    client = Client()
    client.force_login(dave)
    html = client.get(report_url()).content.decode()
    assert "The PDF cannot be made on this server" in html
    assert pdf_url() not in html
    response = client.get(pdf_url())
    assert response.status_code == 503


def test_the_pdf_is_made_on_the_server_in_chinese(world, dave):
    assert pdf_problem() == ""
    client = Client()
    client.force_login(dave)
    response = client.get(pdf_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages, texts = pdf_text(response.content)
    assert 2 <= pages <= 6
    text = "".join(texts)
    assert "乙市" in text  # a zone's Chinese name, drawn in a CJK font
    assert "2022年度" in text or "2022" in text
    assert f"1 / {pages}" in texts[0]  # the page number at the foot


def test_demonstration_data_is_marked_on_every_page_of_the_pdf(world, tmp_path):
    Cycle.objects.filter(year=2022).update(is_demo=True)
    out = tmp_path / "report.pdf"
    call_command("annual_report", "2022", "--lang", "en", "--out", str(out))
    pages, texts = pdf_text(out.read_bytes())
    assert pages >= 2
    assert all("Demonstration data, not official results" in text for text in texts)


def test_the_command_writes_the_report_in_either_language(world, tmp_path):
    english, chinese = tmp_path / "en.pdf", tmp_path / "zh.pdf"
    call_command("annual_report", "2022", "--lang", "en", "--out", str(english))
    call_command("annual_report", "2022", "--lang", "zh-hans", "--out", str(chinese))
    _pages, texts = pdf_text(english.read_bytes())
    assert "Annual report of the evaluation of 2022" in texts[0]
    assert "Demonstration data" not in "".join(texts)
    _pages, texts = pdf_text(chinese.read_bytes())
    assert "丙市" in "".join(texts)


def test_the_command_refuses_a_cycle_not_published(world, tmp_path):
    with pytest.raises(CommandError, match="not published"):
        call_command("annual_report", "2023", "--out", str(tmp_path / "x.pdf"))


def test_the_report_page_speaks_chinese(world, dave):
    client = Client()
    client.force_login(dave)
    html = client.get(report_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="zh-Hans">' in html
    assert "2022年度评估报告" in html
    assert "与2021年度评估相比" in html
    assert "乙市" in html


def test_the_report_page_is_kept_until_a_decision_changes_it(world, dave, bob):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evaluations.models import Decision, Outcome
    from evaluations.services import decision_record

    client = Client()
    client.force_login(dave)
    first = client.get(report_url())
    with CaptureQueriesContext(connection) as queries:
        again = client.get(report_url())
    assert again.content == first.content
    assert not any("evaluations_evaluation" in q["sql"] for q in queries)
    assert again["ETag"] and again["Last-Modified"]
    assert client.get(report_url(), HTTP_IF_NONE_MATCH=again["ETag"]).status_code == 304
    delta = Decision.objects.get(cycle=world.cycles[2022], zone=world.zones["Delta"])
    decision_record(decision=delta, outcome=Outcome.RECTIFY, rationale="Weak.", by=bob)
    with CaptureQueriesContext(connection) as queries:
        after = client.get(report_url())
    assert any("evaluations_evaluation" in q["sql"] for q in queries)
    assert after["ETag"] != again["ETag"]
