"""Server-drawn SVG charts: what they draw, what they say in words, and what they never hold."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from evaluations.charts import Bar, bar_chart, grade_distribution_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ElementTree.Element:
    """The chart as XML: it must be well-formed to be drawn at all."""
    return ElementTree.fromstring(markup)


def bar_widths(markup: str) -> list[float]:
    return [float(rect.get("width")) for rect in parse(markup).iter(f"{SVG}rect")]


def test_a_bar_chart_scales_bars_to_the_longest_by_default():
    markup = bar_chart(
        [Bar("a", 10, "10"), Bar("b", 5, "5"), Bar("c", 0, "0")],
        chart_id="c",
        title="T",
        description="D",
    )
    widths = bar_widths(markup)
    assert widths[0] > 0
    assert widths[1] == widths[0] / 2
    assert widths[2] == 0


def test_a_bar_chart_with_a_maximum_scales_to_it():
    markup = bar_chart(
        [Bar("a", 50, "50.00")], chart_id="c", title="T", description="D", maximum=100
    )
    full = bar_chart([Bar("a", 100, "100")], chart_id="c", title="T", description="D")
    assert bar_widths(markup)[0] == bar_widths(full)[0] / 2


def test_a_chart_is_labelled_by_its_title_and_description():
    svg = parse(bar_chart([Bar("a", 1, "1")], chart_id="zz", title="Totals", description="a: 1"))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "zz-title zz-desc"
    assert svg.find(f"{SVG}title").text == "Totals"
    assert svg.find(f"{SVG}desc").text == "a: 1"


def test_labels_are_escaped_and_nothing_runs_or_is_styled_inline():
    markup = bar_chart(
        [Bar('<script>alert("x")</script>', 1, "<b>1</b>")],
        chart_id="c",
        title="<title>",
        description="& more",
    )
    parse(markup)
    assert "<script" not in markup
    assert "<b>" not in markup
    assert "style" not in markup


def test_a_long_label_is_shortened_on_the_bar_but_whole_in_its_tooltip():
    name = "China (Very Long Name Indeed) Cross-border E-commerce Comprehensive Pilot Zone"
    svg = parse(bar_chart([Bar(name, 1, "1")], chart_id="c", title="T", description="D"))
    label = next(t for t in svg.iter(f"{SVG}text") if t.get("class") == "chart__label")
    assert label.text.endswith("…")
    assert len(label.text) < len(name)
    assert svg.find(f"{SVG}g/{SVG}title").text == f"{name}: 1"


def test_a_gap_in_the_bars_is_drawn_as_an_ellipsis():
    markup = bar_chart(
        [Bar("1. a", 90, "90"), None, Bar("9. z", 10, "10")],
        chart_id="c",
        title="T",
        description="D",
    )
    assert len(bar_widths(markup)) == 2
    assert '<text class="chart__gap"' in markup


def test_the_grade_chart_counts_every_grade_even_when_none_hold_it():
    markup = grade_distribution_chart({1: 10, 2: 3})
    assert len(bar_widths(markup)) == 4
    description = parse(markup).find(f"{SVG}desc").text
    assert "grade 1, notable results: 10 zones" in description
    assert "grade 4, still at the starting stage: 0 zones" in description
