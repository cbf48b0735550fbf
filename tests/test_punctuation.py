"""zonetracker.punctuation: each language joins sentences, lists, facts and percentages its way."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import mark_safe

from zonetracker.punctuation import clauses, enumeration, facts, percent, sentences


def test_english_joins_with_commas_and_spaces() -> None:
    with translation.override("en"):
        assert sentences(["Nothing was saved.", "Check it again."]) == (
            "Nothing was saved. Check it again."
        )
        assert enumeration(["Alpha", "Bravo", "Charlie"]) == "Alpha, Bravo, Charlie"
        assert facts(["74.50", "rank 3", "good results"]) == "74.50, rank 3, good results"
        assert clauses(["rank 1, Alpha: 90", "rank 2, Bravo: 80"]) == (
            "rank 1, Alpha: 90; rank 2, Bravo: 80"
        )
        assert percent("12.5") == "12.5%"


def test_chinese_joins_with_chinese_punctuation_and_no_space() -> None:
    with translation.override("zh-hans"):
        assert sentences(["您的修改未予保存。", "请核对后重新操作。"]) == (
            "您的修改未予保存。请核对后重新操作。"
        )
        assert enumeration(["甲市", "乙市", "丙市"]) == "甲市、乙市、丙市"
        assert facts(["74.50", "第3名", "成效较好"]) == "74.50，第3名，成效较好"
        assert clauses(["第1名，甲市：90", "第2名，乙市：80"]) == "第1名，甲市：90；第2名，乙市：80"
        assert percent("12.5") == "12.5%"


def test_empty_pieces_are_left_out_and_nothing_joins_to_nothing() -> None:
    with translation.override("zh-hans"):
        assert facts(["74.50", "", None, "成效较好"]) == "74.50，成效较好"
        assert enumeration([]) == ""
        assert sentences(["只有一句。"]) == "只有一句。"


def test_form_labels_end_with_a_full_width_colon_in_chinese() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext(":") == "："
    with translation.override("en"):
        assert translation.gettext(":") == ":"


def test_the_template_tags_escape_text_but_keep_safe_html() -> None:
    template = Template(
        "{% load punctuation %}{% facts total rank grade %} {{ share|percent }} "
        '{{ codes|enumeration:"code" }}'
    )

    class Indicator:
        def __init__(self, code: str) -> None:
            self.code = code

    context = Context(
        {
            "total": "74.50",
            "rank": mark_safe("<b>第3名</b>"),
            "grade": "<i>",
            "share": "12.5",
            "codes": [Indicator("R1"), Indicator("R2")],
        }
    )
    with translation.override("zh-hans"):
        assert template.render(context) == "74.50，<b>第3名</b>，&lt;i&gt; 12.5% R1、R2"
