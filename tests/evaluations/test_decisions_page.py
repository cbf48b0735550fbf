"""The decisions page of a cycle through HTTP: reading recommendations and recording decisions.

bob (an Approver) decides; alice (an Administrator) reads what was decided but decides
nothing; carol (a Reviewer) and dave (a Viewer) may not open the page. The cycle of 2021 is
published with grade 1 for the top zone alone, so Charlie, graded 4, is recommended a warning.
Every refused write leaves the decision and the zone as they were.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    Grade,
    Outcome,
    Recommendation,
)
from evaluations.services import cycle_open, cycle_publish, decision_record
from registry.models import Zone, ZoneStatus
from tests.factories import make_batch, make_province, make_zone, score_all

# --- helpers -----------------------------------------------------------------------------


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def page_url(year: int = 2021) -> str:
    return reverse("evaluations:cycle_decisions", kwargs={"year": year})


def record_url(decision: Decision, year: int | None = None) -> str:
    return reverse(
        "evaluations:decision_record",
        kwargs={"year": year or decision.cycle.year, "pk": decision.pk},
    )


def card(page: str, decision: Decision) -> str:
    """The part of the page about one decision: its row of the table."""
    start = page.index(f'id="decision-{decision.pk}"')
    return page[start : page.index("</tr>", start)]


def checked_outcome(card_html: str) -> str | None:
    """The outcome selected in the row's form, or None where none is."""
    match = re.search(r'<option value="(\w*)" selected>', card_html)
    return match[1] if match and match[1] else None


def state(decision: Decision) -> tuple:
    """Everything a decision could change: the decision and its zone's status."""
    current = Decision.objects.select_related("zone").get(pk=decision.pk)
    return (
        current.outcome,
        current.rationale,
        current.decided_by_id,
        current.decided_at,
        current.zone.status,
        current.zone.status_changed_on,
        current.zone.history.count(),
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def published(cycle: Cycle) -> Cycle:
    """The cycle of 2021, published: Alpha grade 1, Bravo grade 3, Charlie grade 4 (warned)."""
    cycle.grade1_size = 1
    cycle.save()
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle)
    cycle.refresh_from_db()
    return cycle


@pytest.fixture
def warning(published: Cycle) -> Decision:
    return Decision.objects.select_related("cycle", "zone").get(cycle=published)


@pytest.fixture
def bob_client(bob: User) -> Client:
    return login(bob)


# --- reading -----------------------------------------------------------------------------


def test_bob_sees_each_recommendation_with_its_rule_grades_and_the_zones_status(
    bob_client: Client, warning: Decision
) -> None:
    response = bob_client.get(page_url())

    assert response.status_code == 200
    page = html(response)
    assert "1 recommendation awaits a decision" in page
    charlie = card(page, warning)
    assert 'href="/zones/charlie/"' in charlie
    assert "warn (on notice, must rectify)" in charlie
    assert "At grade 4 or worse in 1 published cycle up to 2021" in charlie
    assert re.search(
        r'title="2021: still at the starting stage">\s*'
        r'<span class="grade-history__year">2021</span>\s*<span class="grade grade--4">4</span>',
        charlie,
    )
    assert '<span class="badge badge--active">active</span>' in charlie
    assert "Record the decision" in charlie
    # The answer to the form comes back to this row, errors and all.
    assert f'action="{record_url(warning)}#decision-{warning.pk}"' in charlie


def test_the_grades_shown_are_those_of_the_recent_published_cycles(
    bob_client: Client, warning: Decision, bob: User
) -> None:
    decision_record(decision=warning, outcome=Outcome.WARN, rationale="Rectify.", by=bob)
    later = cycle_open(year=2022)
    score_all(later, {"Alpha": 9, "Bravo": 6, "Charlie": 2, "Delta": 8})
    cycle_publish(cycle=later)
    cycle_open(year=2023)  # not published: no grade from it is shown
    exit_recommendation = Decision.objects.get(cycle=later, zone__name_en="Charlie")

    page = html(bob_client.get(page_url(2022)))

    charlie = card(page, exit_recommendation)
    assert re.findall(
        r'grade-history__year">(\d+)</span>\s*<span class="grade grade--(\d)', charlie
    ) == [
        ("2021", "4"),
        ("2022", "4"),
    ]
    assert re.search(
        r'<span class="recommendation recommendation--exit" title="[^"]+">exit</span>', charlie
    )
    assert '<span class="badge badge--on_notice">on notice</span>' in charlie


def test_no_form_preselects_an_outcome_whatever_the_recommendation(
    bob_client: Client, published: Cycle, warning: Decision
) -> None:
    alpha, bravo = (Zone.objects.get(name_en=name) for name in ("Alpha", "Bravo"))
    exit_decision = Decision.objects.create(
        cycle=published, zone=alpha, recommendation=Recommendation.EXIT
    )
    lift_decision = Decision.objects.create(
        cycle=published, zone=bravo, recommendation=Recommendation.LIFT
    )

    page = html(bob_client.get(page_url()))

    for decision in (warning, exit_decision, lift_decision):
        assert checked_outcome(card(page, decision)) is None
    # Every outcome may be chosen, whatever was recommended.
    assert re.findall(r'<option value="(\w*)"', card(page, warning)) == [
        "",
        "retain",
        "warn",
        "rectify",
        "exit",
    ]


def test_alice_reads_the_recommendations_but_is_offered_no_form(
    alice: User, warning: Decision
) -> None:
    response = login(alice).get(page_url())

    assert response.status_code == 200
    page = html(response)
    assert 'href="/zones/charlie/"' in page
    assert '<form class="decision-form"' not in page
    assert "Only Approvers record decisions; you may read them." in page


@pytest.mark.parametrize("username", ["carol", "dave"])
def test_reviewers_and_viewers_may_not_read_the_decisions(
    username: str, carol: User, dave: User, warning: Decision
) -> None:
    user = User.objects.get(username=username)

    response = login(user).get(page_url())

    assert response.status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client: Client, warning: Decision) -> None:
    response = client.get(page_url())

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={page_url()}"


def test_the_decisions_of_an_unknown_year_are_not_found(
    bob_client: Client, warning: Decision
) -> None:
    assert bob_client.get(page_url(1999)).status_code == 404


def test_an_unpublished_cycle_says_decisions_come_with_publication_and_lists_nothing(
    bob_client: Client, cycle: Cycle
) -> None:
    zone = Zone.objects.get(name_en="Charlie")
    Decision.objects.create(cycle=cycle, zone=zone, recommendation=Recommendation.WARN)

    response = bob_client.get(page_url())

    assert response.status_code == 200
    page = html(response)
    assert "Decisions are taken once the cycle is published" in page
    assert "decision-card" not in page
    assert '<form class="decision-form"' not in page


def test_a_cycle_with_no_recommendation_says_so(bob_client: Client, cycle: Cycle) -> None:
    score_all(cycle, {"Alpha": 10, "Bravo": 9, "Charlie": 8})
    cycle_publish(cycle=cycle)

    page = html(bob_client.get(page_url()))

    assert "The rule recommended nothing after this cycle" in page


def test_a_demonstration_cycle_carries_the_demo_banner(
    bob_client: Client, published: Cycle
) -> None:
    assert "Demonstration data, not official results" not in html(bob_client.get(page_url()))
    Cycle.objects.filter(pk=published.pk).update(is_demo=True)

    assert "Demonstration data, not official results" in html(bob_client.get(page_url()))


# --- deciding ----------------------------------------------------------------------------


def test_bob_confirms_a_warning_and_the_zone_goes_on_notice(
    bob_client: Client, bob: User, warning: Decision
) -> None:
    response = bob_client.post(
        record_url(warning), {"outcome": "warn", "rationale": "Imports fell two years running."}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{page_url()}#decision-{warning.pk}"
    decision = Decision.objects.select_related("zone").get(pk=warning.pk)
    assert (decision.outcome, decision.rationale, decision.decided_by) == (
        Outcome.WARN,
        "Imports fell two years running.",
        bob,
    )
    assert decision.decided_at is not None
    assert decision.zone.status == ZoneStatus.ON_NOTICE
    followed = bob_client.get(response["Location"])
    assert messages_of(followed) == ["Charlie: “warn” is recorded. The zone is now on notice."]
    page = html(followed)
    assert "1 decision taken" in page
    decided = card(page, warning)
    assert '<strong class="outcome outcome--warn">warn</strong>' in decided
    assert "Imports fell two years running." in decided
    assert "by bob" in decided
    assert "<form" not in decided


def test_bob_decides_otherwise_than_the_rule_recommended(
    bob_client: Client, warning: Decision
) -> None:
    response = bob_client.post(
        record_url(warning), {"outcome": "retain", "rationale": "Figures were misreported."}
    )

    assert response.status_code == 302
    decision = Decision.objects.select_related("zone").get(pk=warning.pk)
    assert (decision.recommendation, decision.outcome) == (Recommendation.WARN, Outcome.RETAIN)
    assert decision.zone.status == ZoneStatus.ACTIVE


def test_a_decision_without_a_rationale_is_refused_by_the_rationale_and_nothing_changes(
    bob_client: Client, warning: Decision
) -> None:
    before = state(warning)

    response = bob_client.post(record_url(warning), {"outcome": "exit", "rationale": "   "})

    assert response.status_code == 200
    charlie = card(html(response), warning)
    assert "Write the rationale of the decision." in charlie
    assert checked_outcome(charlie) == "exit"  # what bob chose is kept
    assert state(warning) == before


def test_an_unknown_outcome_is_refused_and_nothing_changes(
    bob_client: Client, warning: Decision
) -> None:
    before = state(warning)

    response = bob_client.post(record_url(warning), {"outcome": "banish", "rationale": "x"})

    assert response.status_code == 200
    assert "Select a valid choice" in card(html(response), warning)
    assert state(warning) == before


@pytest.mark.parametrize("username", ["alice", "carol", "dave"])
def test_only_approvers_may_decide(
    username: str, alice: User, carol: User, dave: User, warning: Decision
) -> None:
    before = state(warning)

    response = login(User.objects.get(username=username)).post(
        record_url(warning), {"outcome": "exit", "rationale": "Too weak."}
    )

    assert response.status_code == 403
    assert state(warning) == before


def test_an_anonymous_post_is_sent_to_log_in_and_changes_nothing(
    client: Client, warning: Decision
) -> None:
    before = state(warning)

    response = client.post(record_url(warning), {"outcome": "exit", "rationale": "Too weak."})

    assert response.status_code == 302
    assert state(warning) == before


def test_a_decision_taken_already_is_not_taken_again(
    bob_client: Client, bob: User, warning: Decision
) -> None:
    decision_record(decision=warning, outcome=Outcome.WARN, rationale="Warned.", by=bob)
    before = state(warning)

    response = bob_client.post(record_url(warning), {"outcome": "rectify", "rationale": "Changed."})

    assert response.status_code == 400
    assert messages_of(response) == ["This was decided already (warn) by bob."]
    assert state(warning) == before


def test_a_decision_on_a_cycle_that_is_not_published_is_refused_with_the_services_message(
    bob_client: Client, cycle: Cycle
) -> None:
    decision = Decision.objects.create(
        cycle=cycle, zone=Zone.objects.get(name_en="Charlie"), recommendation="warn"
    )
    before = state(decision)

    response = bob_client.post(record_url(decision), {"outcome": "warn", "rationale": "x"})

    assert response.status_code == 400
    assert messages_of(response) == ["Decisions are taken only on a published cycle."]
    assert state(decision) == before


def test_a_decision_is_found_only_under_its_own_cycles_year(
    bob_client: Client, warning: Decision
) -> None:
    cycle_open(year=2022)
    before = state(warning)

    wrong_year = bob_client.post(
        record_url(warning, year=2022), {"outcome": "warn", "rationale": "x"}
    )
    unknown = bob_client.post(
        reverse("evaluations:decision_record", kwargs={"year": 2021, "pk": 999_999}),
        {"outcome": "warn", "rationale": "x"},
    )

    assert (wrong_year.status_code, unknown.status_code) == (404, 404)
    assert state(warning) == before


def test_deciding_takes_a_post(bob_client: Client, warning: Decision) -> None:
    assert bob_client.get(record_url(warning)).status_code == 405


# --- languages and queries ---------------------------------------------------------------


def test_grades_recommendations_and_outcomes_are_named_in_the_active_language(
    bob: User, warning: Decision
) -> None:
    client = login(bob)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    decision_record(decision=warning, outcome=Outcome.RECTIFY, rationale="整改。", by=bob)

    page = html(client.get(page_url()))

    assert '<html lang="zh-hans">' in page
    with translation.override("zh-hans"):
        expected = [
            str(Grade.STARTING.label),
            str(Recommendation.WARN.label),
            str(Outcome.RECTIFY.label),
        ]
    decided = card(page, warning)
    for name in expected:
        assert name in decided


@pytest.fixture
def crowded_cycle(framework, bob: User, request) -> Cycle:
    """A published cycle of 2021 with as many warned zones as the test asks for."""
    count = request.param
    province = make_province()
    batch = make_batch(approved_on=datetime.date(2020, 1, 1))
    zones = [
        make_zone(name_en=f"Zone {n:03d}", province=province, batch=batch) for n in range(count)
    ]
    cycle = Cycle.objects.create(
        year=2021, cutoff=datetime.date(2020, 12, 31), status=CycleStatus.PUBLISHED
    )
    Evaluation.objects.bulk_create(
        Evaluation(cycle=cycle, zone=zone, status="approved", rank=n + 1, grade=Grade.STARTING)
        for n, zone in enumerate(zones)
    )
    Decision.objects.bulk_create(
        Decision(cycle=cycle, zone=zone, recommendation=Recommendation.WARN) for zone in zones
    )
    # A third of them decided already, so both lists are drawn.
    Decision.objects.filter(zone__in=zones[::3]).update(
        outcome=Outcome.WARN,
        rationale="Warned.",
        decided_by=bob,
        decided_at=datetime.datetime(2022, 4, 1, tzinfo=datetime.UTC),
    )
    return cycle


def queries_for_page(user: User) -> int:
    client = login(user)
    client.get(page_url())  # the session is read once more on a first visit
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page_url())
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("crowded_cycle", [3], indirect=True)
def test_the_page_reads_a_fixed_number_of_queries(crowded_cycle: Cycle, bob: User) -> None:
    # session, user, permissions (2), the cycle, the counts of awaiting and decided, the
    # number of cases, the page of cases with their zones and deciders, the recent published
    # cycles, their grades; the navigation's cycles with their decisions waiting; the unread
    # notifications
    assert queries_for_page(bob) == 12


@pytest.mark.parametrize("crowded_cycle", [60], indirect=True)
def test_the_page_reads_as_many_queries_for_sixty_decisions_as_for_three(
    crowded_cycle: Cycle, bob: User
) -> None:
    page = html(login(bob).get(page_url() + "?per_page=100"))
    assert page.count('class="decision-row"') == 40
    assert page.count('class="decision-row decision-row--decided"') == 20

    assert queries_for_page(bob) == 12
