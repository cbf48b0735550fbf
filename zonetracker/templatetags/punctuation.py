"""Template forms of zonetracker.punctuation: facts in a row and percentages."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from zonetracker import punctuation

register = template.Library()


@register.simple_tag
def facts(*parts: object) -> SafeString:
    """``{% facts total rank_text grade %}``: the non-empty parts joined as the language joins
    facts about one thing (HTML in a part is escaped unless it is already safe)."""
    return mark_safe(punctuation.facts(conditional_escape(part) for part in parts if part))


@register.filter
def percent(number: object) -> str:
    """``{{ share|percent }}``: 12.5% as the language writes a percentage."""
    return punctuation.percent(number)


@register.filter
def enumeration(items: Iterable[object], attribute: str = "") -> str:
    """``{{ indicators|enumeration:"code" }}``: "R1, R2" in English, "R1、R2" in Chinese."""
    return punctuation.enumeration(
        getattr(item, attribute) if attribute else item for item in items
    )
