"""How pieces of text join: each language punctuates its own sentences, lists and figures.

Joining translated pieces with ", " or " " in code would put English punctuation into Chinese
("甲市, 乙市"; "已保存。 请核对"); each join here is a translatable format instead, so that the
Chinese catalogue writes "甲市、乙市" and "已保存。请核对" while English keeps its commas and
spaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce

from django.utils.translation import gettext_noop, pgettext

# Django's forms end every label with gettext(":"), which its own Chinese catalogue leaves as
# the ASCII colon; zonetracker's catalogue, read first, gives the full-width one.
LABEL_SUFFIX = gettext_noop(":")


def _fold(parts: Iterable[object], context: str, pattern: str) -> str:
    texts = [str(part) for part in parts if part not in (None, "")]
    if not texts:
        return ""
    return reduce(
        lambda head, tail: pgettext(context, pattern) % {"head": head, "tail": tail}, texts
    )


def sentences(parts: Iterable[object]) -> str:
    """Whole sentences one after another: a space between them in English, none in Chinese."""
    return _fold(parts, "sentences one after another", "%(head)s %(tail)s")


def enumeration(items: Iterable[object]) -> str:
    """Names or codes listed in a sentence: "Alpha, Bravo" in English, "甲市、乙市" in Chinese."""
    return _fold(items, "items of a list", "%(head)s, %(tail)s")


def facts(parts: Iterable[object]) -> str:
    """Facts about one thing in a row: "74.50, rank 3" in English, "74.50，第3名" in Chinese."""
    return _fold(parts, "facts about one thing in a row", "%(head)s, %(tail)s")


def percent(number: object) -> str:
    """A percentage written as each language writes it: 12.5% in both, without a space."""
    return pgettext("a percentage", "%(number)s%%") % {"number": number}


def clauses(parts: Iterable[object]) -> str:
    """Clauses of one description: "rank 1, Alpha: 90; rank 2, …" with a Chinese semicolon
    in Chinese."""
    return _fold(parts, "clauses of one description", "%(head)s; %(tail)s")
