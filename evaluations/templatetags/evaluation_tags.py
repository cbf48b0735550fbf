"""Template tags of the evaluation pages."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from evaluations import access
from evaluations.forms import plain_number as _plain_number
from evaluations.models import Evaluation, Indicator
from registry.templatetags.registry_tags import zone_name_html, zone_names

register = template.Library()


@register.filter
def may_read(user: AbstractBaseUser | AnonymousUser, evaluation: Evaluation) -> bool:
    """Whether a list links to the evaluation's page for this user (the page checks again)."""
    return access.can_read(user, evaluation)


@register.filter
def plain_number(value: object) -> str:
    """A stored figure without the trailing zeros of its decimal places: 7.5000 reads 7.5."""
    return _plain_number(value) or ""


@register.filter
def valid_range(indicator: Indicator) -> str:
    """The values an indicator accepts, as a reviewer reads them: "0 – 10", "≥ 0.01"."""
    lowest, highest = plain_number(indicator.lowest), plain_number(indicator.highest)
    if lowest and highest:
        return pgettext("a range of valid values", "%(lowest)s – %(highest)s") % {
            "lowest": lowest,
            "highest": highest,
        }
    if lowest:
        return f"≥ {lowest}"
    if highest:
        return f"≤ {highest}"
    return _("any number")


@register.simple_tag
def evaluation_zone_name(evaluation: Evaluation, *, link: bool = True) -> SafeString:
    """The evaluated zone's names, as on the register, linking to the evaluation."""
    names = zone_names(evaluation.zone, link=False)
    return zone_name_html({**names, "url": evaluation.get_absolute_url() if link else ""})
