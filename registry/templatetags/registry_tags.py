"""Template tags of the register's pages."""

from __future__ import annotations

import datetime

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from registry.models import Zone

register = template.Library()

# BCP 47 tags for the lang attribute, so that screen readers and fonts treat each name right.
_CHINESE = "zh-Hans"
_ENGLISH = "en"


def zone_names(zone: Zone, *, link: bool = True) -> dict[str, str]:
    """A zone's name in the active language, then its name in the other language: the parts
    of ``zone_name``."""
    chinese_first = zone.name == zone.name_zh
    if chinese_first:
        name, name_lang, other_name, other_lang = zone.name_zh, _CHINESE, zone.name_en, _ENGLISH
    else:
        name, name_lang, other_name, other_lang = zone.name_en, _ENGLISH, zone.name_zh, _CHINESE
    return {
        "url": zone.get_absolute_url() if link else "",
        "name": name,
        "name_lang": name_lang,
        "other_name": other_name,
        "other_lang": other_lang,
    }


def zone_name_html(names: dict[str, str]) -> SafeString:
    """The markup of ``zone_names``: written here rather than by a template, since a list
    draws it once per row (a template rendered per row cost a third of a rankings page)."""
    if names["url"]:
        first = format_html(
            '<a class="zone-name" href="{}" lang="{}">{}</a>',
            names["url"],
            names["name_lang"],
            names["name"],
        )
    else:
        first = format_html(
            '<span class="zone-name" lang="{}">{}</span>', names["name_lang"], names["name"]
        )
    return format_html(
        '{}\n<span class="zone-name__other" lang="{}">{}</span>\n',
        first,
        names["other_lang"],
        names["other_name"],
    )


@register.simple_tag
def zone_name(zone: Zone, *, link: bool = True) -> SafeString:
    """A zone's name in the active language, then its name in the other language, smaller."""
    return zone_name_html(zone_names(zone, link=link))


@register.filter(expects_localtime=True)
def datetime_attr(value: datetime.datetime | datetime.date | None) -> str:
    """A date or time as a <time datetime> attribute: ISO 8601 to the second at most.

    HTML allows at most three digits of a second's fraction, and Django's ``date:'c'`` writes
    six whenever the time has microseconds, so the attribute would be invalid.
    """
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return ""
