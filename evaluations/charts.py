"""Charts drawn on the server as inline SVG markup: no script, no inline style.

The Content-Security-Policy allows neither inline script nor inline style, so every chart is
plain SVG elements with presentation attributes (x, y, width, ...) and classes that
``static/css/site.css`` colours (the ``chart`` section). Each chart carries a ``<title>`` and a
``<desc>`` that state its figures in words, and is labelled by them (``role="img"``), so that a
screen reader reads what a sighted user sees; pages add a small table of the same figures.

Text is escaped here (``format_html``); the functions return safe markup for templates.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from evaluations.models import Grade
from zonetracker.punctuation import clauses

Number = int | float | Decimal

# The drawing's own units; the stylesheet scales the whole drawing to the page's width.
_WIDTH = 640
_FONT_SIZE = 13
_ROW_HEIGHT = 24
_BAR_HEIGHT = 16
_LABEL_WIDTH = 230
_VALUE_WIDTH = 64
_PAD = 8


@dataclass(frozen=True)
class Bar:
    """One bar of a bar chart: what it is, how long it is, and what is written next to it."""

    label: str
    value: Number
    value_text: str
    css_class: str = ""
    lang: str = ""  # BCP 47, when the label is in another language than the page


def _number(value: float) -> str:
    """A coordinate with at most one decimal, without trailing zeros: 12, 12.5."""
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def _text_width(text: str, font_size: float = _FONT_SIZE) -> float:
    """Roughly how wide ``text`` is drawn: Chinese characters a full em, Latin ones about half."""
    width = 0.0
    for character in text:
        wide = unicodedata.east_asian_width(character) in {"W", "F"}
        width += font_size if wide else font_size * 0.56
    return width


def _fit(text: str, room: float) -> str:
    """``text`` shortened with an ellipsis so that it fits in ``room`` drawing units."""
    if _text_width(text) <= room:
        return text
    while text and _text_width(text + "…") > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _open_svg(chart_id: str, height: float, title: str, description: str, css_class: str) -> str:
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        css_class,
        _WIDTH,
        _number(height),
        _WIDTH,
        _number(height),
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
    )


def bar_chart(
    bars: Sequence[Bar | None],
    *,
    chart_id: str,
    title: str,
    description: str,
    maximum: Number | None = None,
    ticks: Sequence[Number] = (),
    label_width: int = _LABEL_WIDTH,
) -> SafeString:
    """A horizontal bar chart: a label, a bar and its value on each row.

    ``None`` among the bars draws a row with an ellipsis: rows were left out there (between
    the top ten and the bottom ten, say). Bars are scaled to ``maximum`` (default: the longest
    bar); ``ticks`` draws labelled vertical grid lines at those values. Labels longer than
    ``label_width`` drawing units are shortened with an ellipsis (the row's tooltip has them whole).
    """
    values = [float(bar.value) for bar in bars if bar is not None]
    scale_top = float(maximum) if maximum is not None else max(values, default=0.0)
    scale_top = scale_top or 1.0
    plot_left = label_width + _PAD
    plot_width = _WIDTH - plot_left - _VALUE_WIDTH
    top = _PAD + (_FONT_SIZE + _PAD if ticks else 0)
    height = top + len(bars) * _ROW_HEIGHT + _PAD

    parts = [_open_svg(chart_id, height, title, description, "chart--bars")]
    for tick in ticks:
        x = plot_left + float(tick) / scale_top * plot_width
        parts.append(
            format_html(
                '<line class="chart__grid" x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<text class="chart__tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                _number(x),
                _number(top - 2),
                _number(x),
                _number(height - _PAD),
                _number(x),
                _number(top - 5),
                tick,
            )
        )
    for index, bar in enumerate(bars):
        row_top = top + index * _ROW_HEIGHT
        baseline = row_top + _ROW_HEIGHT / 2 + _FONT_SIZE * 0.35
        if bar is None:
            parts.append(
                format_html(
                    '<text class="chart__gap" x="{}" y="{}" text-anchor="end">⋯</text>',
                    _number(label_width),
                    _number(baseline),
                )
            )
            continue
        length = max(float(bar.value), 0.0) / scale_top * plot_width
        label = _fit(bar.label, label_width - _PAD)
        parts.append(
            format_html(
                '<g class="chart__row {}"><title>{}: {}</title>'
                '<text class="chart__label" x="{}" y="{}" text-anchor="end"{}>{}</text>'
                '<rect class="chart__bar" x="{}" y="{}" width="{}" height="{}"/>'
                '<text class="chart__value" x="{}" y="{}">{}</text></g>',
                bar.css_class,
                bar.label,
                bar.value_text,
                _number(label_width),
                _number(baseline),
                format_html(' lang="{}"', bar.lang) if bar.lang else "",
                label,
                _number(plot_left),
                _number(row_top + (_ROW_HEIGHT - _BAR_HEIGHT) / 2),
                _number(length),
                _BAR_HEIGHT,
                _number(plot_left + length + 4),
                _number(baseline),
                bar.value_text,
            )
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every part is built by format_html


def grade_distribution_chart(
    counts: Mapping[int, int], *, chart_id: str = "grade-chart", title: str | None = None
) -> SafeString:
    """How many zones hold each of the four grades, best first; grades missing count 0."""
    bars = [
        Bar(
            label=_("%(number)s · %(name)s") % {"number": grade.value, "name": grade.label},
            value=counts.get(grade.value, 0),
            value_text=str(counts.get(grade.value, 0)),
            css_class=f"chart__row--grade-{grade.value}",
        )
        for grade in Grade
    ]
    description = clauses(
        ngettext(
            "grade %(number)s, %(name)s: %(count)s zone",
            "grade %(number)s, %(name)s: %(count)s zones",
            counts.get(grade.value, 0),
        )
        % {"number": grade.value, "name": grade.label, "count": counts.get(grade.value, 0)}
        for grade in Grade
    )
    return bar_chart(
        bars,
        chart_id=chart_id,
        title=title or _("Zones by grade"),
        description=description + ".",
        label_width=280,
    )
