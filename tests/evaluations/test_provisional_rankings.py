"""Provisional rankings stay current: every change of a value, a status, the framework or the
policy computes them again, without anybody running compute_rankings.

The cycle of 2021 has three evaluations (Alpha, Bravo, Charlie). Bravo and Charlie are
complete and ranked; Alpha has no value yet and is not ranked, until carol enters them.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse

from evaluations.models import Cycle, CycleStatus, Evaluation, EvaluationStatus, Score
from evaluations.services import (
    ScoreInput,
    evaluation_approve,
    evaluation_assign,
    evaluation_return,
    evaluation_save,
    evaluation_submit,
    indicator_remove,
    rankings_compute,
)
from tests.factories import score_all

# A value for each indicator of the default framework, better than Bravo's and Charlie's.
BEST = {
    **dict.fromkeys(["P1", "P2", "P3", "S1", "S2", "S3", "S4", "S5", "S6", "T1", "T2"], "10"),
    "R1": "101",
    "R2": "101",
    "R3": "101",
    "R4": "101",
    "R5": "101",
}


def ranks(cycle: Cycle) -> dict[str, int | None]:
    return dict(cycle.evaluations.values_list("zone__name_en", "rank"))


def inputs(evaluation: Evaluation, values: dict[str, str]) -> dict[int, ScoreInput]:
    return {
        indicator.pk: ScoreInput(Decimal(values[indicator.code]))
        for indicator in evaluation.cycle.indicators.all()
        if indicator.code in values
    }


def fresh(evaluation: Evaluation) -> Evaluation:
    return Evaluation.objects.select_related("cycle").get(pk=evaluation.pk)


@pytest.fixture
def ranked_cycle(cycle: Cycle) -> Cycle:
    """Bravo and Charlie scored and ranked, Alpha empty: a draft not ranked. Grade 1 is the
    first place only."""
    cycle.grade1_size = 1
    cycle.save()
    score_all(cycle, {"Alpha": 0, "Bravo": 7, "Charlie": 3}, status=EvaluationStatus.DRAFT)
    Score.objects.filter(evaluation__zone__name_en="Alpha").delete()
    rankings_compute(cycle=cycle)
    assert ranks(cycle) == {"Alpha": None, "Bravo": 1, "Charlie": 2}
    return cycle


@pytest.fixture
def alpha(ranked_cycle: Cycle, alice: User, carol: User) -> Evaluation:
    evaluation_assign(
        evaluations=ranked_cycle.evaluations.filter(zone__name_en="Alpha"), reviewer=carol, by=alice
    )
    return fresh(ranked_cycle.evaluations.get(zone__name_en="Alpha"))


def test_a_submission_ranks_the_zone_at_once(
    alpha: Evaluation, carol: User, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_save(
            evaluation=alpha, by=carol, scores=inputs(alpha, BEST), version=alpha.version
        )
        evaluation_submit(evaluation=alpha, by=carol)

    assert ranks(alpha.cycle) == {"Alpha": 1, "Bravo": 2, "Charlie": 3}
    assert Cycle.objects.get(pk=alpha.cycle_id).ranked_at is not None


def test_export_rankings_right_after_a_submission_gives_the_current_ranks(
    alpha: Evaluation, carol: User, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_save(
            evaluation=alpha, by=carol, scores=inputs(alpha, BEST), version=alpha.version
        )
        evaluation_submit(evaluation=alpha, by=carol)
    out = io.StringIO()
    call_command("export_rankings", "2021", stdout=out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(row["rank"], row["zone"]) for row in rows] == [
        ("1", "Alpha"),
        ("2", "Bravo"),
        ("3", "Charlie"),
    ]


def test_clearing_a_value_in_a_draft_takes_the_zone_out_of_the_ranks(
    ranked_cycle: Cycle, alice: User, django_capture_on_commit_callbacks
) -> None:
    bravo = fresh(ranked_cycle.evaluations.get(zone__name_en="Bravo"))
    p1 = ranked_cycle.indicators.get(code="P1")
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_save(
            evaluation=bravo, by=alice, scores={p1.pk: ScoreInput(None)}, version=bravo.version
        )

    assert ranks(ranked_cycle) == {"Alpha": None, "Bravo": None, "Charlie": 1}


@pytest.mark.parametrize("change", ["approve", "return"])
def test_a_status_change_computes_the_ranks_again(
    alpha: Evaluation,
    carol: User,
    bob: User,
    change: str,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_save(
            evaluation=alpha, by=carol, scores=inputs(alpha, BEST), version=alpha.version
        )
        evaluation_submit(evaluation=alpha, by=carol)
    # Made stale on purpose: the approval or return must compute them again.
    alpha.cycle.evaluations.update(total=None, rank=None, grade=None)
    assert ranks(alpha.cycle)["Alpha"] is None
    with django_capture_on_commit_callbacks(execute=True):
        if change == "approve":
            evaluation_approve(evaluation=fresh(alpha), by=bob)
        else:
            evaluation_return(evaluation=fresh(alpha), by=bob, reason="Check R1.")

    assert ranks(alpha.cycle)["Alpha"] == 1


def test_removing_the_indicator_a_zone_lacks_ranks_it(
    ranked_cycle: Cycle, django_capture_on_commit_callbacks
) -> None:
    Score.objects.filter(evaluation__zone__name_en="Bravo", indicator__code="P1").delete()
    with django_capture_on_commit_callbacks(execute=True):
        indicator_remove(indicator=ranked_cycle.indicators.get(code="P1"), by=None)

    assert ranks(ranked_cycle) == {"Alpha": None, "Bravo": 1, "Charlie": 2}


def test_a_policy_saved_in_the_admin_grades_the_cycle_again(
    ranked_cycle: Cycle, alice: User, django_capture_on_commit_callbacks
) -> None:
    assert dict(ranked_cycle.evaluations.values_list("zone__name_en", "grade"))["Charlie"] != 1
    request = RequestFactory().post("/")
    request.user = alice
    ranked_cycle.grade1_size = 3
    with django_capture_on_commit_callbacks(execute=True):
        site._registry[Cycle].save_model(request, ranked_cycle, form=None, change=True)

    grades = dict(ranked_cycle.evaluations.values_list("zone__name_en", "grade"))
    assert (grades["Bravo"], grades["Charlie"]) == (1, 1)


def test_many_changes_in_one_transaction_compute_the_ranks_once(
    ranked_cycle: Cycle, alice: User, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        for evaluation in ranked_cycle.evaluations.all():
            evaluation_save(
                evaluation=fresh(evaluation),
                by=alice,
                scores=inputs(evaluation, BEST),
                version=evaluation.version,
            )

    assert len(callbacks) == 1


def test_a_published_cycle_is_not_computed_again(
    cycle: Cycle, django_capture_on_commit_callbacks
) -> None:
    from evaluations.services import rankings_refresh

    cycle.status = CycleStatus.PUBLISHED
    with django_capture_on_commit_callbacks() as callbacks:
        rankings_refresh(cycle)

    assert callbacks == []


def test_the_rankings_page_shows_a_submission_at_once_and_says_what_provisional_means(
    alpha: Evaluation, carol: User, bob: User, django_capture_on_commit_callbacks
) -> None:
    reviewer = Client()
    reviewer.force_login(carol)
    data = {"version": str(alpha.version)}
    for indicator in alpha.cycle.indicators.all():
        data[f"value_{indicator.pk}"] = BEST[indicator.code]
        data[f"note_{indicator.pk}"] = ""
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer.post(
            reverse("evaluations:evaluation_submit", kwargs={"pk": alpha.pk}), data
        )
    assert response.status_code == 302

    approver = Client()
    approver.force_login(bob)
    page = approver.get(reverse("evaluations:cycle_rankings", args=[2021])).content.decode()
    table = page[: page.find("unranked-heading")] if "unranked-heading" in page else page
    assert table.find("Alpha") < table.find("Bravo") < table.find("Charlie")
    assert "Not ranked: a score is missing" not in page
    assert "computed again whenever a value" in page
    assert "Last computed <time datetime=" in page


def test_a_weight_changed_in_the_admin_totals_the_cycle_again(
    ranked_cycle: Cycle, alice: User, django_capture_on_commit_callbacks
) -> None:
    from evaluations.models import Indicator

    before = dict(ranked_cycle.evaluations.values_list("zone__name_en", "total"))
    request = RequestFactory().post("/")
    request.user = alice
    r1 = ranked_cycle.indicators.get(code="R1")
    r1.weight *= 10
    with django_capture_on_commit_callbacks(execute=True):
        site._registry[Indicator].save_model(request, r1, form=None, change=True)

    after = dict(ranked_cycle.evaluations.values_list("zone__name_en", "total"))
    assert after["Charlie"] != before["Charlie"]
