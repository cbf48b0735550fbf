"""English and Simplified Chinese: the catalogue is complete, compiled, and the pages use it.

1. Every string marked for translation has a Chinese translation that Django will use: the
   catalogue is regenerated (as ``make messages`` does) in a copy of the project, and no entry
   may come out empty or fuzzy. Needs GNU gettext; skipped without it locally, failed in CI.
2. The committed ``django.mo`` is the compiled ``django.po``: every msgid and msgstr agrees.
3. The main pages, asked for in Chinese, speak Chinese: their labels, statuses and grades are
   Chinese, and the only Latin words left on them are data (zone names, user names), the
   product's name, file formats and the language switch's "English".
"""

from __future__ import annotations

import gettext
import html
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from evaluations.models import Cycle, Decision, Evaluation, EvaluationStatus, Outcome
from evaluations.services import (
    cycle_open,
    cycle_publish,
    decision_record,
    evaluation_assign,
    rankings_compute,
)
from tests.evaluations.conftest import cycle, framework, zones  # noqa: F401 (fixtures)
from tests.factories import score_all

BASE_DIR = Path(settings.BASE_DIR)
CATALOGUE = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = CATALOGUE / "django.po"
MO = CATALOGUE / "django.mo"
GETTEXT_TOOLS = ("xgettext", "msgmerge", "msguniq", "msgattrib")

# What ``make messages`` leaves out of the scan; the copy leaves out the same, and what no
# scan should read (the repository, databases, caches, browser screenshots).
MAKEMESSAGES_IGNORED = (".venv", "bench", "staticfiles")
NOT_COPIED = (
    *MAKEMESSAGES_IGNORED,
    ".git",
    ".ruff_cache",
    ".pytest_cache",
    "__pycache__",
    "node_modules",
    "screenshots",
    "*.sqlite3",
    "*.sqlite3-*",
    "*.pyc",
)


# --- the catalogue's entries, read with polib ------------------------------------------------


def messages(catalogue: polib.POFile) -> list[polib.POEntry]:
    """The translatable entries: not the obsolete ones (polib keeps the header apart)."""
    return [entry for entry in catalogue if not entry.obsolete]


def translations(entry: polib.POEntry) -> dict[int, str]:
    """An entry's msgstr by plural form: form 0 alone for a message without plural."""
    return dict(entry.msgstr_plural) if entry.msgid_plural else {0: entry.msgstr}


def key(entry: polib.POEntry) -> str:
    """The key GNU gettext stores an entry under: the context, EOT, then the msgid."""
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt is not None else entry.msgid


def where(entry: polib.POEntry) -> str:
    return " ".join(f"{path}:{line}" for path, line in entry.occurrences) or "(no reference)"


# --- 1. every marked string is translated --------------------------------------------------


def _gettext_or_skip() -> None:
    missing = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    message = (
        f"GNU gettext is not installed ({', '.join(missing)} missing): apt-get install gettext"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _project_copy(destination: Path) -> Path:
    """The project's sources and its locale folder, as ``make messages`` would see them."""
    shutil.copytree(
        BASE_DIR, destination, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True
    )
    return destination


def _makemessages(project: Path) -> subprocess.CompletedProcess:
    """``make messages``'s makemessages, run in ``project`` with that copy's own settings."""
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "zonetracker.settings",
        "PYTHONPATH": str(project),
    }
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale=zh_Hans",
            "--no-obsolete",
            *(f"--ignore={pattern}" for pattern in MAKEMESSAGES_IGNORED),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, polib.POFile]:
    """The catalogue regenerated from today's sources, merged with the committed one."""
    _gettext_or_skip()
    project = _project_copy(tmp_path_factory.mktemp("makemessages") / "project")
    result = _makemessages(project)
    assert result.returncode == 0, result.stdout + result.stderr
    return project, polib.pofile(project / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")


def test_every_string_marked_for_translation_has_a_chinese_translation(
    regenerated: tuple[Path, polib.POFile],
) -> None:
    _project, catalogue = regenerated
    found = messages(catalogue)
    # The scan found the project's strings (a broken scan would find none and pass).
    assert len(found) > 400
    assert {"Zones", "notable results", "The evaluation is submitted for approval."} <= {
        e.msgid for e in found
    }

    untranslated = [
        f"{where(e)}: {e.msgid!r}"
        for e in found
        if any(not text.strip() for text in translations(e).values())
    ]
    fuzzy = [f"{where(e)}: {e.msgid!r}" for e in found if e.fuzzy]
    assert not untranslated, (
        "Strings without a Chinese translation; run `make messages` and translate them in "
        f"{PO.relative_to(BASE_DIR)}:\n" + "\n".join(untranslated)
    )
    assert not fuzzy, (
        "Fuzzy translations (Django does not use them): check each, correct it and remove "
        "its `#, fuzzy` flag, then run `make messages`:\n" + "\n".join(fuzzy)
    )


def test_make_messages_writes_only_the_projects_catalogue(
    regenerated: tuple[Path, polib.POFile],
) -> None:
    """makemessages writes to LOCALE_PATHS[0] and leaves django-filter's catalogue alone."""
    project, _catalogue = regenerated
    for name in ("django.po", "django.mo"):
        relative = Path("locale", "django_filters", "zh_Hans", "LC_MESSAGES", name)
        assert (project / relative).read_bytes() == (BASE_DIR / relative).read_bytes()
    # No other language appears (locale/ also holds the glossary, a file).
    languages = sorted(p.name for p in (project / "locale").iterdir() if p.is_dir())
    assert languages == ["django_filters", "zh_Hans"]


# --- 2. the compiled catalogue is the catalogue ---------------------------------------------


def _mo_catalogue() -> dict:
    with MO.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)


def test_the_catalogue_has_no_fuzzy_or_empty_entry_and_says_it_is_simplified_chinese() -> None:
    catalogue = polib.pofile(PO)
    assert not catalogue.metadata_is_fuzzy
    assert catalogue.metadata["Language"] == "zh_Hans"
    assert catalogue.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
    assert catalogue.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    found = messages(catalogue)
    assert [e.msgid for e in found if e.fuzzy] == []
    assert [e.msgid for e in found if not all(translations(e).values())] == []
    # Chinese has one plural form: every plural entry has msgstr[0] and nothing else.
    assert [e.msgid for e in found if e.msgid_plural and set(translations(e)) != {0}] == []


def test_the_compiled_catalogue_gives_exactly_what_the_po_file_says() -> None:
    catalogue = _mo_catalogue()
    expected: dict = {}
    for entry in messages(polib.pofile(PO)):
        if not entry.msgid_plural:
            expected[key(entry)] = entry.msgstr
        else:
            for index, text in translations(entry).items():
                expected[(key(entry), index)] = text
    compiled = {key: text for key, text in catalogue.items() if key != ""}
    assert len(expected) > 400
    stale = sorted(str(k) for k in expected if compiled.get(k) != expected[k])
    extra = sorted(str(k) for k in compiled if k not in expected)
    assert not stale and not extra, (
        "django.mo is not the compiled django.po: run `make messages` and commit both.\n"
        f"differs or missing in .mo: {stale[:20]}\nonly in .mo: {extra[:20]}"
    )


_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdirfg]|%[sdr]")


def test_every_translation_keeps_the_placeholders_of_its_english() -> None:
    """A lost or misspelt %(name)s would fail (or show the wrong figure) only in Chinese."""
    wrong = []
    for entry in messages(polib.pofile(PO)):
        if "python-format" not in entry.flags:
            continue
        english = sorted(_PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for text in translations(entry).values():
            if sorted(_PLACEHOLDER.findall(text)) != english:
                wrong.append(f"{entry.msgid!r} -> {text!r}")
    assert not wrong, "\n".join(wrong)


def test_django_uses_the_compiled_catalogue() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("Zones") == "综试区"
        assert translation.gettext("still at the starting stage") == "尚在起步阶段"
        assert translation.ngettext("%(counter)s zone matches.", "%(counter)s zones match.", 3) % {
            "counter": 3
        } == ("共3个综试区符合条件。")
    with translation.override("en"):
        assert translation.gettext("Zones") == "Zones"


# --- 3. pages in Chinese -------------------------------------------------------------------

# Latin words that may stay on a Chinese page: zonetracker's name, file formats, the language
# switch's own name for English, and the test data (zone names in English, user names).
ALLOWED_LATIN = {"zonetracker", "CSV", "XLSX", "Excel", "English"}
DATA_WORDS = {"Alpha", "Bravo", "Charlie", "Delta", "alice", "bob", "carol", "dave", "erin"}


def visible_text(response) -> str:
    """What a reader sees or hears: the text, the <title>, and labels given as attributes."""
    page = response.content.decode()
    labels = " ".join(re.findall(r'\s(?:aria-label|title|placeholder|alt)="([^"]*)"', page))
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(f"{text} {labels}"))


def latin_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{3,}", text)) - ALLOWED_LATIN - DATA_WORDS


def chinese(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.headers["Content-Language"] == "zh-hans"
    return visible_text(response)


def zh_client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.fixture
def story(cycle: Cycle, alice: User, bob: User, carol: User) -> dict:  # noqa: F811
    """2021 published: Alpha grade 1, Bravo and Charlie grade 4 (Bravo warned by bob, Charlie
    awaiting a decision); 2022 open, its evaluations assigned to carol."""
    cycle.grade1_size = 1
    cycle.save()
    score_all(cycle, {"Alpha": 10, "Bravo": 3, "Charlie": 2})
    cycle_publish(cycle=cycle)
    bravo = Decision.objects.get(cycle=cycle, zone__name_en="Bravo")
    decision_record(decision=bravo, outcome=Outcome.WARN, rationale="限期半年整改。", by=bob)
    current = cycle_open(year=2022)
    evaluation_assign(evaluations=current.evaluations.all(), reviewer=carol, by=alice)
    rankings_compute(cycle=current)
    return {
        "published": cycle,
        "current": current,
        "entry": current.evaluations.get(zone__name_en="Alpha"),
    }


def test_the_zone_list_in_chinese(story: dict, dave: User) -> None:
    text = chinese(zh_client(dave), reverse("registry:zone_list"))

    for label in ("综试区", "省份", "地区", "批次", "类型", "状态", "筛选", "清除筛选条件"):
        assert label in text
    assert "共4个综试区符合条件。" in text
    assert "全部省份" in text and "东部" in text and "城市" in text
    assert "正常" in text and "警示中" in text  # Bravo is on notice since bob's warning
    for english in ("Zones", "Filter", "Clear filters", "Province", "active", "on notice"):
        assert english not in text
    assert latin_words(text) == set()


def test_the_zone_page_in_chinese(story: dict, dave: User) -> None:
    text = chinese(zh_client(dave), reverse("registry:zone_detail", args=["bravo"]))

    assert "中国（乙市）跨境电子商务综合试验区" in text
    for label in ("中文名称", "英文名称", "省份", "地区", "历年排名与档次"):
        assert label in text
    assert re.search(r"第\d+批 ，2019年12月15日获批 ?（国函〔2020〕\d+号）", text)
    assert "尚在起步阶段" in text and "警示中" in text and "状态变化时间线" in text
    assert "2021年度评估后的处理决定： 警示" in text
    for english in ("Chinese name", "Rank and grade by year", "Status timeline", "on notice"):
        assert english not in text
    assert latin_words(text) == set()


def test_the_rankings_page_in_chinese(story: dict, dave: User) -> None:
    text = chinese(zh_client(dave), reverse("evaluations:cycle_rankings", args=[2021]))

    assert "2021年度排名" in text
    for label in ("排名", "综试区", "省份", "总分", "档次", "处理建议", "处理决定"):
        assert label in text
    for grade in ("成效明显", "成效较好", "成效初显", "尚在起步阶段"):
        assert grade in text
    assert "警示（予以警示，限期整改）" in text and "第1档“成效明显”：1个综试区" in text
    for english in ("Rankings of", "notable results", "Grade", "Recommendation", "Total"):
        assert english not in text
    assert latin_words(text) == set()


def test_the_entry_page_in_chinese_and_its_messages(story: dict, carol: User) -> None:
    evaluation: Evaluation = story["entry"]
    client = zh_client(carol)
    url = reverse("evaluations:evaluation_detail", args=[evaluation.pk])
    text = chinese(client, url)

    assert "甲市：2022年度评估" in text
    assert "草稿" in text and "填报中" in text and "评审员" in text
    for dimension in ("工作推进（过程指标）", "信息共享体系", "线上综合服务平台", "成效"):
        assert dimension in text
    assert "保存草稿" in text and "提交" in text
    p1 = evaluation.cycle.indicators.get(code="P1")
    assert f"P1 {p1.name_zh} 的数值（0～10）" in text
    for english in ("Save draft", "Submit", "Value of", "Scores", "draft"):
        assert english not in text
    assert latin_words(text) == set()

    # A value out of range: the message is Chinese, and nothing is submitted.
    data = {"version": str(evaluation.version)}
    for indicator in evaluation.cycle.indicators.all():
        data[f"value_{indicator.pk}"] = "11" if indicator.code == "P1" else "5"
    answer = client.post(reverse("evaluations:evaluation_submit", args=[evaluation.pk]), data)
    text = visible_text(answer)
    assert re.search(r"11高于最大有效值10(\.0+)?。", text)
    assert "above the highest valid value" not in text
    assert latin_words(text) == set()
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.DRAFT

    data[f"value_{p1.pk}"] = "8"
    data["version"] = str(evaluation.version)
    answer = client.post(
        reverse("evaluations:evaluation_submit", args=[evaluation.pk]), data, follow=True
    )
    assert [str(m) for m in answer.context["messages"]] == ["该评估已提交审核。"]
    assert "已提交" in visible_text(answer)
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.scores.get(indicator=p1).value) == (
        EvaluationStatus.SUBMITTED,
        Decimal("8"),
    )


def test_the_decisions_page_in_chinese(story: dict, bob: User) -> None:
    text = chinese(zh_client(bob), reverse("evaluations:cycle_decisions", args=[2021]))

    assert "2021年度评估后的处理决定" in text
    assert "1项处理建议待作出决定" in text and "已作出1项处理决定" in text
    assert "评为“尚在起步阶段”或更低档次的综试区将被警示并限期整改" in text
    for choice in ("保留", "警示", "限期整改", "退出"):
        assert choice in text
    assert "决定理由" in text and "记录处理决定" in text and "限期半年整改。" in text
    assert "截至2021年度，连续1个已发布的评估周期处于第4档或更低档次" in text
    for english in ("Record the decision", "Rationale", "retain", "require rectification"):
        assert english not in text
    assert latin_words(text) == set()


def test_the_methodology_page_in_chinese(story: dict, dave: User) -> None:
    text = chinese(zh_client(dave), reverse("evaluations:cycle_methodology", args=[2021]))

    assert "综试区如何评定档次及退出" in text and "指标与权重" in text
    assert "排名前1位的综试区。" in text and "其余总分在75分及以上的综试区。" in text
    assert "连续2轮已发布的评估中处于第4档或更低档次的综试区，建议退出。" in text
    for english in ("How zones are graded", "Weight", "Share", "Warning and exit"):
        assert english not in text
    assert latin_words(text) == set()


def test_the_home_navigation_and_progress_in_chinese(story: dict, bob: User) -> None:
    client = zh_client(bob)
    home = chinese(client, reverse("home"))

    assert "待您处理" in home and "待作处理决定" in home and "项待决定" in home
    assert "评估方法" in home and "进度" in home
    assert latin_words(home) == set()

    progress = chinese(client, reverse("evaluations:cycle_progress", args=[2022]))
    assert "2022年度评估进度" in progress and "按评审员" in progress and "按省份" in progress
    assert latin_words(progress) == set()


def test_the_same_pages_stay_english_for_an_english_reader(story: dict, dave: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(dave)
    text = visible_text(client.get(reverse("evaluations:cycle_rankings", args=[2021])))
    assert "Rankings of 2021" in text and "notable results" in text
    assert "排名" not in text and "成效明显" not in text
