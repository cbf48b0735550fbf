"""Many evaluations at once: the bulk services (no HTTP) and the "and next" selector.

carol and erin are Reviewers, bob an Approver, alice an Administrator. The cycle of 2021 is
open with Alpha, Bravo and Charlie.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from evaluations.models import Cycle, Evaluation, EvaluationStatus
from evaluations.selectors import NextTask, next_evaluation_for
from evaluations.services import (
    ScoreInput,
    evaluation_assign,
    evaluation_save,
    evaluation_submit,
    evaluations_approve_many,
    evaluations_assign_many,
    evaluations_return_many,
)
from tests.evaluations.test_views import COMPLETE, with_roles
from zonetracker.permissions import REVIEWER

FOUR_EYES = "You cannot approve an evaluation you entered or edited."


def evaluation_of(cycle: Cycle, zone: str) -> Evaluation:
    return Evaluation.objects.select_related("cycle", "zone").get(cycle=cycle, zone__name_en=zone)


def assign(cycle: Cycle, zone: str, reviewer: User, by: User) -> Evaluation:
    evaluation_assign(
        evaluations=Evaluation.objects.filter(cycle=cycle, zone__name_en=zone),
        reviewer=reviewer,
        by=by,
    )
    return evaluation_of(cycle, zone)


def submit(cycle: Cycle, zone: str, reviewer: User, by: User) -> Evaluation:
    """``zone``'s evaluation, assigned to ``reviewer`` (by ``by``), completed and submitted."""
    evaluation = assign(cycle, zone, reviewer, by)
    scores = {
        indicator.pk: ScoreInput(Decimal(COMPLETE[indicator.code]))
        for indicator in cycle.indicators.all()
    }
    evaluation_save(evaluation=evaluation, by=reviewer, scores=scores, version=evaluation.version)
    evaluation_submit(evaluation=evaluation, by=reviewer)
    return evaluation_of(cycle, zone)


def statuses(cycle: Cycle) -> dict[str, str]:
    return dict(cycle.evaluations.values_list("zone__name_en", "status"))


@pytest.fixture
def bob_reviews(bob: User) -> User:
    """bob, an Approver who is also a Reviewer (so four eyes can bind him)."""
    return with_roles(bob, REVIEWER)


@pytest.fixture
def awaiting(cycle: Cycle, alice: User, carol: User, erin: User, bob_reviews: User) -> Cycle:
    """Alpha submitted by carol, Bravo by bob, Charlie by erin."""
    submit(cycle, "Alpha", carol, alice)
    submit(cycle, "Bravo", bob_reviews, alice)
    submit(cycle, "Charlie", erin, alice)
    return cycle


# --- approve ------------------------------------------------------------------------------


def test_bulk_approval_approves_each_it_may_and_lists_the_one_refused_for_four_eyes(
    awaiting: Cycle, bob_reviews: User
) -> None:
    outcome = evaluations_approve_many(evaluations=awaiting.evaluations.all(), by=bob_reviews)

    assert [e.zone.name_en for e in outcome.done] == ["Alpha", "Charlie"]
    assert [(r.evaluation.zone.name_en, r.reason) for r in outcome.refused] == [
        ("Bravo", FOUR_EYES)
    ]
    assert statuses(awaiting) == {
        "Alpha": EvaluationStatus.APPROVED,
        "Bravo": EvaluationStatus.SUBMITTED,
        "Charlie": EvaluationStatus.APPROVED,
    }
    assert evaluation_of(awaiting, "Alpha").approved_by == bob_reviews


def test_bulk_approval_refuses_an_evaluation_that_is_not_submitted_and_says_why(
    cycle: Cycle, alice: User, bob: User, carol: User
) -> None:
    submit(cycle, "Alpha", carol, alice)

    outcome = evaluations_approve_many(evaluations=cycle.evaluations.all(), by=bob)

    assert [e.zone.name_en for e in outcome.done] == ["Alpha"]
    assert [(r.evaluation.zone.name_en, r.reason) for r in outcome.refused] == [
        ("Bravo", "Only a submitted evaluation can be approved."),
        ("Charlie", "Only a submitted evaluation can be approved."),
    ]


@pytest.mark.parametrize("who", ["carol", "alice"])
def test_someone_who_is_no_approver_is_refused_bulk_approval_and_nothing_changes(
    awaiting: Cycle, who: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        evaluations_approve_many(evaluations=awaiting.evaluations.all(), by=user)

    assert set(statuses(awaiting).values()) == {EvaluationStatus.SUBMITTED}


# --- return -------------------------------------------------------------------------------


def test_bulk_return_sends_each_back_with_the_one_reason(awaiting: Cycle, bob: User) -> None:
    outcome = evaluations_return_many(
        evaluations=awaiting.evaluations.exclude(zone__name_en="Bravo"),
        by=bob,
        reason="Sources missing for R1.",
    )

    assert [e.zone.name_en for e in outcome.done] == ["Alpha", "Charlie"]
    assert outcome.refused == []
    assert statuses(awaiting)["Alpha"] == EvaluationStatus.RETURNED
    assert evaluation_of(awaiting, "Charlie").return_reason == "Sources missing for R1."
    assert statuses(awaiting)["Bravo"] == EvaluationStatus.SUBMITTED


def test_bulk_return_without_a_reason_changes_nothing(awaiting: Cycle, bob: User) -> None:
    with pytest.raises(ValidationError):
        evaluations_return_many(evaluations=awaiting.evaluations.all(), by=bob, reason="  ")

    assert set(statuses(awaiting).values()) == {EvaluationStatus.SUBMITTED}


def test_bulk_return_lists_an_evaluation_that_is_not_submitted(
    awaiting: Cycle, bob_reviews: User
) -> None:
    evaluations_approve_many(
        evaluations=awaiting.evaluations.filter(zone__name_en="Alpha"), by=bob_reviews
    )

    outcome = evaluations_return_many(
        evaluations=awaiting.evaluations.all(), by=bob_reviews, reason="Check R2."
    )

    assert [(r.evaluation.zone.name_en, r.reason) for r in outcome.refused] == [
        ("Alpha", "Only a submitted evaluation can be returned.")
    ]
    assert statuses(awaiting)["Alpha"] == EvaluationStatus.APPROVED


def test_a_reviewer_is_refused_bulk_return(awaiting: Cycle, carol: User) -> None:
    with pytest.raises(PermissionDenied):
        evaluations_return_many(evaluations=awaiting.evaluations.all(), by=carol, reason="No.")

    assert set(statuses(awaiting).values()) == {EvaluationStatus.SUBMITTED}


# --- assign -------------------------------------------------------------------------------


def test_an_administrator_assigns_many_to_one_reviewer(
    cycle: Cycle, alice: User, erin: User
) -> None:
    outcome = evaluations_assign_many(evaluations=cycle.evaluations.all(), reviewer=erin, by=alice)

    assert len(outcome.done) == 3
    assert set(cycle.evaluations.values_list("reviewer__username", flat=True)) == {"erin"}


def test_an_approver_may_not_assign_and_nothing_changes(
    cycle: Cycle, bob: User, erin: User
) -> None:
    with pytest.raises(PermissionDenied):
        evaluations_assign_many(evaluations=cycle.evaluations.all(), reviewer=erin, by=bob)

    assert not cycle.evaluations.filter(reviewer__isnull=False).exists()


def test_assigning_to_someone_who_is_no_reviewer_changes_nothing(
    cycle: Cycle, alice: User, bob: User
) -> None:
    with pytest.raises(ValidationError):
        evaluations_assign_many(evaluations=cycle.evaluations.all(), reviewer=bob, by=alice)

    assert not cycle.evaluations.filter(reviewer__isnull=False).exists()


# --- the next task ------------------------------------------------------------------------


def test_the_next_to_approve_follows_the_queue_skips_four_eyes_and_wraps_around(
    awaiting: Cycle, bob_reviews: User
) -> None:
    alpha, charlie = evaluation_of(awaiting, "Alpha"), evaluation_of(awaiting, "Charlie")

    assert next_evaluation_for(bob_reviews, after=alpha) == charlie
    # Bravo is bob's own work; after Charlie the queue starts again from the top.
    assert next_evaluation_for(bob_reviews, after=charlie) == alpha


def test_nothing_is_next_when_no_other_evaluation_awaits_approval(
    cycle: Cycle, alice: User, bob: User, carol: User
) -> None:
    alpha = submit(cycle, "Alpha", carol, alice)

    assert next_evaluation_for(bob, after=alpha) is None


def test_the_next_to_enter_is_the_reviewers_next_draft_or_returned_evaluation(
    cycle: Cycle, alice: User, carol: User, erin: User
) -> None:
    alpha = assign(cycle, "Alpha", carol, alice)
    assign(cycle, "Bravo", erin, alice)
    charlie = submit(cycle, "Charlie", carol, alice)
    assign(cycle, "Charlie", carol, alice)

    # Bravo is erin's, Charlie is submitted: nothing else waits for carol.
    assert next_evaluation_for(carol, after=alpha, task=NextTask.ENTER) is None
    assert next_evaluation_for(carol, after=charlie, task=NextTask.ENTER) == alpha
