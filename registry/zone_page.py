"""The zone page's sections that other apps contribute, so that the register needs none of them.

An app registers a contributor in its ``AppConfig.ready``. The zone page calls each with the
request, the zone and the page's context so far (the zone and its status timeline), and adds
what it returns to the context; a contributor may return a ``timeline`` of its own, with its
events woven into the register's status changes, and a ``template`` that the page includes
after the zone's facts, with the whole context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.http import HttpRequest

from registry.models import Zone

ZoneSection = Callable[[HttpRequest, Zone, Mapping[str, object]], Mapping[str, object]]

_sections: list[ZoneSection] = []


def register_zone_section(section: ZoneSection) -> ZoneSection:
    """Add ``section`` to the zone page (once, however often an app is made ready)."""
    if section not in _sections:
        _sections.append(section)
    return section


def zone_sections() -> list[ZoneSection]:
    """The registered sections, in the order the apps registered them."""
    return list(_sections)
