"""Chinese as the first language: the glossary's terms, and Chinese punctuation on the pages.

1. ``locale/glossary.csv`` names the product's Chinese for each English term. Every msgid that
   contains a term (as a word, any case, plural included) translates it with the glossary's
   Chinese; a longer term that contains a shorter one ("approved on" in "approved") rules
   where it matches, and the glossary's ``except:`` rows name the msgids that say it otherwise.
2. The pages, asked for in Chinese by the roles that see them, put no ASCII comma, colon or
   parenthesis next to a Chinese character in their visible text (code, scripts, attributes
   and numbers aside): each language punctuates its own sentences.
"""

from __future__ import annotations

import csv
import html
import re
from dataclasses import dataclass
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from evaluations.models import Cycle, Evaluation
from tests.evaluations.conftest import cycle, framework, zones  # noqa: F401 (fixtures)
from tests.test_translations import PO, messages, story, translations  # noqa: F401

GLOSSARY = Path(settings.BASE_DIR) / "locale" / "glossary.csv"
EXCEPT = "except:"


@dataclass(frozen=True)
class Term:
    english: str
    chinese: str
    applies_to: str
    note: str

    @property
    def pattern(self) -> re.Pattern:
        words = r"\s+".join(re.escape(word) for word in self.english.split())
        # Not inside a placeholder's name (%(cycle)s) nor a file name (provinces.csv).
        return re.compile(rf"(?<![\w(-]){words}(?:s|es)?(?![\w)-]|\.\w)", re.IGNORECASE)


def glossary() -> tuple[list[Term], dict[str, set[str]]]:
    """The terms, and for each term the msgids listed as saying it otherwise."""
    with GLOSSARY.open(encoding="utf-8", newline="") as handle:
        rows = [Term(**row) for row in csv.DictReader(handle)]
    terms = [row for row in rows if not row.applies_to.startswith(EXCEPT)]
    exceptions: dict[str, set[str]] = {}
    for row in rows:
        if row.applies_to.startswith(EXCEPT):
            exceptions.setdefault(row.english.casefold(), set()).add(
                row.applies_to[len(EXCEPT) :].strip()
            )
    return terms, exceptions


def terms_in(msgid: str, terms: list[Term]) -> list[Term]:
    """The terms a msgid uses: where two overlap, the longer one (the more specific) counts."""
    found = [(m.start(), m.end(), term) for term in terms for m in term.pattern.finditer(msgid)]
    kept = [
        (start, end, term)
        for start, end, term in found
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _other in found)
    ]
    return list(dict.fromkeys(term for _s, _e, term in kept))


def test_the_glossary_is_well_formed() -> None:
    terms, exceptions = glossary()
    assert len(terms) >= 20
    english = [term.english.casefold() for term in terms]
    assert len(english) == len(set(english)), "a term is listed twice"
    assert all(term.chinese.strip() for term in terms)
    assert all(re.search(r"[\u4e00-\u9fff]", term.chinese) for term in terms)
    # Every exception names a term of the glossary and a msgid of the catalogue.
    msgids = {entry.msgid for entry in messages(polib.pofile(PO))}
    assert set(exceptions) <= set(english)
    unknown = sorted(m for listed in exceptions.values() for m in listed if m not in msgids)
    assert not unknown, "exceptions that name no msgid of the catalogue:\n" + "\n".join(unknown)


def test_the_terms_match_as_words_and_the_longer_term_rules() -> None:
    zone = Term("zone", "综试区", "all", "")
    approved = Term("approved", "审核通过", "all", "")
    approved_on = Term("approved on", "批复日期", "all", "")
    terms = [zone, approved, approved_on]
    assert terms_in("Zones of the register", terms) == [zone]
    assert terms_in("%(zone)s is warned", terms) == []
    assert terms_in("Batch %(number)s was approved on %(date)s", terms) == [approved_on]
    assert terms_in("Nothing was approved.", terms) == [approved]
    assert terms_in("ozone layer", terms) == []


def test_every_msgid_with_a_glossary_term_uses_the_glossarys_chinese() -> None:
    terms, exceptions = glossary()
    wrong = []
    for entry in messages(polib.pofile(PO)):
        for term in terms_in(entry.msgid, terms):
            if entry.msgid in exceptions.get(term.english.casefold(), ()):
                continue
            for text in translations(entry).values():
                if term.chinese not in text:
                    wrong.append(f"{term.english} → {term.chinese}: {entry.msgid!r} → {text!r}")
    assert not wrong, (
        "Translations that do not use the glossary's term (locale/glossary.csv); correct the "
        "translation, or list the msgid as an exception with the reason:\n" + "\n".join(wrong)
    )


# --- 2. Chinese punctuation on the pages --------------------------------------------------

CHINESE = r"[\u3400-\u9fff\uf900-\ufaff]"
ASCII_MARK = r"[,:()]"
# A mark next to a Chinese character, spaces between them allowed: "试验区, " or "批 (2018)".
BESIDE_CHINESE = re.compile(rf"{CHINESE}\s*{ASCII_MARK}|{ASCII_MARK}\s*{CHINESE}")


def visible_text(page: str) -> str:
    """The page's text as a reader sees it: no scripts, styles, code, tags or attributes."""
    page = re.sub(r"<(script|style|code|pre|svg)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(text))


def ascii_marks_beside_chinese(text: str) -> list[str]:
    """Each ASCII comma, colon or parenthesis next to a Chinese character, in its context."""
    return [text[max(0, m.start() - 15) : m.end() + 15] for m in BESIDE_CHINESE.finditer(text)]


def test_the_check_finds_english_punctuation_in_chinese_and_leaves_numbers_alone() -> None:
    assert ascii_marks_beside_chinese("第3批 (2018年)") != []
    assert ascii_marks_beside_chinese("批准日期: 2019") != []
    assert ascii_marks_beside_chinese("甲市, 乙市") != []
    assert ascii_marks_beside_chinese("第3批（2018年）") == []
    assert ascii_marks_beside_chinese("共1,234个 12:30 f(x)") == []
    assert ascii_marks_beside_chinese(visible_text("<code>甲(1)</code><a title='甲:'>")) == []


def zh_client(user: User | None = None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def pages(story: dict, alice: User, bob: User, carol: User, dave: User) -> list[tuple]:  # noqa: F811
    """Each page with the role that reads it: the published year, the open year's entry."""
    entry: Evaluation = story["entry"]
    current: Cycle = story["current"]
    return [
        (dave, reverse("home")),
        (bob, reverse("home")),
        (carol, reverse("home")),
        (alice, reverse("home")),
        (None, reverse("login")),
        (None, reverse("password_reset")),
        (carol, reverse("evaluations:notification_list")),
        (dave, reverse("registry:zone_list")),
        (dave, reverse("registry:batch_list")),
        (dave, reverse("registry:zone_detail", args=["alpha"])),
        (dave, reverse("registry:zone_detail", args=["bravo"])),
        (dave, reverse("evaluations:cycle_rankings", args=[2021])),
        (bob, reverse("evaluations:cycle_rankings", args=[current.year])),
        (bob, reverse("evaluations:cycle_rankings", args=[2021])),
        (carol, reverse("evaluations:evaluation_detail", args=[entry.pk])),
        (bob, reverse("evaluations:evaluation_detail", args=[entry.pk])),
        (bob, reverse("evaluations:cycle_decisions", args=[2021])),
        (dave, reverse("evaluations:cycle_methodology", args=[2021])),
        (bob, reverse("evaluations:cycle_progress", args=[current.year])),
        (bob, reverse("evaluations:cycle_evaluations", args=[current.year])),
        (carol, reverse("evaluations:cycle_evaluations", args=[current.year])),
    ]


def test_the_pages_in_chinese_use_chinese_punctuation(pages: list[tuple]) -> None:
    found = []
    for user, url in pages:
        response = zh_client(user).get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Language"] == "zh-hans"
        found += [
            f"{url}: …{hit}…"
            for hit in ascii_marks_beside_chinese(visible_text(response.content.decode()))
        ]
    assert not found, "ASCII punctuation beside Chinese:\n" + "\n".join(found)


def test_the_admins_publish_confirmation_in_chinese_uses_chinese_punctuation(
    story: dict,  # noqa: F811
    alice: User,
) -> None:
    current: Cycle = story["current"]
    response = zh_client(alice).post(
        reverse("admin:evaluations_cycle_changelist"),
        {"action": "publish", "_selected_action": [current.pk]},
    )

    assert response.status_code == 200
    text = visible_text(response.content.decode())
    count = current.evaluations.count()
    assert f"2022年度评估（填报中，{count}项评估）" in text
    assert ascii_marks_beside_chinese(text) == []


def test_the_grade_history_tooltips_on_the_decisions_page_are_chinese(
    story: dict,  # noqa: F811
    bob: User,
) -> None:
    page = zh_client(bob).get(reverse("evaluations:cycle_decisions", args=[2021])).content
    assert 'title="2021年：尚在起步阶段"' in page.decode()
