"""The work queue through HTTP: search, sort, page size, bulk actions, "and next".

carol and erin are Reviewers, bob an Approver (and, where four eyes matters, a Reviewer too),
alice an Administrator, dave a Viewer. The cycle of 2021 is open with Alpha (甲市), Bravo
(乙市) and Charlie (丙市).
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations.filters import pinyin_pattern
from evaluations.models import Cycle, EvaluationStatus
from evaluations.services import cycle_open
from tests.evaluations.test_bulk_actions import FOUR_EYES, assign, statuses, submit
from tests.evaluations.test_views import (
    COMPLETE,
    action_url,
    detail_url,
    entry,
    html,
    login,
    messages_of,
    queue_names,
    queue_url,
    with_roles,
)
from tests.factories import make_batch, make_province, make_zone
from zonetracker.permissions import REVIEWER

BULK_URL = reverse("evaluations:cycle_evaluations_bulk", kwargs={"year": 2021})


def bulk(client: Client, cycle: Cycle, action: str, **fields) -> object:
    data = {
        "action": action,
        "evaluation": [str(pk) for pk in cycle.evaluations.values_list("pk", flat=True)],
        "query": "status=submitted&order=-zone",
        **fields,
    }
    return client.post(BULK_URL, data, follow=True)


@pytest.fixture
def bob_reviews(bob: User) -> User:
    return with_roles(bob, REVIEWER)


@pytest.fixture
def awaiting(cycle: Cycle, alice: User, carol: User, erin: User, bob_reviews: User) -> Cycle:
    """Alpha submitted by carol, Bravo by bob, Charlie by erin."""
    submit(cycle, "Alpha", carol, alice)
    submit(cycle, "Bravo", bob_reviews, alice)
    submit(cycle, "Charlie", erin, alice)
    return cycle


# --- search, sort, page size --------------------------------------------------------------


@pytest.mark.parametrize(
    "q, expected",
    [
        ("乙", ["Bravo"]),
        ("char", ["Charlie"]),
        ("ALPHA", ["Alpha"]),
        ("市", ["Alpha", "Bravo", "Charlie"]),
        ("nowhere", []),
    ],
)
def test_the_queue_searches_zone_names_in_chinese_and_english(
    bob: User, cycle: Cycle, q: str, expected: list[str]
) -> None:
    assert queue_names(login(bob).get(queue_url(), {"q": q})) == expected


@pytest.mark.parametrize(
    "q, expected",
    [
        ("bing shi", ["Charlie"]),
        ("bingshi", ["Charlie"]),
        ("Jia3 Shi4", ["Alpha"]),
        ("yi", ["Bravo"]),
    ],
)
def test_the_queue_searches_zone_names_in_pinyin_with_or_without_spaces_and_tones(
    bob: User, cycle: Cycle, q: str, expected: list[str]
) -> None:
    assert queue_names(login(bob).get(queue_url(), {"q": q})) == expected


def test_typed_pinyin_becomes_a_pattern_of_its_letters_and_anything_else_none() -> None:
    assert (
        pinyin_pattern("hang zhou") == "h[1-5 ]*a[1-5 ]*n[1-5 ]*g[1-5 ]*z[1-5 ]*h[1-5 ]*o[1-5 ]*u"
    )
    assert pinyin_pattern("lü") == "l[1-5 ]*v"
    assert pinyin_pattern("杭州") == ""
    assert pinyin_pattern("a.*") == ""


def test_the_queue_searches_the_zone_slug(bob: User, cycle: Cycle) -> None:
    slug = cycle.evaluations.get(zone__name_en="Bravo").zone.slug

    assert queue_names(login(bob).get(queue_url(), {"q": slug})) == ["Bravo"]


@pytest.mark.parametrize(
    "order, expected",
    [
        ("zone", ["Alpha", "Bravo", "Charlie"]),
        ("-zone", ["Charlie", "Bravo", "Alpha"]),
        # carol reviews Alpha, erin Charlie, Bravo is nobody's: the empty one goes last.
        ("reviewer", ["Alpha", "Charlie", "Bravo"]),
        ("-reviewer", ["Charlie", "Alpha", "Bravo"]),
        # Charlie is submitted, the others draft (draft comes first in a life's order).
        ("status", ["Alpha", "Bravo", "Charlie"]),
        ("-status", ["Charlie", "Alpha", "Bravo"]),
        ("submitted", ["Charlie", "Alpha", "Bravo"]),
        ("province", ["Alpha", "Bravo", "Charlie"]),
        ("nonsense", ["Alpha", "Bravo", "Charlie"]),
    ],
)
def test_the_queue_sorts_by_the_column_chosen(
    bob: User, cycle: Cycle, alice: User, carol: User, erin: User, order: str, expected
) -> None:
    assign(cycle, "Alpha", carol, alice)
    submit(cycle, "Charlie", erin, alice)

    assert queue_names(login(bob).get(queue_url(), {"order": order})) == expected


def test_the_sort_links_keep_the_search_and_the_filter_keeps_the_order(
    bob: User, cycle: Cycle
) -> None:
    page = html(login(bob).get(queue_url(), {"q": "a", "order": "-zone", "per_page": "100"}))

    assert 'href="?q=a&amp;order=zone&amp;per_page=100"' in page
    assert '<input type="hidden" name="order" value="-zone">' in page
    assert 'aria-sort="descending"' in page
    # A bulk action comes back to the same search, order and page size.
    assert 'name="query" value="q=a&amp;order=-zone&amp;per_page=100"' in page


def many_zones(count: int) -> None:
    province = make_province()
    batch = make_batch(approved_on=datetime.date(2019, 12, 15))
    for n in range(count):
        make_zone(name_en=f"Zone {n:03d}", name_zh=f"区{n:03d}", province=province, batch=batch)


@pytest.mark.parametrize("per_page, rows", [("25", 25), ("50", 50), ("100", 60), ("", 50)])
def test_the_queue_shows_as_many_rows_as_the_page_size_chosen(
    bob: User, framework, per_page: str, rows: int
) -> None:
    many_zones(60)
    cycle_open(year=2021)

    response = login(bob).get(queue_url(), {"per_page": per_page})

    assert len(queue_names(response)) == rows


def test_a_page_size_not_offered_shows_no_rows_and_says_so(bob: User, cycle: Cycle) -> None:
    response = login(bob).get(queue_url(), {"per_page": "7"})

    assert queue_names(response) == []
    assert "Correct the filters above to see evaluations." in html(response)


def test_the_queue_reads_200_rows_in_as_many_queries_as_25(
    bob: User, framework, alice: User, carol: User
) -> None:
    many_zones(210)
    cycle = cycle_open(year=2021)
    for zone in ["Zone 001", "Zone 150"]:
        assign(cycle, zone, carol, alice)
    client = login(bob)
    client.get(queue_url())  # the session and the permissions, read once

    counts = {}
    for per_page in ["25", "200"]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(queue_url(), {"per_page": per_page})
        assert len(queue_names(response)) == int(per_page)
        counts[per_page] = len(queries)

    assert counts["200"] == counts["25"] <= 14, counts


# --- bulk actions -------------------------------------------------------------------------


def test_the_queue_offers_each_role_only_the_bulk_actions_it_may_take(
    alice: User, bob: User, carol: User, cycle: Cycle
) -> None:
    approver = html(login(bob).get(queue_url()))
    administrator = html(login(alice).get(queue_url()))
    reviewer = html(login(carol).get(queue_url()))

    assert 'value="approve"' in approver and 'value="return"' in approver
    assert 'value="assign"' not in approver
    assert 'value="assign"' in administrator and 'value="approve"' not in administrator
    assert 'name="evaluation"' not in reviewer and 'id="bulk-form"' not in reviewer
    assert 'data-select-all="evaluation"' in approver


def test_bulk_approval_approves_the_others_and_lists_the_one_refused_for_four_eyes(
    awaiting: Cycle, bob_reviews: User
) -> None:
    response = bulk(login(bob_reviews), awaiting, "approve")

    assert response.redirect_chain[-1][0] == f"{queue_url()}?status=submitted&order=-zone"
    assert messages_of(response) == [
        "2 evaluations approved.",
        f"Not approved: Bravo. {FOUR_EYES}",
    ]
    assert statuses(awaiting) == {
        "Alpha": EvaluationStatus.APPROVED,
        "Bravo": EvaluationStatus.SUBMITTED,
        "Charlie": EvaluationStatus.APPROVED,
    }


@pytest.mark.parametrize("who", ["carol", "dave"])
@pytest.mark.parametrize("action", ["approve", "return", "assign"])
def test_a_reviewer_or_viewer_posting_a_bulk_action_is_refused_and_nothing_changes(
    awaiting: Cycle, who: str, action: str, erin: User, request: pytest.FixtureRequest
) -> None:
    client = login(request.getfixturevalue(who))
    before = list(awaiting.evaluations.values_list("pk", "status", "reviewer"))

    response = bulk(client, awaiting, action, reason="No.", reviewer=str(erin.pk))

    assert response.status_code == 403
    assert list(awaiting.evaluations.values_list("pk", "status", "reviewer")) == before


def test_an_approver_may_not_bulk_assign(awaiting: Cycle, bob: User, erin: User) -> None:
    response = bulk(login(bob), awaiting, "assign", reviewer=str(erin.pk))

    assert response.status_code == 403
    assert awaiting.evaluations.filter(reviewer=erin).count() == 1


def test_bulk_return_sends_each_back_with_the_reason(awaiting: Cycle, bob: User) -> None:
    response = bulk(login(bob), awaiting, "return", reason="Sources missing.")

    assert messages_of(response) == ["3 evaluations returned."]
    assert set(statuses(awaiting).values()) == {EvaluationStatus.RETURNED}
    assert set(awaiting.evaluations.values_list("return_reason", flat=True)) == {"Sources missing."}


def test_bulk_return_without_a_reason_changes_nothing_and_says_so(
    awaiting: Cycle, bob: User
) -> None:
    response = bulk(login(bob), awaiting, "return", reason="")

    assert messages_of(response) == ["Say why the evaluations are returned."]
    assert set(statuses(awaiting).values()) == {EvaluationStatus.SUBMITTED}


def test_an_administrator_assigns_the_checked_evaluations(
    cycle: Cycle, alice: User, erin: User
) -> None:
    response = bulk(login(alice), cycle, "assign", reviewer=str(erin.pk))

    assert messages_of(response) == ["3 evaluations assigned."]
    assert cycle.evaluations.filter(reviewer=erin).count() == 3


def test_nothing_selected_changes_nothing_and_says_so(awaiting: Cycle, bob: User) -> None:
    response = login(bob).post(BULK_URL, {"action": "approve"}, follow=True)

    assert messages_of(response) == ["Select at least one evaluation."]
    assert set(statuses(awaiting).values()) == {EvaluationStatus.SUBMITTED}


def test_a_selection_that_cannot_be_read_changes_nothing(awaiting: Cycle, bob: User) -> None:
    response = login(bob).post(
        BULK_URL, {"action": "approve", "evaluation": ["1", "x"]}, follow=True
    )

    assert messages_of(response) == [
        "The selection could not be read; select the evaluations again."
    ]
    assert set(statuses(awaiting).values()) == {EvaluationStatus.SUBMITTED}


def test_a_bulk_action_touches_only_the_evaluations_of_its_own_cycle(
    awaiting: Cycle, bob: User
) -> None:
    later = cycle_open(year=2022)
    pks = [str(pk) for pk in awaiting.evaluations.values_list("pk", flat=True)]

    response = login(bob).post(
        reverse("evaluations:cycle_evaluations_bulk", kwargs={"year": later.year}),
        {"action": "approve", "evaluation": pks},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == queue_url(2022)
    assert messages_of(response) == ["0 evaluations approved."]
    assert set(statuses(awaiting).values()) == {EvaluationStatus.SUBMITTED}


def test_the_redirect_after_a_bulk_action_stays_on_this_site(awaiting: Cycle, bob: User) -> None:
    response = login(bob).post(
        BULK_URL,
        {"action": "approve", "evaluation": [], "query": "//evil.example/x"},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(queue_url())


# --- "and next" ---------------------------------------------------------------------------


def test_approve_and_next_opens_the_next_evaluation_awaiting_this_approver(
    awaiting: Cycle, bob_reviews: User
) -> None:
    client = login(bob_reviews)
    alpha = awaiting.evaluations.get(zone__name_en="Alpha")
    charlie = awaiting.evaluations.get(zone__name_en="Charlie")

    response = client.post(action_url(alpha, "approve"), {"version": alpha.version, "then": "next"})
    # Bravo is bob's own work: four eyes skips it.
    assert response["Location"] == detail_url(charlie)

    response = client.post(
        action_url(charlie, "approve"), {"version": charlie.version, "then": "next"}, follow=True
    )
    assert response.redirect_chain[-1][0] == queue_url()
    assert messages_of(response)[-2:] == [
        "The evaluation is approved.",
        "No other evaluation awaits your approval.",
    ]


def test_approve_without_next_stays_on_the_evaluation(awaiting: Cycle, bob: User) -> None:
    alpha = awaiting.evaluations.get(zone__name_en="Alpha")

    response = login(bob).post(action_url(alpha, "approve"), {"version": alpha.version})

    assert response["Location"] == detail_url(alpha)


def test_the_evaluation_page_offers_approve_and_next_and_save_and_next(
    awaiting: Cycle, bob: User, alice: User, carol: User
) -> None:
    alpha = awaiting.evaluations.get(zone__name_en="Alpha")
    approver = html(login(bob).get(detail_url(alpha)))
    bravo = assign(awaiting, "Bravo", carol, alice)
    bravo.status = EvaluationStatus.RETURNED
    bravo.save(update_fields=["status"])
    reviewer = html(login(carol).get(detail_url(bravo)))

    assert "Approve and next" in approver
    assert "Save and next" in reviewer and "Submit and next" in reviewer


def test_save_and_next_opens_the_reviewers_next_evaluation_then_the_queue(
    cycle: Cycle, alice: User, carol: User
) -> None:
    alpha = assign(cycle, "Alpha", carol, alice)
    charlie = assign(cycle, "Charlie", carol, alice)
    client = login(carol)

    response = client.post(detail_url(alpha), {**entry(alpha, {"P1": "5"}), "then": "next"})
    assert response["Location"] == detail_url(charlie)

    response = client.post(
        action_url(charlie, "submit"), {**entry(charlie, COMPLETE), "then": "next"}
    )
    # Alpha is still a draft: the queue starts again from the top.
    assert response["Location"] == detail_url(alpha)

    alpha.refresh_from_db()
    response = client.post(
        action_url(alpha, "submit"), {**entry(alpha, COMPLETE), "then": "next"}, follow=True
    )
    assert response.redirect_chain[-1][0] == queue_url()
    assert "No other evaluation assigned to you awaits entry." in messages_of(response)
