"""Batches are named "Batch N" in English and 第N批 in Chinese, in sentences and in tables."""

from __future__ import annotations

import datetime

from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import make_batch, make_zone


def test_a_batch_is_named_in_the_active_language(db) -> None:
    batch = make_batch(number=3, approved_on=datetime.date(2018, 7, 24))
    with translation.override("en"):
        assert str(batch) == "Batch 3"
        assert batch.short_name == "3"
    with translation.override("zh-hans"):
        assert str(batch) == "第3批"
        assert batch.short_name == "第3批"


def test_the_register_shows_batches_as_di_n_pi_in_chinese(client: Client, dave) -> None:
    batch = make_batch(number=4, approved_on=datetime.date(2019, 12, 24))
    make_zone(name_zh="安庆", name_en="Anqing", batch=batch)
    client.force_login(dave)

    chinese = client.get(reverse("registry:zone_list"), headers={"accept-language": "zh-hans"})
    english = client.get(reverse("registry:zone_list"), headers={"accept-language": "en"})

    assert (
        '<td class="nowrap">第4批<span class="muted">（2019年）</span></td>'
        in chinese.content.decode()
    )
    assert '<td class="nowrap">4 <span class="muted">(2019)</span></td>' in english.content.decode()
