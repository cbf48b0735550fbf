"""A failed save of the entry form keeps every value typed, names every problem at the top
with a link to its field, and saves nothing until all the values are valid."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.test import Client

from evaluations.models import Evaluation, Score
from tests.evaluations.test_views import (
    action_url,
    alpha,  # noqa: F401 (a fixture)
    detail_url,
    entry,
    fresh,
    html,
    indicator,
    input_value,
)

GOOD = {"P1": "7", "P2": "8.5", "S1": "6", "R1": "120.5", "R2": "15"}


def summary(page: str) -> str:
    match = re.search(r'<section class="[^"]*error-summary.*?</section>', page, re.S)
    assert match, "no summary of the problems"
    return match[0]


def test_one_bad_value_among_good_ones_keeps_them_all_and_saves_nothing(
    carol: User,
    alpha: Evaluation,  # noqa: F811
) -> None:
    typed = {**GOOD, "P3": "abc"}
    response = _client(carol).post(detail_url(alpha), entry(alpha, typed, {"P1": "a note"}))

    assert response.status_code == 200
    page = html(response)
    for code, value in typed.items():
        assert input_value(page, f"value_{indicator(alpha, code).pk}") == value
    assert input_value(page, f"note_{indicator(alpha, 'P1').pk}") == "a note"
    top = summary(page)
    assert "1 field needs attention" in top
    assert f'href="#id_value_{indicator(alpha, "P3").pk}"' in top
    assert "Nothing was saved" in top
    # The summary comes before the form, and its link leads to an input of the form.
    assert page.index("error-summary") < page.index('class="entry-form"')
    assert f'id="id_value_{indicator(alpha, "P3").pk}"' in page
    assert not Score.objects.filter(evaluation=alpha).exists()
    assert fresh(alpha).version == alpha.version


def test_an_unreadable_and_an_out_of_range_value_are_both_named_at_once(
    carol: User,
    alpha: Evaluation,  # noqa: F811
) -> None:
    typed = {**GOOD, "P3": "abc", "P2": "11"}
    page = html(_client(carol).post(detail_url(alpha), entry(alpha, typed)))

    top = summary(page)
    assert "2 fields need attention" in top
    assert f'href="#id_value_{indicator(alpha, "P2").pk}"' in top
    assert "11 is above the highest valid value, 10." in top
    assert f'href="#id_value_{indicator(alpha, "P3").pk}"' in top
    assert input_value(page, f"value_{indicator(alpha, 'P2').pk}") == "11"
    assert not Score.objects.filter(evaluation=alpha).exists()


def test_an_out_of_range_value_alone_is_summarised_too(
    carol: User,
    alpha: Evaluation,  # noqa: F811
) -> None:
    page = html(_client(carol).post(detail_url(alpha), entry(alpha, {**GOOD, "R1": "-5"})))

    top = summary(page)
    assert "1 field needs attention" in top
    assert f'href="#id_value_{indicator(alpha, "R1").pk}"' in top
    assert not Score.objects.filter(evaluation=alpha).exists()


def test_a_submission_missing_values_says_the_draft_is_saved(
    carol: User,
    alpha: Evaluation,  # noqa: F811
) -> None:
    page = html(_client(carol).post(action_url(alpha, "submit"), entry(alpha, GOOD)))

    top = summary(page)
    assert "The draft is saved" in top
    assert "Nothing was saved" not in top
    assert Score.objects.filter(evaluation=alpha).count() == len(GOOD)


def test_a_clean_page_has_no_summary(carol: User, alpha: Evaluation) -> None:  # noqa: F811
    assert "error-summary" not in html(_client(carol).get(detail_url(alpha)))


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
