"""Template tags of the register's pages."""

from __future__ import annotations

from django import template

from registry.models import Zone

register = template.Library()

# BCP 47 tags for the lang attribute, so that screen readers and fonts treat each name right.
_CHINESE = "zh-Hans"
_ENGLISH = "en"


@register.inclusion_tag("includes/zone_name.html")
def zone_name(zone: Zone, *, link: bool = True) -> dict[str, str]:
    """A zone's name in the active language, then its name in the other language, smaller."""
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
