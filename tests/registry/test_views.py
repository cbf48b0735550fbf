"""The register's pages: home, the zone list with its filters and sorts, a zone, the batches."""

from __future__ import annotations

import datetime
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from registry.models import Batch, Province, Region, Zone, ZoneStatus
from tests.factories import make_batch, make_province, make_zone

ZONE_LIST = reverse("registry:zone_list")


@pytest.fixture
def zhejiang(db) -> Province:
    return make_province(code="33", name_zh="浙江省", name_en="Zhejiang", region=Region.EAST)


@pytest.fixture
def sichuan(db) -> Province:
    return make_province(code="51", name_zh="四川省", name_en="Sichuan", region=Region.WEST)


@pytest.fixture
def first_batch(db) -> Batch:
    return make_batch(
        number=1, approved_on=datetime.date(2015, 3, 7), document_no="国函〔2015〕44号"
    )


@pytest.fixture
def third_batch(db) -> Batch:
    return make_batch(
        number=3, approved_on=datetime.date(2018, 7, 24), document_no="国函〔2018〕93号"
    )


@pytest.fixture
def hangzhou(zhejiang, first_batch) -> Zone:
    return make_zone(
        name_zh="杭州", name_en="Hangzhou", province=zhejiang, batch=first_batch, kind="city"
    )


@pytest.fixture
def ningbo(zhejiang, third_batch) -> Zone:
    return make_zone(
        name_zh="宁波", name_en="Ningbo", province=zhejiang, batch=third_batch, kind="city"
    )


@pytest.fixture
def chengdu(sichuan, third_batch) -> Zone:
    return make_zone(
        name_zh="成都",
        name_en="Chengdu",
        province=sichuan,
        batch=third_batch,
        kind="city",
        status=ZoneStatus.ON_NOTICE,
    )


@pytest.fixture
def zones(hangzhou, ningbo, chengdu) -> list[Zone]:
    return [hangzhou, ningbo, chengdu]


@pytest.fixture
def viewer_client(client: Client, dave: User) -> Client:
    client.force_login(dave)
    return client


def listed_names(response) -> list[str]:
    """The names of the zones in the table, in the order shown."""
    return re.findall(r'<a class="zone-name" href="[^"]*" lang="[^"]*">([^<]*)</a>', html(response))


def html(response) -> str:
    return response.content.decode()


def links_to_page(response, page: int) -> list[dict[str, list[str]]]:
    """The query parameters of every link in the response that leads to the given page."""
    found = []
    for href in re.findall(r'href="([^"]*)"', html(response)):
        query = parse_qs(urlsplit(unescape(href)).query)
        if query.get("page") == [str(page)]:
            found.append(query)
    return found


# Home


def test_home_shows_the_register_in_figures(viewer_client: Client, zones) -> None:
    make_zone(status=ZoneStatus.EXITED)

    response = viewer_client.get(reverse("home"))

    assert response.status_code == 200
    page = html(response)
    figures = re.findall(
        r'<span class="figure__number">(\d+)</span>\s*<span class="figure__label">([^<]+)</span>',
        page,
    )
    assert {label: int(number) for number, label in figures} == {
        "zones in the register": 4,
        "active": 2,
        "on notice": 1,
        "exited": 1,
        "batches of approvals": 3,
    }
    assert f'href="{ZONE_LIST}?status=exited"' in page
    assert f'href="{reverse("registry:batch_list")}"' in page


def test_home_reads_a_bounded_number_of_queries(
    viewer_client: Client, zones, django_assert_max_num_queries
) -> None:
    # session, user, permissions (2, for the navigation), zones per status, batches, the latest
    # published cycle (none here, so no rankings to read), the unread notifications
    with django_assert_max_num_queries(8):
        viewer_client.get(reverse("home"))


# The zone list


def test_zone_list_shows_each_zone_with_its_province_region_batch_kind_and_status(
    viewer_client: Client, zones
) -> None:
    response = viewer_client.get(ZONE_LIST)

    assert response.status_code == 200
    row = re.search(r"<tr>\s*<th scope=\"row\">.*?Chengdu.*?</tr>", html(response), re.S)[0]
    assert f'href="{reverse("registry:zone_detail", kwargs={"slug": "chengdu"})}"' in row
    assert '<span class="zone-name__other" lang="zh-Hans">成都</span>' in row
    assert "<td>Sichuan</td>" in row
    assert "<td>West</td>" in row
    assert '3 <span class="muted">(2018)</span>' in row
    assert "<td>city</td>" in row
    assert '<span class="badge badge--on_notice">on notice</span>' in row


def test_zone_list_shows_the_number_of_matching_zones(viewer_client: Client, zones) -> None:
    assert "3 zones match." in html(viewer_client.get(ZONE_LIST))
    assert "1 zone matches." in html(viewer_client.get(ZONE_LIST, {"q": "Hang"}))


def test_zone_list_marks_exited_zones_with_a_badge(viewer_client: Client, zhejiang) -> None:
    make_zone(name_en="Gone", province=zhejiang, status=ZoneStatus.EXITED)

    response = viewer_client.get(ZONE_LIST)

    assert '<span class="badge badge--exited">exited</span>' in html(response)


def test_zone_list_filters_by_province(viewer_client: Client, zones, sichuan) -> None:
    response = viewer_client.get(ZONE_LIST, {"province": sichuan.pk})

    assert listed_names(response) == ["Chengdu"]


def test_zone_list_filters_by_region(viewer_client: Client, zones) -> None:
    response = viewer_client.get(ZONE_LIST, {"region": Region.EAST})

    assert listed_names(response) == ["Hangzhou", "Ningbo"]


def test_zone_list_filters_by_batch(viewer_client: Client, zones, third_batch) -> None:
    response = viewer_client.get(ZONE_LIST, {"batch": third_batch.pk})

    assert listed_names(response) == ["Chengdu", "Ningbo"]


def test_zone_list_filters_by_status(viewer_client: Client, zones) -> None:
    response = viewer_client.get(ZONE_LIST, {"status": ZoneStatus.ON_NOTICE})

    assert listed_names(response) == ["Chengdu"]


def test_zone_list_finds_a_zone_by_part_of_its_chinese_name(viewer_client: Client, zones) -> None:
    response = viewer_client.get(ZONE_LIST, {"q": "宁"})

    assert listed_names(response) == ["Ningbo"]


def test_zone_list_finds_a_zone_by_its_english_name_in_any_case(
    viewer_client: Client, zones
) -> None:
    response = viewer_client.get(ZONE_LIST, {"q": "  chengDU "})

    assert listed_names(response) == ["Chengdu"]


def test_zone_list_combines_filters(viewer_client: Client, zones, zhejiang, third_batch) -> None:
    response = viewer_client.get(ZONE_LIST, {"province": zhejiang.pk, "batch": third_batch.pk})

    assert listed_names(response) == ["Ningbo"]


def test_zone_list_offers_every_province_and_batch_as_a_choice(
    viewer_client: Client, zones
) -> None:
    page = html(viewer_client.get(ZONE_LIST))

    assert ">Zhejiang</option>" in page
    assert ">Sichuan</option>" in page
    assert ">Batch 3 (2018)</option>" in page
    assert '<label for="id_q">' in page


@pytest.mark.parametrize(
    "bad_filter, field",
    [
        ({"province": "abc"}, "province"),
        ({"province": "999999"}, "province"),
        ({"batch": "99999999999999999999999"}, "batch"),
        ({"region": "mars"}, "region"),
        ({"status": "sleeping"}, "status"),
        ({"q": "x" * 101}, "q"),
        ({"q": "a\x00b"}, "q"),
    ],
)
def test_zone_list_shows_a_bad_filter_value_as_a_form_error(
    viewer_client: Client, zones, bad_filter: dict, field: str
) -> None:
    response = viewer_client.get(ZONE_LIST, bad_filter)

    assert response.status_code == 200
    page = html(response)
    assert f'<ul class="errorlist" id="id_{field}_error">' in page
    assert 'aria-invalid="true"' in page
    # An unreadable filter lists nothing rather than the whole register under a false heading.
    assert listed_names(response) == []
    assert "Correct the filters above to see zones." in page


def test_zone_list_sorts_by_batch_then_name_by_default(viewer_client: Client, zones) -> None:
    response = viewer_client.get(ZONE_LIST)

    assert listed_names(response) == ["Hangzhou", "Chengdu", "Ningbo"]
    assert '<th scope="col" aria-sort="ascending">' in html(response)


@pytest.mark.parametrize(
    "order, expected",
    [
        ("name", ["Chengdu", "Hangzhou", "Ningbo"]),
        ("-name", ["Ningbo", "Hangzhou", "Chengdu"]),
        ("province", ["Chengdu", "Hangzhou", "Ningbo"]),
        ("-province", ["Hangzhou", "Ningbo", "Chengdu"]),
        ("region", ["Hangzhou", "Ningbo", "Chengdu"]),  # east before west
        ("-batch", ["Chengdu", "Ningbo", "Hangzhou"]),
        ("status", ["Hangzhou", "Ningbo", "Chengdu"]),  # active before on notice
        ("-status", ["Chengdu", "Hangzhou", "Ningbo"]),
    ],
)
def test_zone_list_sorts_by_the_column_asked_for(
    viewer_client: Client, zones, order: str, expected: list[str]
) -> None:
    response = viewer_client.get(ZONE_LIST, {"order": order})

    assert listed_names(response) == expected


def test_zone_list_sorts_regions_in_the_statistics_bureaus_order(viewer_client: Client) -> None:
    for region, name in [
        (Region.NORTHEAST, "Harbin"),
        (Region.WEST, "Xian"),
        (Region.CENTRAL, "Wuhan"),
        (Region.EAST, "Suzhou"),
    ]:
        make_zone(name_en=name, province=make_province(region=region))

    response = viewer_client.get(ZONE_LIST, {"order": "region"})

    assert listed_names(response) == ["Suzhou", "Wuhan", "Xian", "Harbin"]


@pytest.mark.parametrize("order", ["slug", "-id", "province__name_en", "--name", ""])
def test_zone_list_ignores_a_sort_not_on_its_whitelist(
    viewer_client: Client, zones, order: str
) -> None:
    response = viewer_client.get(ZONE_LIST, {"order": order})

    assert response.status_code == 200
    assert listed_names(response) == ["Hangzhou", "Chengdu", "Ningbo"]


def test_zone_list_header_reverses_the_current_sort_and_keeps_the_filters(
    viewer_client: Client, zones
) -> None:
    response = viewer_client.get(ZONE_LIST, {"region": "east", "order": "name", "page": "1"})

    headers = {
        unescape(label): parse_qs(urlsplit(unescape(href)).query)
        for href, label in re.findall(
            r'class="sort-link[^"]*" href="([^"]*)">([^<]+)</a>', html(response)
        )
    }
    assert headers["Zone"] == {"region": ["east"], "order": ["-name"]}
    assert headers["Batch"] == {"region": ["east"], "order": ["batch"]}
    assert '<th scope="col" aria-sort="ascending">' in html(response)


def test_zone_list_marks_a_descending_sort_for_screen_readers(viewer_client: Client, zones) -> None:
    response = viewer_client.get(ZONE_LIST, {"order": "-status"})

    assert '<th scope="col" aria-sort="descending">' in html(response)


@pytest.fixture
def sixty_east_zones(zhejiang, first_batch) -> list[Zone]:
    return [
        make_zone(
            name_en=f"Zone {n:02d}", name_zh=f"试验区{n:02d}", province=zhejiang, batch=first_batch
        )
        for n in range(60)
    ]


def test_zone_list_shows_fifty_zones_a_page(viewer_client: Client, sixty_east_zones) -> None:
    first = viewer_client.get(ZONE_LIST, {"order": "name"})
    second = viewer_client.get(ZONE_LIST, {"order": "name", "page": 2})

    assert len(listed_names(first)) == 50
    assert listed_names(second) == [f"Zone {n}" for n in range(50, 60)]
    assert "60 zones match." in html(second)
    assert "Page 2 of 2" in html(second)


def test_zone_list_pagination_links_keep_the_filters_and_the_sort(
    viewer_client: Client, sixty_east_zones, sichuan, zhejiang
) -> None:
    make_zone(name_en="Elsewhere", province=sichuan)

    response = viewer_client.get(
        ZONE_LIST, {"province": zhejiang.pk, "q": "Zone", "order": "-name"}
    )

    next_links = links_to_page(response, 2)
    assert next_links, "expected a link to page 2"
    for query in next_links:
        assert query == {
            "province": [str(zhejiang.pk)],
            "q": ["Zone"],
            "order": ["-name"],
            "page": ["2"],
        }
    second = viewer_client.get(
        ZONE_LIST, {"province": zhejiang.pk, "q": "Zone", "order": "-name", "page": 2}
    )
    assert listed_names(second) == [f"Zone {n:02d}" for n in range(9, -1, -1)]


def test_zone_list_shows_the_first_page_for_a_page_that_is_not_a_number(
    viewer_client: Client, sixty_east_zones
) -> None:
    response = viewer_client.get(ZONE_LIST, {"page": "abc", "order": "name"})

    assert response.status_code == 200
    assert listed_names(response)[0] == "Zone 00"


def test_zone_list_shows_the_last_page_for_a_page_past_the_end(
    viewer_client: Client, sixty_east_zones
) -> None:
    response = viewer_client.get(ZONE_LIST, {"page": "99999999999999999999", "order": "name"})

    assert response.status_code == 200
    assert listed_names(response) == [f"Zone {n}" for n in range(50, 60)]


def test_zone_list_escapes_html_in_a_zone_name(viewer_client: Client, zhejiang) -> None:
    make_zone(name_en="<script>alert(1)</script>", name_zh="<b>坏</b>", province=zhejiang)

    page = html(viewer_client.get(ZONE_LIST))

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;坏&lt;/b&gt;" in page
    assert "<script>" not in page


@pytest.mark.parametrize("zone_count", [5, 200])
def test_zone_list_reads_the_same_number_of_queries_whatever_the_number_of_zones(
    viewer_client: Client, zone_count: int, django_assert_max_num_queries
) -> None:
    provinces = [make_province() for _ in range(5)]
    batches = [make_batch() for _ in range(3)]
    for n in range(zone_count):
        make_zone(province=provinces[n % 5], batch=batches[n % 3])

    # session, user, permissions (2), count, one page of zones with province and batch,
    # province choices, batch choices; the bound is the same for 5 zones and for 200.
    with django_assert_max_num_queries(9):
        response = viewer_client.get(ZONE_LIST, {"order": "province", "region": "east"})

    assert len(listed_names(response)) == min(zone_count, 50)


def test_zone_list_shows_the_chinese_name_first_when_chinese_is_active(
    viewer_client: Client, zones
) -> None:
    response = viewer_client.post(
        reverse("set_language"), {"language": "zh-hans", "next": ZONE_LIST}
    )
    assert response["Location"] == ZONE_LIST

    page = html(viewer_client.get(ZONE_LIST))

    assert '<html lang="zh-hans">' in page
    assert '<a class="zone-name" href="/zones/hangzhou/" lang="zh-Hans">杭州</a>' in page
    assert '<span class="zone-name__other" lang="en">Hangzhou</span>' in page
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in page


def test_zone_list_shows_the_english_name_first_by_default(viewer_client: Client, zones) -> None:
    page = html(viewer_client.get(ZONE_LIST))

    assert '<html lang="en">' in page
    assert '<a class="zone-name" href="/zones/hangzhou/" lang="en">Hangzhou</a>' in page


# One zone


def test_zone_detail_shows_the_zone_with_its_batch_and_document_number(
    viewer_client: Client, hangzhou
) -> None:
    response = viewer_client.get(hangzhou.get_absolute_url())

    assert response.status_code == 200
    page = html(response)
    assert "<h1>China (Hangzhou) Cross-border E-commerce Comprehensive Pilot Zone</h1>" in page
    assert '<dd lang="zh-Hans">杭州</dd>' in page
    assert "<dd>Zhejiang</dd>" in page
    assert "<dd>East</dd>" in page
    assert f'href="{ZONE_LIST}?batch={hangzhou.batch.pk}">Batch 1</a>' in page
    assert "approved on March 7, 2015" in page
    assert "国函〔2015〕44号" in page
    assert '<span class="badge badge--active">active</span>' in page


def test_zone_detail_shows_the_official_name_in_chinese_when_chinese_is_active(
    viewer_client: Client, hangzhou
) -> None:
    viewer_client.post(reverse("set_language"), {"language": "zh-hans"})

    page = html(viewer_client.get(hangzhou.get_absolute_url()))

    assert "<h1>中国（杭州）跨境电子商务综合试验区</h1>" in page


def test_zone_detail_shows_the_status_timeline_after_a_status_change(
    viewer_client: Client, hangzhou, bob
) -> None:
    hangzhou.name_en = "Hangzhou City"  # not a status change: left out of the timeline
    hangzhou.save()
    hangzhou.status = ZoneStatus.ON_NOTICE
    hangzhou.status_changed_on = datetime.date(2023, 4, 20)
    hangzhou._history_user = bob
    hangzhou.save()

    page = html(viewer_client.get(hangzhou.get_absolute_url()))

    entries = re.findall(r'<li class="timeline__entry">(.*?)</li>', page, re.S)
    assert len(entries) == 2
    added, changed = (" ".join(entry.split()) for entry in entries)
    assert "Added to the register" in added
    assert "badge--active" in added
    assert "Status changed" in changed
    assert '<span class="badge badge--on_notice">on notice</span>' in changed
    assert "effective April 20, 2023" in changed
    assert "by bob" in changed


def test_zone_detail_dates_a_status_change_only_with_a_date_set_by_that_change(
    viewer_client: Client, hangzhou
) -> None:
    hangzhou.status = ZoneStatus.ON_NOTICE
    hangzhou.status_changed_on = datetime.date(2023, 4, 20)
    hangzhou.save()
    hangzhou.status = ZoneStatus.ACTIVE  # recovered, but nobody updated the date
    hangzhou.save()

    page = html(viewer_client.get(hangzhou.get_absolute_url()))

    entries = re.findall(r'<li class="timeline__entry">(.*?)</li>', page, re.S)
    assert ["effective" in entry for entry in entries] == [False, True, False]
    assert "author not recorded" in entries[-1]


def test_zone_detail_answers_404_for_an_unknown_zone(viewer_client: Client, hangzhou) -> None:
    response = viewer_client.get(reverse("registry:zone_detail", kwargs={"slug": "atlantis"}))

    assert response.status_code == 404


def test_zone_detail_reads_a_bounded_number_of_queries_however_long_the_history(
    viewer_client: Client, hangzhou, bob, django_assert_max_num_queries
) -> None:
    statuses = [ZoneStatus.ON_NOTICE, ZoneStatus.ACTIVE]
    for n in range(60):
        hangzhou.status = statuses[n % 2]
        hangzhou._history_user = bob
        hangzhou.save()

    # session, user, permissions (2), the zone with province and batch, its history with who
    # changed it, its decisions, its evaluations (none here: nothing to explain)
    with django_assert_max_num_queries(9):
        response = viewer_client.get(hangzhou.get_absolute_url())

    assert html(response).count('<li class="timeline__entry">') == 61


# The batches


def test_batch_list_counts_the_zones_of_each_batch(
    viewer_client: Client, zones, first_batch, third_batch
) -> None:
    make_batch(number=8, approved_on=datetime.date(2024, 1, 1), document_no="")

    page = html(viewer_client.get(reverse("registry:batch_list")))

    rows = re.findall(
        r'<a href="/zones/\?batch=(\d+)">Batch (\d+)</a>.*?<td class="numeric">(\d+)</td>',
        page,
        re.S,
    )
    assert rows == [
        (str(first_batch.pk), "1", "1"),
        (str(third_batch.pk), "3", "2"),
        (str(Batch.objects.get(number=8).pk), "8", "0"),
    ]
    assert "国函〔2018〕93号" in page
    assert re.search(r'Total</th>\s*<td class="numeric">3</td>', page)


def test_batch_list_reads_a_bounded_number_of_queries(
    viewer_client: Client, zhejiang, django_assert_max_num_queries
) -> None:
    for _ in range(40):
        make_zone(province=zhejiang, batch=make_batch())

    # session, user, permissions (2), the batches with their counts
    with django_assert_max_num_queries(6):
        response = viewer_client.get(reverse("registry:batch_list"))

    assert html(response).count('<td class="numeric">1</td>') == 40


# Every page


@pytest.fixture
def every_page(hangzhou) -> list[str]:
    return [
        reverse("home"),
        ZONE_LIST,
        hangzhou.get_absolute_url(),
        reverse("registry:batch_list"),
    ]


def test_pages_refer_to_no_other_origin(viewer_client: Client, every_page, client) -> None:
    for url in [*every_page, reverse("login")]:
        if url == reverse("login"):
            viewer_client.logout()
        page = html(viewer_client.get(url))

        references = re.findall(r'(?:src|href|action)="([^"]*)"', page)
        assert references
        for reference in references:
            assert not re.match(r"(?i)^(https?:)?//", reference), (url, reference)


def test_pages_carry_no_inline_script_or_style(viewer_client: Client, every_page) -> None:
    # A strict Content-Security-Policy will forbid these; keep them in static files.
    for url in every_page:
        page = html(viewer_client.get(url))

        assert "<script" not in page, url
        assert "<style" not in page, url
        assert " style=" not in page, url
        assert not re.search(r" on[a-z]+=", page), url
