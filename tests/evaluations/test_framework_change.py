"""An indicator added to an open cycle sends its submitted and approved evaluations back to
their reviewers, and the admin says so before it saves: publication waits for the new
values instead of being blocked with no way out.

alice is an Administrator, bob an Approver, carol the Reviewer of every evaluation.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from evaluations.models import Cycle, CycleStatus, Evaluation, EvaluationStatus, Indicator
from evaluations.services import (
    EditConflict,
    ScoreInput,
    cycle_publish,
    evaluation_approve,
    evaluation_assign,
    evaluation_save,
    evaluation_submit,
    indicator_add,
)
from tests.factories import PASSWORD, score_all

NEW_INDICATOR = {
    "code": "X9",
    "name_zh": "新指标",
    "name_en": "A new indicator",
    "dimension": "results",
    "kind": "points",
    "weight": "1",
    "max_points": "10",
    "position": "99",
}


@pytest.fixture
def admin(alice: User) -> Client:
    client = Client()
    client.login(username="alice", password=PASSWORD)
    return client


@pytest.fixture
def approved(cycle: Cycle, alice: User, carol: User) -> Cycle:
    """Every evaluation of 2021 complete, reviewed by carol and approved."""
    evaluation_assign(evaluations=cycle.evaluations.all(), reviewer=carol, by=alice)
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    return cycle


def statuses(cycle: Cycle) -> set[str]:
    return set(cycle.evaluations.values_list("status", flat=True))


def test_the_add_page_says_what_adding_an_indicator_does_before_anything_is_posted(
    admin: Client, approved: Cycle
) -> None:
    page = admin.get(reverse("admin:evaluations_indicator_add")).content.decode()
    assert "returns every submitted or approved evaluation" in page


def test_adding_an_indicator_names_the_approved_evaluations_and_saves_nothing_unconfirmed(
    admin: Client, approved: Cycle
) -> None:
    response = admin.post(
        reverse("admin:evaluations_indicator_add"), {**NEW_INDICATOR, "cycle": approved.pk}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "3 evaluations of 2021 are submitted or approved" in page
    for zone in ["Alpha", "Bravo", "Charlie"]:
        assert zone in page
    assert not Indicator.objects.filter(code="X9").exists()
    assert statuses(approved) == {EvaluationStatus.APPROVED}


def test_a_confirmed_indicator_returns_them_and_publication_follows_their_new_approval(
    admin: Client, approved: Cycle, alice: User, bob: User, carol: User
) -> None:
    response = admin.post(
        reverse("admin:evaluations_indicator_add"),
        {**NEW_INDICATOR, "cycle": approved.pk, "confirm_return": "on"},
    )
    assert response.status_code == 302
    added = approved.indicators.get(code="X9")
    assert added.history.first().history_user == alice
    # Each evaluation is back with its reviewer, saying why.
    for evaluation in approved.evaluations.all():
        assert evaluation.status == EvaluationStatus.RETURNED
        assert "X9" in evaluation.return_reason
        assert evaluation.approved_by is None
    # Publication names what is missing...
    with pytest.raises(ValidationError, match="not approved"):
        cycle_publish(cycle=approved, by=alice)
    # ...and is reached again once carol enters the new value and bob approves.
    for evaluation in Evaluation.objects.filter(cycle=approved).select_related("cycle"):
        evaluation_save(
            evaluation=evaluation,
            by=carol,
            scores={added.pk: ScoreInput(Decimal("5"))},
            version=evaluation.version,
        )
        evaluation_submit(evaluation=evaluation, by=carol)
        evaluation_approve(evaluation=evaluation, by=bob)
    cycle_publish(cycle=approved, by=alice)
    approved.refresh_from_db()
    assert approved.status == CycleStatus.PUBLISHED


def test_submitted_evaluations_return_too_and_drafts_stay_as_they_are(
    approved: Cycle, alice: User
) -> None:
    approved.evaluations.filter(zone__name_en="Bravo").update(status=EvaluationStatus.SUBMITTED)
    approved.evaluations.filter(zone__name_en="Charlie").update(status=EvaluationStatus.DRAFT)
    returned = indicator_add(indicator=Indicator(cycle=approved, **NEW_INDICATOR), by=alice)
    assert sorted(e.zone.name_en for e in returned) == ["Alpha", "Bravo"]
    by_zone = dict(approved.evaluations.values_list("zone__name_en", "status"))
    assert by_zone == {
        "Alpha": EvaluationStatus.RETURNED,
        "Bravo": EvaluationStatus.RETURNED,
        "Charlie": EvaluationStatus.DRAFT,
    }


def test_a_page_loaded_before_the_change_can_no_longer_approve(
    approved: Cycle, alice: User, bob: User
) -> None:
    approved.evaluations.update(status=EvaluationStatus.SUBMITTED)
    evaluation = approved.evaluations.select_related("cycle").first()
    indicator_add(indicator=Indicator(cycle=approved, **NEW_INDICATOR), by=alice)
    with pytest.raises(EditConflict):
        evaluation_approve(evaluation=evaluation, by=bob, version=evaluation.version)
    assert Evaluation.objects.get(pk=evaluation.pk).status == EvaluationStatus.RETURNED


def test_an_indicator_is_not_added_to_a_cycle_in_review(approved: Cycle, alice: User) -> None:
    Cycle.objects.filter(pk=approved.pk).update(status=CycleStatus.IN_REVIEW)
    approved.refresh_from_db()
    with pytest.raises(ValidationError, match="in review"):
        indicator_add(indicator=Indicator(cycle=approved, **NEW_INDICATOR), by=alice)
    assert not Indicator.objects.filter(code="X9").exists()
    assert statuses(approved) == {EvaluationStatus.APPROVED}


def test_only_administrators_change_a_framework(approved: Cycle, bob: User) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        indicator_add(indicator=Indicator(cycle=approved, **NEW_INDICATOR), by=bob)
    assert statuses(approved) == {EvaluationStatus.APPROVED}


def test_the_cycles_inline_adds_no_indicator_once_evaluations_are_approved(
    admin: Client, approved: Cycle
) -> None:
    count = approved.indicators.count()
    data = {
        "year": "2021",
        "cutoff": "2020-12-31",
        "status": "open",
        "grade1_size": "10",
        "grade2_threshold": "75",
        "grade3_threshold": "60",
        "failing_grade": "4",
        "exit_after": "2",
        "exit_rule": "grade-run",
        "exit_within": "3",
        "exit_bottom": "5",
        "adjustment_cap": "10",
        "indicators-TOTAL_FORMS": str(count + 1),
        "indicators-INITIAL_FORMS": str(count),
    }
    for n, indicator in enumerate(approved.indicators.in_order()):
        data |= {
            f"indicators-{n}-id": str(indicator.pk),
            f"indicators-{n}-cycle": str(approved.pk),
            f"indicators-{n}-position": str(indicator.position),
            f"indicators-{n}-code": indicator.code,
            f"indicators-{n}-name_en": indicator.name_en,
            f"indicators-{n}-name_zh": indicator.name_zh,
            f"indicators-{n}-dimension": indicator.dimension,
            f"indicators-{n}-kind": indicator.kind,
            f"indicators-{n}-weight": str(indicator.weight),
        }
    data |= {f"indicators-{count}-{k}": v for k, v in NEW_INDICATOR.items()}
    admin.post(reverse("admin:evaluations_cycle_change", args=[approved.pk]), data)
    assert not Indicator.objects.filter(code="X9").exists()
    assert statuses(approved) == {EvaluationStatus.APPROVED}


def test_the_cycles_inline_adds_an_indicator_through_the_service_while_nothing_is_approved(
    admin: Client, cycle: Cycle, alice: User
) -> None:
    count = cycle.indicators.count()
    data = {
        "year": "2021",
        "cutoff": "2020-12-31",
        "status": "open",
        "grade1_size": "10",
        "grade2_threshold": "75",
        "grade3_threshold": "60",
        "failing_grade": "4",
        "exit_after": "2",
        "exit_rule": "grade-run",
        "exit_within": "3",
        "exit_bottom": "5",
        "adjustment_cap": "10",
        "indicators-TOTAL_FORMS": str(count + 1),
        "indicators-INITIAL_FORMS": str(count),
    }
    for n, indicator in enumerate(cycle.indicators.in_order()):
        data |= {
            f"indicators-{n}-id": str(indicator.pk),
            f"indicators-{n}-cycle": str(cycle.pk),
            f"indicators-{n}-position": str(indicator.position),
            f"indicators-{n}-code": indicator.code,
            f"indicators-{n}-name_en": indicator.name_en,
            f"indicators-{n}-name_zh": indicator.name_zh,
            f"indicators-{n}-dimension": indicator.dimension,
            f"indicators-{n}-kind": indicator.kind,
            f"indicators-{n}-weight": str(indicator.weight),
        }
    measure = {**NEW_INDICATOR, "kind": "measure"}
    data |= {f"indicators-{count}-{k}": v for k, v in measure.items() if k != "max_points"}
    response = admin.post(reverse("admin:evaluations_cycle_change", args=[cycle.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    added = cycle.indicators.get(code="X9")
    assert added.history.first().history_user == alice


# --- removing an indicator ------------------------------------------------------------------


def test_the_delete_page_lists_the_values_and_the_evaluations_that_return(
    admin: Client, approved: Cycle
) -> None:
    indicator = approved.indicators.get(code="P1")
    page = admin.get(reverse("admin:evaluations_indicator_delete", args=[indicator.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "3 values entered for it" in text
    assert "returns 3 submitted or approved evaluations to their reviewers" in text
    for zone in ["Alpha", "Bravo", "Charlie"]:
        assert zone in text
    assert approved.indicators.filter(code="P1").exists()


def test_removing_an_indicator_returns_the_evaluations_and_publication_follows(
    admin: Client, approved: Cycle, alice: User, bob: User, carol: User
) -> None:
    from evaluations.models import Score

    indicator = approved.indicators.get(code="P1")
    response = admin.post(
        reverse("admin:evaluations_indicator_delete", args=[indicator.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not approved.indicators.filter(code="P1").exists()
    assert not Score.objects.filter(indicator_id=indicator.pk).exists()
    removed = Score.history.filter(indicator_id=indicator.pk, history_type="-")
    assert {record.history_user for record in removed} == {alice}
    for evaluation in approved.evaluations.select_related("cycle"):
        assert evaluation.status == EvaluationStatus.RETURNED
        assert "P1" in evaluation.return_reason
        evaluation_submit(evaluation=evaluation, by=carol)
        evaluation_approve(evaluation=evaluation, by=bob)
    cycle_publish(cycle=approved, by=alice)


def test_an_indicator_of_a_cycle_in_review_is_not_removed(admin: Client, approved: Cycle) -> None:
    Cycle.objects.filter(pk=approved.pk).update(status=CycleStatus.IN_REVIEW)
    indicator = approved.indicators.get(code="P1")
    response = admin.post(
        reverse("admin:evaluations_indicator_delete", args=[indicator.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert approved.indicators.filter(code="P1").exists()
    assert statuses(approved) == {EvaluationStatus.APPROVED}


def test_only_administrators_remove_an_indicator(approved: Cycle, bob: User) -> None:
    from django.core.exceptions import PermissionDenied

    from evaluations.services import indicator_remove

    with pytest.raises(PermissionDenied):
        indicator_remove(indicator=approved.indicators.get(code="P1"), by=bob)
    assert approved.indicators.filter(code="P1").exists()
