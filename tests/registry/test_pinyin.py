"""Chinese lists sort by pinyin, as a Chinese reader expects, the same on every database."""

from __future__ import annotations

import importlib
import re

from django.test import Client
from django.urls import reverse
from django.utils import translation

from registry.models import Zone, pinyin_key, zone_name_ordering
from tests.factories import make_zone

# By pinyin: ān, běi, cháng (长 read cháng in 长春), chóng (重 read chóng in 重庆), xià.
PINYIN_ORDER = ["安庆市", "北京市", "长春市", "长沙市", "重庆市", "厦门市"]


def test_the_key_reads_a_polyphone_as_it_is_read_in_the_name() -> None:
    assert pinyin_key("重庆市") == "chong2 qing4 shi4"
    assert pinyin_key("长沙市") == "chang2 sha1 shi4"
    assert pinyin_key("厦门市") == "xia4 men2 shi4"
    assert sorted(PINYIN_ORDER, key=pinyin_key) == PINYIN_ORDER
    # Code points would put them in quite another order.
    assert sorted(PINYIN_ORDER) != PINYIN_ORDER


def test_every_zone_of_the_real_register_has_its_key(register) -> None:
    assert not Zone.objects.filter(name_pinyin="").exists()
    assert Zone.objects.get(name_zh="重庆市").name_pinyin == "chong2 qing4 shi4"


def test_in_chinese_the_register_orders_zones_by_pinyin_in_english_by_english_name(
    register,
) -> None:
    with translation.override("zh-hans"):
        chinese = list(
            Zone.objects.order_by(zone_name_ordering()).values_list("name_zh", flat=True)
        )
    with translation.override("en"):
        english = list(
            Zone.objects.order_by(zone_name_ordering()).values_list("name_en", flat=True)
        )

    positions = [chinese.index(name) for name in PINYIN_ORDER]
    assert positions == sorted(positions)
    assert chinese == sorted(chinese, key=pinyin_key)
    assert english == sorted(english)


def test_the_zone_list_in_chinese_sorted_by_name_follows_pinyin(register, client: Client, dave):
    client.force_login(dave)
    response = client.get(
        reverse("registry:zone_list"), {"order": "name"}, headers={"accept-language": "zh-hans"}
    )
    names = re.findall(
        r'<a class="zone-name" href="[^"]*" lang="[^"]*">([^<]*)</a>', response.content.decode()
    )
    assert names
    assert names == sorted(names, key=pinyin_key)
    assert names[0] == "阿拉山口市"  # ā, before 安 ān


def test_a_renamed_zone_gets_a_new_key(db) -> None:
    zone = make_zone(name_zh="北京", name_en="Beijing")
    assert zone.name_pinyin == "bei3 jing1"
    zone.name_zh = "重庆"
    zone.save(update_fields=["name_zh"])
    zone.refresh_from_db()
    assert zone.name_pinyin == "chong2 qing4"


def test_zones_written_in_bulk_get_their_key(db) -> None:
    model = make_zone()
    [zone] = Zone.objects.bulk_create(
        [
            Zone(
                name_zh="安庆",
                name_en="Anqing",
                slug="anqing",
                province=model.province,
                batch=model.batch,
            )
        ]
    )
    assert Zone.objects.get(pk=zone.pk).name_pinyin == "an1 qing4"


def test_the_migration_gives_existing_zones_their_key(register) -> None:
    from django.apps import apps

    migration = importlib.import_module("registry.migrations.0004_zone_name_pinyin")
    Zone.objects.update(name_pinyin="")

    migration.fill_name_pinyin(apps, None)

    assert not Zone.objects.filter(name_pinyin="").exists()
    assert all(z.name_pinyin == pinyin_key(z.name_zh) for z in Zone.objects.all())
