"""Nothing of a published cycle changes, by any path: admin forms, inlines, bulk actions,
commands and services. Each test makes a request that would change something and finds
everything as it was.

alice is an Administrator (and, where said, a superuser); the cycle of 2021 is published.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from evaluations.models import Cycle, CycleStatus, Decision, Evaluation, Indicator, Score
from evaluations.services import (
    ScoreInput,
    cycle_publish,
    evaluation_assign,
    evaluation_return,
    indicator_add,
    rankings_compute,
    scores_write,
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
    "confirm_return": "on",
}


def snapshot() -> tuple[Any, ...]:
    """Every row and history record of the cycles, frameworks, evaluations and scores."""
    return (
        list(Cycle.objects.order_by("pk").values()),
        list(Indicator.objects.order_by("pk").values()),
        list(Evaluation.objects.order_by("pk").values()),
        list(Score.objects.order_by("pk").values()),
        list(Decision.objects.order_by("pk").values()),
        Cycle.history.count(),
        Indicator.history.count(),
        Evaluation.history.count(),
        Score.history.count(),
    )


@pytest.fixture
def published(cycle: Cycle, alice: User) -> Cycle:
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle, by=alice)
    cycle.refresh_from_db()
    assert cycle.is_frozen
    return cycle


@pytest.fixture
def admin(alice: User) -> Client:
    client = Client()
    client.login(username="alice", password=PASSWORD)
    return client


@pytest.fixture(params=["administrator", "superuser"])
def someone(request, alice: User) -> Client:
    """An Administrator, and a superuser (who passes every permission check Django has)."""
    if request.param == "superuser":
        alice.is_superuser = True
        alice.save()
    client = Client()
    client.login(username="alice", password=PASSWORD)
    return client


def assert_unchanged(before: tuple[Any, ...]) -> None:
    assert snapshot() == before


# --- indicators ---------------------------------------------------------------------------


def test_indicators_add_does_not_offer_a_published_cycle(admin: Client, published: Cycle) -> None:
    page = admin.get(reverse("admin:evaluations_indicator_add")).content.decode()
    assert f'<option value="{published.pk}"' not in page


def test_indicators_add_refuses_a_posted_published_cycle(someone: Client, published: Cycle) -> None:
    before = snapshot()
    response = someone.post(
        reverse("admin:evaluations_indicator_add"), {**NEW_INDICATOR, "cycle": published.pk}
    )
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert_unchanged(before)


def test_a_published_cycles_indicator_cannot_be_changed_or_deleted(
    someone: Client, published: Cycle
) -> None:
    indicator = published.indicators.get(code="P1")
    before = snapshot()
    change = someone.post(
        reverse("admin:evaluations_indicator_change", args=[indicator.pk]),
        {**NEW_INDICATOR, "code": "P1", "weight": "50"},
    )
    delete = someone.post(
        reverse("admin:evaluations_indicator_delete", args=[indicator.pk]), {"post": "yes"}
    )
    assert (change.status_code, delete.status_code) == (403, 403)
    assert_unchanged(before)


def test_no_bulk_action_on_indicators_touches_a_published_cycle(
    someone: Client, published: Cycle
) -> None:
    ids = list(published.indicators.values_list("pk", flat=True))
    before = snapshot()
    someone.post(
        reverse("admin:evaluations_indicator_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert_unchanged(before)


def test_the_model_and_the_service_refuse_an_indicator_of_a_published_cycle(
    published: Cycle, alice: User
) -> None:
    before = snapshot()
    indicator = Indicator(
        cycle=published, **{k: v for k, v in NEW_INDICATOR.items() if k != "confirm_return"}
    )
    with pytest.raises(ValidationError, match="published"):
        indicator_add(indicator=indicator, by=alice)
    existing = published.indicators.get(code="P1")
    existing.weight = Decimal(50)
    with pytest.raises(ValidationError, match="published"):
        existing.full_clean()
    assert_unchanged(before)


# --- the cycle: policy, inline framework, actions ------------------------------------------


def test_a_published_cycles_policy_cannot_be_changed(someone: Client, published: Cycle) -> None:
    before = snapshot()
    response = someone.post(
        reverse("admin:evaluations_cycle_change", args=[published.pk]),
        {
            "year": "2021",
            "cutoff": "2020-12-31",
            "status": "open",
            "grade1_size": "1",
            "grade2_threshold": "10",
            "grade3_threshold": "5",
            "failing_grade": "1",
            "exit_after": "1",
            "indicators-TOTAL_FORMS": "1",
            "indicators-INITIAL_FORMS": "0",
            "indicators-0-code": "X9",
            "indicators-0-name_en": "A new indicator",
            "indicators-0-name_zh": "新指标",
            "indicators-0-dimension": "results",
            "indicators-0-kind": "points",
            "indicators-0-weight": "1",
            "indicators-0-position": "99",
        },
    )
    assert response.status_code == 403
    assert_unchanged(before)


def test_a_published_cycle_can_still_be_read_in_the_admin(admin: Client, published: Cycle) -> None:
    response = admin.get(reverse("admin:evaluations_cycle_change", args=[published.pk]))
    assert response.status_code == 200
    assert 'name="grade1_size"' not in response.content.decode()


def test_a_published_cycle_cannot_be_deleted_or_published_again(
    someone: Client, published: Cycle
) -> None:
    before = snapshot()
    delete = someone.post(
        reverse("admin:evaluations_cycle_delete", args=[published.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    someone.post(
        reverse("admin:evaluations_cycle_changelist"),
        {"action": "publish", "_selected_action": [published.pk]},
    )
    someone.post(
        reverse("admin:evaluations_cycle_changelist"),
        {"action": "delete_selected", "_selected_action": [published.pk], "post": "yes"},
    )
    assert_unchanged(before)


def test_the_cycle_model_refuses_a_change_to_a_published_cycle(published: Cycle) -> None:
    published.grade1_size = 1
    with pytest.raises(ValidationError, match="published"):
        published.full_clean()


# --- evaluations and scores ---------------------------------------------------------------


def test_a_published_cycles_evaluation_cannot_be_changed_deleted_or_reassigned(
    someone: Client, published: Cycle, carol: User
) -> None:
    evaluation = published.evaluations.first()
    before = snapshot()
    change = someone.post(
        reverse("admin:evaluations_evaluation_change", args=[evaluation.pk]),
        {"reviewer": carol.pk, "scores-TOTAL_FORMS": "0", "scores-INITIAL_FORMS": "0"},
    )
    delete = someone.post(
        reverse("admin:evaluations_evaluation_delete", args=[evaluation.pk]), {"post": "yes"}
    )
    assert (change.status_code, delete.status_code) == (403, 403)
    changelist = reverse("admin:evaluations_evaluation_changelist")
    ids = list(published.evaluations.values_list("pk", flat=True))
    someone.post(
        changelist,
        {
            "action": "assign_to_reviewer",
            "_selected_action": ids,
            "reviewer": carol.pk,
            "apply": "1",
        },
    )
    someone.post(changelist, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert_unchanged(before)


def test_a_published_cycles_scores_cannot_be_changed_or_deleted(
    someone: Client, published: Cycle
) -> None:
    score = Score.objects.filter(evaluation__cycle=published).first()
    before = snapshot()
    change = someone.post(
        reverse("admin:evaluations_score_change", args=[score.pk]), {"value": "1"}
    )
    delete = someone.post(
        reverse("admin:evaluations_score_delete", args=[score.pk]), {"post": "yes"}
    )
    add = someone.post(
        reverse("admin:evaluations_score_add"),
        {"evaluation": score.evaluation_id, "indicator": score.indicator_id, "value": "1"},
    )
    assert (change.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    someone.post(
        reverse("admin:evaluations_score_changelist"),
        {"action": "delete_selected", "_selected_action": [score.pk], "post": "yes"},
    )
    assert_unchanged(before)


def test_the_services_refuse_to_change_a_published_cycle(
    published: Cycle, alice: User, bob: User, carol: User
) -> None:
    evaluation = published.evaluations.first()
    before = snapshot()
    with pytest.raises(ValidationError):
        evaluation_assign(evaluations=published.evaluations.all(), reviewer=carol, by=alice)
    with pytest.raises(ValidationError):
        rankings_compute(cycle=published, by=alice)
    with pytest.raises(ValidationError):
        cycle_publish(cycle=published, by=alice)
    with pytest.raises((PermissionDenied, ValidationError)):
        evaluation_return(evaluation=evaluation, by=bob, reason="again")
    assert_unchanged(before)


def test_the_score_writer_refuses_a_published_cycle(published: Cycle, alice: User) -> None:
    evaluation = published.evaluations.first()
    indicator = published.indicators.get(code="P1")
    before = snapshot()
    with pytest.raises((PermissionDenied, ValidationError)):
        scores_write(
            evaluation=evaluation,
            by=alice,
            scores={indicator.pk: ScoreInput(Decimal("1"))},
            version=evaluation.version,
        )
    assert_unchanged(before)


# --- commands -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["open_cycle", "2021"],
        ["compute_rankings", "2021"],
        ["publish_cycle", "2021"],
        ["import_scores", "2021", "SCORES"],
    ],
)
def test_no_command_changes_a_published_cycle(
    published: Cycle, tmp_path: Path, command: list[str]
) -> None:
    scores = tmp_path / "scores.csv"
    scores.write_text("zone,indicator,value\nAlpha,P1,1\n", encoding="utf-8")
    arguments = [str(scores) if part == "SCORES" else part for part in command]
    before = snapshot()
    with pytest.raises(CommandError):
        call_command(*arguments, stdout=io.StringIO())
    assert_unchanged(before)


def test_a_cycle_that_is_not_published_is_not_frozen(cycle: Cycle) -> None:
    assert not cycle.is_frozen
    assert cycle.status == CycleStatus.OPEN
