"""A zone's page with its evaluations: rank and grade by year, why its rank, its decisions.

dave (a Viewer) sees published cycles only; carol (a Reviewer), bob (an Approver) and alice
(an Administrator) also see the cycle under way, marked provisional. The published cycle of
2021 ranks Alpha, Bravo and Charlie with grade 1 for the top zone alone, so Charlie, graded
4, is recommended a warning.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.template.defaultfilters import date
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from evaluations.framework import framework_load
from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Dimension,
    Evaluation,
    EvaluationStatus,
    Grade,
    Outcome,
    Recommendation,
    Score,
)
from evaluations.services import cycle_open, cycle_publish, decision_record, rankings_compute
from registry.models import Zone
from tests.factories import make_batch, make_province, make_zone, score_all

# --- helpers -----------------------------------------------------------------------------


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def result_rows(page: str) -> list[str]:
    """The rows of the rank-and-grade table, as text with single spaces."""
    rows = re.findall(r'<tr class="cycle-result[^"]*">(.*?)</tr>', page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def chart(page: str) -> str:
    match = re.search(r'<svg class="rank-chart__svg".*?</svg>', page, re.S)
    assert match, "no rank chart"
    return match[0]


def timeline_entries(page: str) -> list[str]:
    entries = re.findall(r'<li class="timeline__entry[^"]*">(.*?)</li>', page, re.S)
    return [" ".join(entry.split()) for entry in entries]


def explanation(page: str) -> str:
    match = re.search(r'<section class="explanation".*?</section>', page, re.S)
    return " ".join(match[0].split()) if match else ""


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def zones(db) -> dict[str, Zone]:
    province = make_province()
    batch = make_batch(approved_on=datetime.date(2019, 12, 15))
    return {
        name: make_zone(name_en=name, name_zh=name_zh, province=province, batch=batch)
        for name, name_zh in [("Alpha", "甲市"), ("Bravo", "乙市"), ("Charlie", "丙市")]
    }


@pytest.fixture
def published(zones) -> Cycle:
    """The cycle of 2021, published: Alpha 1st (grade 1), Bravo 2nd (3), Charlie 3rd (4)."""
    framework_load()
    cycle = cycle_open(year=2021)
    cycle.grade1_size = 1
    cycle.save()
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle)
    cycle.refresh_from_db()
    return cycle


@pytest.fixture
def under_way(published: Cycle) -> Cycle:
    """The cycle of 2022, open, with provisional ranks: Charlie 1st, Alpha 2nd, Bravo 3rd."""
    cycle = cycle_open(year=2022)
    score_all(cycle, {"Alpha": 8, "Bravo": 2, "Charlie": 9}, status=EvaluationStatus.SUBMITTED)
    rankings_compute(cycle=cycle)
    return cycle


@pytest.fixture
def charlie(zones) -> Zone:
    return zones["Charlie"]


# --- rank and grade by year --------------------------------------------------------------


def test_a_viewer_sees_rank_total_and_grade_of_each_published_cycle_only(
    dave: User, charlie: Zone, under_way: Cycle
) -> None:
    page = html(login(dave).get(charlie.get_absolute_url()))

    assert result_rows(page) == ["2021 3 of 3 16.50 4 still at the starting stage"]
    assert "provisional" not in page


@pytest.mark.parametrize("username", ["carol", "bob", "alice"])
def test_those_who_work_on_evaluations_also_see_the_cycle_under_way_as_provisional(
    username: str, alice: User, bob: User, carol: User, charlie: Zone, under_way: Cycle
) -> None:
    client = login(User.objects.get(username=username))

    page = html(client.get(charlie.get_absolute_url()))

    rows = result_rows(page)
    assert rows[0] == "2021 3 of 3 16.50 4 still at the starting stage"
    assert rows[1].startswith("2022 provisional 1 of 3 ")
    assert 'class="cycle-result cycle-result--provisional"' in page


def test_an_evaluation_not_ranked_yet_says_so(bob: User, charlie: Zone, published: Cycle) -> None:
    cycle_open(year=2022)

    page = html(login(bob).get(charlie.get_absolute_url()))

    assert result_rows(page)[1] == "2022 provisional not ranked yet — —"


def test_a_zone_never_evaluated_says_so_and_draws_no_chart(dave: User, charlie: Zone) -> None:
    page = html(login(dave).get(charlie.get_absolute_url()))

    assert "This zone has no published evaluation yet." in page
    assert "<svg" not in page


def test_the_chart_draws_rank_one_at_the_top_and_marks_what_is_provisional(
    bob: User, charlie: Zone, under_way: Cycle
) -> None:
    page = html(login(bob).get(charlie.get_absolute_url()))

    svg = chart(page)
    assert '<title id="rank-chart-title">Rank of Charlie by year</title>' in svg
    assert 'role="img"' in svg
    points = re.findall(r'<circle class="rank-chart__point([^"]*)" cx="[\d.]+" cy="([\d.]+)"', svg)
    (published_class, rank_3_y), (provisional_class, rank_1_y) = points
    assert float(rank_1_y) < float(rank_3_y)  # 1st in 2022 is drawn above 3rd in 2021
    assert (published_class, provisional_class) == ("", " rank-chart__point--provisional")
    assert "rank-chart__line--provisional" in svg
    labels = re.findall(r'<text class="rank-chart__label"[^>]*>(\d+)</text>', svg)
    assert labels == ["3", "1"]


def test_the_page_carries_no_script_no_inline_style_and_no_other_origin(
    alice: User, charlie: Zone, under_way: Cycle
) -> None:
    page = html(login(alice).get(charlie.get_absolute_url()))

    assert "<svg" in page
    assert "<script" not in page
    assert "<style" not in page
    assert " style=" not in page
    assert not re.search(r" on[a-z]+=", page)
    assert not re.search(r'(?:src|href|action)="(?:https?:)?//', page)


# --- why this rank -----------------------------------------------------------------------


def test_the_latest_rank_is_explained_dimension_by_dimension_with_what_the_next_grade_needs(
    dave: User, charlie: Zone, published: Cycle
) -> None:
    page = html(login(dave).get(charlie.get_absolute_url()))

    why = explanation(page)
    assert "Why rank 3 in 2021" in why
    rows = re.findall(
        r'<tr> <th scope="row">([^<]+)</th> <td class="numeric">([\d.]+)%</td> '
        r'<td class="numeric">([\d.]+)</td> <td class="numeric">([\d.]+)</td>',
        why,
    )
    labels = [label for label, *_ in rows]
    assert (labels[0], labels[-1]) == ("Process checks", "Results")
    assert sum(Decimal(share) for _l, share, _s, _p in rows) == Decimal("100.0")
    assert abs(sum(Decimal(points) for *_, points in rows) - Decimal("16.50")) <= Decimal("0.05")
    # Grade 4 at 16.50: 43.50 short of the grade 3 threshold of 60.
    assert "43.50 more points of total would have reached grade 3 (initial results)." in why
    assert why.count('<rect class="contribution__points"') == len(rows)


def test_bonus_and_penalty_are_shown_apart_from_the_weighted_dimensions(
    dave: User, charlie: Zone, zones
) -> None:
    from evaluations.models import Indicator, IndicatorKind

    framework_load()
    cycle = cycle_open(year=2021)
    cycle.grade1_size = 1
    cycle.adjustment_cap = Decimal(5)
    cycle.save()
    for code, name in [("ADJ-B", "Bonus for a new park"), ("ADJ-P", "Penalty for late data")]:
        Indicator.objects.create(
            cycle=cycle,
            code=code,
            name_zh=code,
            name_en=name,
            dimension=Dimension.RESULTS,
            kind=IndicatorKind.ADJUSTMENT,
            weight=Decimal(1),
            min_value=Decimal(-10),
            max_value=Decimal(10),
            position=900,
        )
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    Score.objects.filter(indicator__code="ADJ-B").update(value=Decimal(8))
    Score.objects.filter(indicator__code="ADJ-P").update(value=Decimal("-1.5"))
    cycle_publish(cycle=cycle)

    why = explanation(html(login(dave).get(charlie.get_absolute_url())))

    # 16.50 from the dimensions, as without the adjustments, + 8 − 1.5 capped at 5.
    assert "21.50" in why
    rows = re.findall(r'<tr> <th scope="row">([^<]+)</th> <td class="numeric">([\d.]+)%</td>', why)
    dimensions = [(label, share) for label, share in rows if label != "Total"]
    assert dimensions[-1][0] == "Results"  # the adjustments are no dimension's indicators
    assert sum(Decimal(share) for _l, share in dimensions) == Decimal("100.0")
    assert "Bonus and penalty" in why
    assert '<th scope="row">Bonus for a new park</th> <td class="numeric">8.00</td>' in why
    assert '<th scope="row">Penalty for late data</th> <td class="numeric">-1.50</td>' in why
    assert '<th scope="row">Added to the total</th> <td class="numeric">5.00</td>' in why


def test_the_top_grade_needs_nothing_more(dave: User, zones, published: Cycle) -> None:
    why = explanation(html(login(dave).get(zones["Alpha"].get_absolute_url())))

    assert "Why rank 1 in 2021" in why
    assert "Grade 1 (notable results): the top grade." in why
    assert "more points" not in why


def test_a_viewer_gets_the_published_rank_explained_and_an_approver_the_provisional_one(
    dave: User, bob: User, charlie: Zone, under_way: Cycle
) -> None:
    assert "Why rank 3 in 2021" in explanation(html(login(dave).get(charlie.get_absolute_url())))

    why = explanation(html(login(bob).get(charlie.get_absolute_url())))

    assert "Why rank 1 in 2022" in why
    assert "provisional" in why


def test_a_provisional_rank_whose_scores_changed_since_is_not_explained(
    bob: User, charlie: Zone, under_way: Cycle
) -> None:
    Score.objects.filter(evaluation__cycle=under_way, evaluation__zone=charlie).first().delete()

    response = login(bob).get(charlie.get_absolute_url())

    assert response.status_code == 200
    assert explanation(html(response)) == ""


# --- decisions on the timeline -----------------------------------------------------------


def test_a_status_change_made_by_a_decision_says_who_decided_what_and_why(
    dave: User, bob: User, charlie: Zone, published: Cycle
) -> None:
    decision = Decision.objects.get(cycle=published, zone=charlie)
    decision_record(
        decision=decision, outcome=Outcome.RECTIFY, rationale="Plan due by June.", by=bob
    )

    entries = timeline_entries(html(login(dave).get(charlie.get_absolute_url())))

    assert len(entries) == 2
    assert "Status changed" in entries[1]
    assert "on notice" in entries[1]
    assert "by bob" in entries[1]
    assert (
        "Decision after the evaluation of 2021: <strong>require rectification</strong>"
        in (entries[1])
    )
    assert "the rule recommended: warn (on notice, must rectify)" in entries[1]
    assert "Plan due by June." in entries[1]


def test_a_decision_is_linked_to_the_status_change_it_made_whatever_the_change_reason_says(
    dave: User, bob: User, charlie: Zone, published: Cycle
) -> None:
    decision = decision_record(
        decision=Decision.objects.get(cycle=published, zone=charlie),
        outcome=Outcome.RECTIFY,
        rationale="Plan due by June.",
        by=bob,
    )
    change = charlie.history.order_by("-history_id").first()
    assert decision.status_change_id == change.history_id
    assert change.status == "on_notice"
    # The page follows the link, not the words of the history record.
    charlie.history.filter(pk=change.pk).update(history_change_reason="corrected by hand")

    entries = timeline_entries(html(login(dave).get(charlie.get_absolute_url())))

    assert len(entries) == 2
    assert "Status changed" in entries[1]
    assert "Plan due by June." in entries[1]


def test_existing_decisions_are_linked_to_their_status_change_by_the_old_change_reason(
    bob: User, charlie: Zone, zones, published: Cycle
) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("evaluations.migrations.0006_decision_status_change")
    decision = decision_record(
        decision=Decision.objects.get(cycle=published, zone=charlie),
        outcome=Outcome.RECTIFY,
        rationale="Plan due by June.",
        by=bob,
    )
    change = charlie.history.order_by("-history_id").first()
    # As a decision recorded before the link existed left it: the link only in the words.
    Decision.objects.filter(pk=decision.pk).update(status_change=None)
    charlie.history.filter(pk=change.pk).update(
        history_change_reason=f"decision {decision.pk}: rectify after the evaluation of 2021"
    )
    # A reason naming this decision on another zone's record is no link.
    other = zones["Alpha"].history.order_by("-history_id").first()
    zones["Alpha"].history.filter(pk=other.pk).update(
        history_change_reason=f"decision {decision.pk}: warn after the evaluation of 2021"
    )

    migration.link_decisions_to_status_changes(apps, None)

    decision.refresh_from_db()
    assert decision.status_change_id == change.history_id


def test_a_decision_that_left_the_status_as_it_was_has_its_own_line(
    dave: User, bob: User, charlie: Zone, published: Cycle
) -> None:
    decision = Decision.objects.get(cycle=published, zone=charlie)
    decision_record(
        decision=decision, outcome=Outcome.RETAIN, rationale="Figures misreported.", by=bob
    )

    page = html(login(dave).get(charlie.get_absolute_url()))

    entries = timeline_entries(page)
    assert len(entries) == 2
    assert "Added to the register" in entries[0]
    assert "Decision, status unchanged" in entries[1]
    assert "<strong>retain</strong>" in entries[1]
    assert "Figures misreported." in entries[1]
    assert "by bob" in entries[1]
    assert '<li class="timeline__entry timeline__entry--decision">' in page


def test_an_exited_zone_says_when_it_exited_and_keeps_its_history(
    dave: User, bob: User, charlie: Zone, published: Cycle
) -> None:
    decision = Decision.objects.get(cycle=published, zone=charlie)
    decision_record(decision=decision, outcome=Outcome.EXIT, rationale="Too weak.", by=bob)
    charlie.refresh_from_db()

    page = html(login(dave).get(charlie.get_absolute_url()))

    banner = " ".join(re.search(r'<div class="exit-banner".*?</div>', page, re.S)[0].split())
    assert f"This zone exited on {date(charlie.status_changed_on, 'DATE_FORMAT')}." in banner
    assert "Decided by bob after the evaluation of 2021:" in banner
    assert "Too weak." in banner
    assert result_rows(page) == ["2021 3 of 3 16.50 4 still at the starting stage"]
    assert len(timeline_entries(page)) == 2


def test_an_active_zone_has_no_exit_banner(dave: User, charlie: Zone, published: Cycle) -> None:
    assert "exit-banner" not in html(login(dave).get(charlie.get_absolute_url()))


# --- demonstration data ------------------------------------------------------------------


def test_the_demo_banner_shows_when_a_cycle_shown_is_demonstration_data(
    dave: User, bob: User, charlie: Zone, under_way: Cycle
) -> None:
    banner = "Demonstration data, not official results"
    assert banner not in html(login(dave).get(charlie.get_absolute_url()))

    Cycle.objects.filter(pk=under_way.pk).update(is_demo=True)

    # dave is not shown the cycle under way, so nothing he sees is demonstration data.
    assert banner not in html(login(dave).get(charlie.get_absolute_url()))
    page = html(login(bob).get(charlie.get_absolute_url()))
    assert banner in page
    assert result_rows(page)[1].startswith("2022 provisional demo ")


# --- languages ---------------------------------------------------------------------------


def test_grades_and_dimensions_are_named_in_the_active_language(
    dave: User, charlie: Zone, published: Cycle
) -> None:
    client = login(dave)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    page = html(client.get(charlie.get_absolute_url()))

    assert '<html lang="zh-hans">' in page
    with translation.override("zh-hans"):
        grade = str(Grade.STARTING.label)
        results = str(Dimension.RESULTS.label)
        rank_of = translation.gettext("%(rank)s of %(total)s") % {"rank": 3, "total": 3}
        title = translation.gettext("Rank of %(zone)s by year") % {"zone": "丙市"}
    assert result_rows(page) == [f"2021 {rank_of} 16.50 4 {grade}"]
    assert results.capitalize() in explanation(page)
    assert title in chart(page)


# --- queries -----------------------------------------------------------------------------


@pytest.fixture
def history(request, charlie: Zone, zones, published: Cycle, bob: User) -> Zone:
    """Charlie with as many earlier published cycles as asked, each with a decision taken."""
    earlier = request.param
    cycles = Cycle.objects.bulk_create(
        Cycle(
            year=2010 + n,
            cutoff=datetime.date(2009 + n, 12, 31),
            status=CycleStatus.PUBLISHED,
            is_demo=n % 2 == 0,
        )
        for n in range(earlier)
    )
    Evaluation.objects.bulk_create(
        Evaluation(
            cycle=cycle,
            zone=zone,
            status=EvaluationStatus.APPROVED,
            rank=rank,
            total=Decimal(90 - 20 * rank),
            grade=Grade(rank + 1),
        )
        for cycle in cycles
        for rank, zone in enumerate(zones.values(), start=1)
    )
    decided_at = datetime.datetime(2020, 4, 1, tzinfo=datetime.UTC)
    Decision.objects.bulk_create(
        Decision(
            cycle=cycle,
            zone=charlie,
            recommendation=Recommendation.WARN,
            outcome=Outcome.WARN,
            rationale=f"Weak in {cycle.year}.",
            decided_by=bob,
            decided_at=decided_at,
        )
        for cycle in cycles
    )
    return charlie


def queries_for_zone_page(user: User, zone: Zone) -> int:
    client = login(user)
    client.get(zone.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        response = client.get(zone.get_absolute_url())
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("history", [0], indirect=True)
def test_with_one_cycle_the_zone_page_reads_a_fixed_number_of_queries(
    history: Zone, dave: User
) -> None:
    # session, user, permissions (2), the zone, its history, its decisions, its evaluations with
    # the number ranked in each cycle, and the explanation against the bounds the cycle was
    # ranked with
    assert queries_for_zone_page(dave, history) == 12


@pytest.mark.parametrize("history", [7], indirect=True)
def test_with_eight_cycles_the_zone_page_reads_as_many_queries_as_with_one(
    history: Zone, dave: User
) -> None:
    page = html(login(dave).get(history.get_absolute_url()))
    assert len(result_rows(page)) == 8
    assert len(re.findall(r'<circle class="rank-chart__point', page)) == 8
    assert page.count("Decision after the evaluation of") == 7
    assert "Why rank 3 in 2021" in page

    assert queries_for_zone_page(dave, history) == 12


@pytest.mark.parametrize("history", [0, 7], indirect=True)
def test_an_approver_with_a_provisional_cycle_reads_a_fixed_number_of_queries(
    history: Zone, bob: User, under_way: Cycle
) -> None:
    # As a Viewer, and checking the provisional rank's scores are complete: the evaluation's
    # values and the cycle's indicators; the navigation's cycles with their decisions waiting;
    # the unread notifications.
    assert queries_for_zone_page(bob, history) == 15
