"""The work queue and the decisions list, read in Chinese, order zones by pinyin."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from evaluations.services import cycle_open
from tests.factories import make_batch, make_province, make_zone


def test_the_queue_in_chinese_lists_zones_by_pinyin_and_in_english_by_name(framework, bob):
    province, batch = make_province(), make_batch()
    for name_zh, name_en in [
        ("重庆", "Chongqing"),
        ("北京", "Beijing"),
        ("安庆", "Anqing"),
        ("长沙", "Changsha"),
    ]:
        make_zone(name_zh=name_zh, name_en=name_en, province=province, batch=batch)
    cycle = cycle_open(year=2021)
    client = Client()
    client.force_login(bob)
    url = reverse("evaluations:cycle_evaluations", args=[cycle.year])

    chinese = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
    english = client.get(url, headers={"accept-language": "en"}).content.decode()

    def listed(page: str, names: list[str]) -> list[str]:
        return sorted(names, key=page.index)

    assert listed(chinese, ["重庆", "北京", "安庆", "长沙"]) == ["安庆", "北京", "长沙", "重庆"]
    assert listed(english, ["Chongqing", "Beijing", "Anqing", "Changsha"]) == [
        "Anqing",
        "Beijing",
        "Changsha",
        "Chongqing",
    ]
