"""Several decisions at once, the exit's confirmation, and the decisions table's pages.

The cycle of 2021 is published: Charlie, graded 4, is recommended a warning; Alpha and Bravo
are given exit recommendations by hand. The cycle of 2022 is open, so each of them has an
open evaluation that an exit withdraws. bob (an Approver) decides; alice (an Administrator)
reads; carol (a Reviewer) and dave (a Viewer) may do neither. Every refused write leaves the
decisions, the zones and their evaluations as they were.
"""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    Grade,
    Outcome,
    Recommendation,
)
from evaluations.services import (
    cycle_open,
    cycle_publish,
    decision_record,
    decisions_record_many,
)
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


def many_url(year: int = 2021) -> str:
    return reverse("evaluations:decisions_record_many", kwargs={"year": year})


def record_url(decision: Decision) -> str:
    return reverse(
        "evaluations:decision_record", kwargs={"year": decision.cycle.year, "pk": decision.pk}
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def world_state() -> tuple:
    """Everything deciding could change: every decision, every zone, every evaluation."""
    return (
        list(
            Decision.objects.order_by("pk").values_list(
                "pk", "outcome", "rationale", "decided_by", "decided_at", "status_change"
            )
        ),
        list(Zone.objects.order_by("pk").values_list("pk", "status", "status_changed_on")),
        list(Evaluation.objects.order_by("pk").values_list("pk", "cycle__year", "zone")),
        Zone.history.count(),
        Decision.history.count(),
    )


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def published(cycle: Cycle) -> Cycle:
    """2021 published (Charlie warned; Alpha and Bravo recommended for exit), 2022 open."""
    cycle.grade1_size = 1
    cycle.save()
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle)
    for name in ("Alpha", "Bravo"):
        Decision.objects.create(
            cycle=cycle, zone=Zone.objects.get(name_en=name), recommendation=Recommendation.EXIT
        )
    cycle_open(year=2022)
    cycle.refresh_from_db()
    return cycle


def decision_of(name: str, year: int = 2021) -> Decision:
    return Decision.objects.with_related().get(cycle__year=year, zone__name_en=name)


# --- the service, without HTTP -----------------------------------------------------------


def test_each_selected_case_gets_its_own_decision_with_the_same_outcome_and_rationale(
    published: Cycle, bob: User
) -> None:
    cases = [decision_of("Bravo"), decision_of("Charlie")]

    result = decisions_record_many(
        decisions=cases, outcome=Outcome.RECTIFY, rationale="Six months to rectify.", by=bob
    )

    assert [d.zone.name_en for d in result.recorded] == ["Bravo", "Charlie"]
    assert result.refused == []
    for name in ("Bravo", "Charlie"):
        decision = decision_of(name)
        assert (decision.outcome, decision.rationale, decision.decided_by) == (
            Outcome.RECTIFY,
            "Six months to rectify.",
            bob,
        )
        assert decision.zone.status == ZoneStatus.ON_NOTICE
        assert decision.history.count() == 2  # its own history: created, then decided
        assert decision.status_change is not None
    assert decision_of("Alpha").outcome == ""


def test_the_refused_cases_are_listed_with_the_reason_and_the_others_stand(
    published: Cycle, bob: User
) -> None:
    decision_record(decision=decision_of("Charlie"), outcome=Outcome.WARN, rationale="x", by=bob)
    Zone.objects.filter(name_en="Alpha").update(status=ZoneStatus.EXITED)

    result = decisions_record_many(
        decisions=[decision_of("Alpha"), decision_of("Bravo"), decision_of("Charlie")],
        outcome=Outcome.RETAIN,
        rationale="Recovered.",
        by=bob,
    )

    assert [d.zone.name_en for d in result.recorded] == ["Bravo"]
    assert [(r.decision.zone.name_en, r.reason) for r in result.refused] == [
        ("Alpha", "The zone has exited already."),
        ("Charlie", "This was decided already (warn) by bob."),
    ]
    assert decision_of("Bravo").outcome == Outcome.RETAIN
    assert decision_of("Charlie").outcome == Outcome.WARN


@pytest.mark.parametrize(
    ("outcome", "rationale", "field"),
    [("exit", "  ", "rationale"), ("banish", "Too weak.", "outcome"), ("", "x", "outcome")],
)
def test_an_outcome_or_rationale_that_is_not_acceptable_records_nothing(
    published: Cycle, bob: User, outcome: str, rationale: str, field: str
) -> None:
    before = world_state()

    with pytest.raises(ValidationError) as raised:
        decisions_record_many(
            decisions=[decision_of("Alpha"), decision_of("Bravo")],
            outcome=outcome,
            rationale=rationale,
            by=bob,
        )

    assert field in raised.value.message_dict
    assert world_state() == before


@pytest.mark.parametrize("username", ["alice", "carol", "dave"])
def test_someone_who_may_not_decide_has_every_case_refused(
    published: Cycle, alice: User, carol: User, dave: User, username: str
) -> None:
    before = world_state()

    result = decisions_record_many(
        decisions=[decision_of("Alpha"), decision_of("Charlie")],
        outcome=Outcome.WARN,
        rationale="x",
        by=User.objects.get(username=username),
    )

    assert result.recorded == []
    assert {r.reason for r in result.refused} == {"Only Approvers may record decisions."}
    assert world_state() == before


def test_an_exit_of_several_withdraws_each_zones_open_evaluation(
    published: Cycle, bob: User
) -> None:
    result = decisions_record_many(
        decisions=[decision_of("Alpha"), decision_of("Bravo")],
        outcome=Outcome.EXIT,
        rationale="Graded 4 twice.",
        by=bob,
    )

    assert len(result.recorded) == 2
    assert set(Zone.objects.filter(status=ZoneStatus.EXITED).values_list("name_en", flat=True)) == {
        "Alpha",
        "Bravo",
    }
    assert set(
        Evaluation.objects.filter(cycle__year=2022).values_list("zone__name_en", flat=True)
    ) == {"Charlie", "Delta"}


# --- the page: several at once -----------------------------------------------------------


def test_bob_records_one_outcome_with_one_rationale_on_the_selected_cases(
    published: Cycle, bob: User
) -> None:
    bravo, charlie = decision_of("Bravo"), decision_of("Charlie")

    response = login(bob).post(
        many_url() + "?state=awaiting",
        {"decisions": [bravo.pk, charlie.pk], "outcome": "warn", "rationale": "Warned."},
        follow=True,
    )

    assert response.redirect_chain == [(page_url() + "?state=awaiting", 302)]
    assert messages_of(response) == [
        "Bravo: “warn” is recorded. The zone is now on notice.",
        "Charlie: “warn” is recorded. The zone is now on notice.",
    ]
    assert {decision_of(n).outcome for n in ("Bravo", "Charlie")} == {Outcome.WARN}
    assert decision_of("Alpha").outcome == ""


def test_the_cases_refused_are_named_with_the_reason(published: Cycle, bob: User) -> None:
    decision_record(decision=decision_of("Charlie"), outcome=Outcome.WARN, rationale="x", by=bob)

    response = login(bob).post(
        many_url(),
        {
            "decisions": [decision_of("Bravo").pk, decision_of("Charlie").pk],
            "outcome": "retain",
            "rationale": "Recovered.",
        },
        follow=True,
    )

    assert messages_of(response) == [
        "Bravo: “retain” is recorded. The zone is now active.",
        "Charlie: not recorded. This was decided already (warn) by bob.",
    ]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"outcome": "warn", "rationale": "x"}, "Select at least one case in the table."),
        ({"decisions": ["ALPHA"], "outcome": "warn", "rationale": "x"}, "ALPHA"),
        ({"decisions": ["{alpha}"], "outcome": "", "rationale": "x"}, "Choose retain, warn"),
        ({"decisions": ["{alpha}"], "outcome": "warn", "rationale": " "}, "Write the rationale"),
    ],
)
def test_a_bulk_decision_with_a_mistake_says_so_and_changes_nothing(
    published: Cycle, bob: User, form: dict, message: str
) -> None:
    alpha = decision_of("Alpha")
    form = {
        key: [v.replace("{alpha}", str(alpha.pk)) for v in value]
        if isinstance(value, list)
        else value
        for key, value in form.items()
    }
    before = world_state()

    response = login(bob).post(many_url(), form)

    assert response.status_code == 200
    assert message in html(response)
    assert world_state() == before


def test_a_case_of_another_cycle_is_not_decided_from_this_one(published: Cycle, bob: User) -> None:
    later = Cycle.objects.get(year=2022)
    Cycle.objects.filter(pk=later.pk).update(status=CycleStatus.PUBLISHED)
    elsewhere = Decision.objects.create(
        cycle=later, zone=Zone.objects.get(name_en="Delta"), recommendation="warn"
    )
    before = world_state()

    response = login(bob).post(
        many_url(2021), {"decisions": [elsewhere.pk], "outcome": "warn", "rationale": "x"}
    )

    assert response.status_code == 200
    assert "is not a recommendation of this cycle" in html(response)
    assert world_state() == before


@pytest.mark.parametrize("username", ["alice", "carol", "dave"])
def test_only_approvers_may_decide_several_at_once(
    published: Cycle, alice: User, carol: User, dave: User, username: str
) -> None:
    before = world_state()

    for outcome, extra in (("warn", {}), ("exit", {"confirm_exit": "on"})):
        response = login(User.objects.get(username=username)).post(
            many_url(),
            {"decisions": [decision_of("Alpha").pk], "outcome": outcome, "rationale": "x", **extra},
        )
        assert response.status_code == 403

    assert world_state() == before


def test_an_anonymous_bulk_post_is_sent_to_log_in(client: Client, published: Cycle) -> None:
    before = world_state()

    response = client.post(
        many_url(), {"decisions": [decision_of("Alpha").pk], "outcome": "warn", "rationale": "x"}
    )

    assert response.status_code == 302
    assert world_state() == before


# --- the exit's confirmation -------------------------------------------------------------


def test_an_exit_of_several_without_confirmation_changes_nothing_and_says_what_it_would_do(
    published: Cycle, bob: User
) -> None:
    alpha, bravo = decision_of("Alpha"), decision_of("Bravo")
    before = world_state()

    response = login(bob).post(
        many_url(), {"decisions": [alpha.pk, bravo.pk], "outcome": "exit", "rationale": "Weak."}
    )

    assert response.status_code == 200
    assert world_state() == before
    page = html(response)
    today = timezone.localdate()
    assert "Confirm the exit of 2 zones" in page
    assert "Nothing has been recorded yet." in page
    assert f"its status becomes “exited” from {date_format(today, 'DATE_FORMAT')};" in page
    assert "it is no longer evaluated" in page
    assert page.count('class="exit-case"') == 2
    assert 'href="/zones/alpha/"' in page and 'href="/zones/bravo/"' in page
    assert page.count("the evaluation of 2022 (draft) is withdrawn") == 2
    assert f'<input type="hidden" name="decisions" value="{alpha.pk}">' in page
    assert '<input type="hidden" name="confirm_exit" value="on">' in page


def test_the_confirmed_exit_of_several_is_applied(published: Cycle, bob: User) -> None:
    alpha, bravo = decision_of("Alpha"), decision_of("Bravo")

    response = login(bob).post(
        many_url(),
        {
            "decisions": [alpha.pk, bravo.pk],
            "outcome": "exit",
            "rationale": "Weak.",
            "confirm_exit": "on",
        },
        follow=True,
    )

    assert messages_of(response) == [
        "Alpha: “exit” is recorded. The zone is now exited.",
        "Bravo: “exit” is recorded. The zone is now exited.",
    ]
    assert {decision_of(n).zone.status for n in ("Alpha", "Bravo")} == {ZoneStatus.EXITED}
    assert not Evaluation.objects.filter(cycle__year=2022, zone__name_en__in=["Alpha", "Bravo"])


def test_an_exit_in_one_row_without_confirmation_changes_nothing_and_asks_for_it(
    published: Cycle, bob: User
) -> None:
    charlie = decision_of("Charlie")
    before = world_state()

    response = login(bob).post(record_url(charlie), {"outcome": "exit", "rationale": "Weak."})

    assert response.status_code == 200
    assert world_state() == before
    page = html(response)
    assert "Confirm the exit of 1 zone" in page
    assert "the evaluation of 2022 (draft) is withdrawn" in page
    assert 'name="decisions"' not in page  # the row's own address carries the case

    confirmed = login(bob).post(
        record_url(charlie), {"outcome": "exit", "rationale": "Weak.", "confirm_exit": "on"}
    )

    assert confirmed.status_code == 302
    assert decision_of("Charlie").zone.status == ZoneStatus.EXITED


def test_the_confirmation_says_when_a_zone_has_no_open_evaluation(
    published: Cycle, bob: User
) -> None:
    Evaluation.objects.filter(cycle__year=2022, zone__name_en="Alpha").delete()

    page = html(
        login(bob).post(
            many_url(),
            {"decisions": [decision_of("Alpha").pk], "outcome": "exit", "rationale": "x"},
        )
    )

    assert "none open: nothing is withdrawn" in page


def test_outcomes_other_than_exit_need_no_confirmation(published: Cycle, bob: User) -> None:
    response = login(bob).post(
        record_url(decision_of("Charlie")), {"outcome": "rectify", "rationale": "x"}
    )

    assert response.status_code == 302


# --- the table: filters, pages and queries -----------------------------------------------


@pytest.fixture
def crowded_cycle(framework, bob: User) -> Cycle:
    """A published cycle of 2021 with 200 cases: 150 warnings awaiting, 50 exits decided."""
    province = make_province()
    batch = make_batch(approved_on=datetime.date(2020, 1, 1))
    zones = [make_zone(name_en=f"Zone {n:03d}", province=province, batch=batch) for n in range(200)]
    cycle = Cycle.objects.create(
        year=2021, cutoff=datetime.date(2020, 12, 31), status=CycleStatus.PUBLISHED
    )
    Evaluation.objects.bulk_create(
        Evaluation(cycle=cycle, zone=zone, status="approved", rank=n + 1, grade=Grade.STARTING)
        for n, zone in enumerate(zones)
    )
    Decision.objects.bulk_create(
        Decision(
            cycle=cycle,
            zone=zone,
            recommendation=Recommendation.EXIT if n >= 150 else Recommendation.WARN,
        )
        for n, zone in enumerate(zones)
    )
    Decision.objects.filter(recommendation=Recommendation.EXIT).update(
        outcome=Outcome.EXIT,
        rationale="Exited.",
        decided_by=bob,
        decided_at=datetime.datetime(2022, 4, 1, tzinfo=datetime.UTC),
    )
    return cycle


def rows_on(page: str) -> int:
    return page.count('<tr id="decision-')


def test_the_table_shows_a_page_of_cases_awaiting_ones_first(
    crowded_cycle: Cycle, bob: User
) -> None:
    client = login(bob)

    first = html(client.get(page_url()))
    last = html(client.get(page_url() + "?page=8"))

    assert rows_on(first) == 25
    assert "200 cases match." in first
    assert "Page 1 of 8" in first
    assert "Zone 000" in first and "Zone 024" in first and "Zone 025" not in first
    assert rows_on(last) == 25 and "Zone 199" in last
    assert 'class="decision-row decision-row--decided"' not in first


@pytest.mark.parametrize(
    ("query", "rows", "matches"),
    [
        ("?state=awaiting&per_page=100", 100, "150 cases match."),
        ("?state=decided&per_page=100", 50, "50 cases match."),
        ("?recommendation=exit&per_page=50", 50, "50 cases match."),
        ("?recommendation=warn&state=decided", 0, "0 cases match."),
        ("?per_page=100000&state=nonsense", 25, "200 cases match."),  # unknown values ignored
    ],
)
def test_the_table_filters_by_state_and_recommendation_and_pages_by_the_size_chosen(
    crowded_cycle: Cycle, bob: User, query: str, rows: int, matches: str
) -> None:
    page = html(login(bob).get(page_url() + query))

    assert rows_on(page) == rows
    assert matches in page


@pytest.mark.parametrize("query", ["", "?per_page=100", "?state=decided&page=2", "?page=8"])
def test_the_page_of_200_cases_reads_a_bounded_number_of_queries(
    crowded_cycle: Cycle, bob: User, django_assert_max_num_queries, query: str
) -> None:
    client = login(bob)
    client.get(page_url())

    # The page's ten, the navigation's cycles with decisions waiting, the unread notifications.
    with django_assert_max_num_queries(12):
        response = client.get(page_url() + query)

    assert response.status_code == 200


def test_deciding_100_cases_at_once_asks_a_bounded_number_of_queries_for_its_confirmation(
    crowded_cycle: Cycle, bob: User, django_assert_max_num_queries
) -> None:
    awaiting = list(Decision.objects.filter(outcome="").values_list("pk", flat=True)[:100])
    client = login(bob)
    client.get(page_url())

    # The page's ten, the navigation's cycles with decisions waiting, the unread notifications.
    with django_assert_max_num_queries(12):
        response = client.post(
            many_url(), {"decisions": awaiting, "outcome": "exit", "rationale": "x"}
        )

    assert html(response).count('class="exit-case"') == 100


def test_alice_reads_the_table_without_forms_or_checkboxes(
    crowded_cycle: Cycle, alice: User
) -> None:
    page = html(login(alice).get(page_url()))

    assert rows_on(page) == 25
    assert 'name="decisions"' not in page
    assert '<form class="decision-form"' not in page
    assert 'id="bulk-decide"' not in page


def test_the_confirmation_speaks_chinese_to_a_chinese_reader(published: Cycle, bob: User) -> None:
    client = login(bob)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    page = html(
        client.post(
            many_url(),
            {
                "decisions": [decision_of("Alpha").pk, decision_of("Bravo").pk],
                "outcome": "exit",
                "rationale": "连续两年评为第4档。",
            },
        )
    )

    assert "确认2个综试区退出" in page
    assert "尚未记录任何决定。" in page
    assert "不再参加评估" in page
    assert page.count("撤销2022年度评估（草稿）") == 2
    for english in ("Confirm the exit", "withdrawn", "Nothing has been recorded"):
        assert english not in page
