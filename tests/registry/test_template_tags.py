"""The register's template tags."""

import datetime
from zoneinfo import ZoneInfo

from django.template import Context, Template
from django.test import override_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def render(template: str, **context) -> str:
    return Template("{% load registry_tags %}" + template).render(Context(context))


def test_a_time_attribute_drops_the_microseconds_that_html_refuses():
    when = datetime.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC)
    with override_settings(TIME_ZONE="Asia/Shanghai"):
        assert render("{{ when|datetime_attr }}", when=when) == "2026-03-01T17:30:15+08:00"


def test_a_date_attribute_is_the_iso_date_and_nothing_is_empty():
    assert render("{{ day|datetime_attr }}", day=datetime.date(2026, 3, 1)) == "2026-03-01"
    assert render("{{ nothing|datetime_attr }}", nothing=None) == ""


def test_a_browser_asking_for_favicon_ico_is_sent_to_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")
