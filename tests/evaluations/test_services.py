"""Opening cycles, entering scores, submitting, approving and returning, without HTTP."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from evaluations.models import Cycle, Evaluation, EvaluationStatus, Indicator, Score
from evaluations.services import (
    EditConflict,
    ScoreInput,
    cycle_open,
    evaluation_approve,
    evaluation_assign,
    evaluation_return,
    evaluation_save,
    evaluation_submit,
)
from registry.models import ZoneStatus


def full_scores(evaluation: Evaluation, value: str = "8") -> dict[int, ScoreInput]:
    scores = {}
    for indicator in evaluation.cycle.indicators.all():
        raw = Decimal(value)
        if indicator.highest is not None and raw > indicator.highest:
            raw = indicator.highest
        scores[indicator.pk] = ScoreInput(raw)
    return scores


@pytest.fixture
def assigned(cycle, alice, carol):
    evaluation = cycle.evaluations.get(zone__name_en="Alpha")
    evaluation_assign(
        evaluations=Evaluation.objects.filter(pk=evaluation.pk), reviewer=carol, by=alice
    )
    evaluation.refresh_from_db()
    return evaluation


@pytest.fixture
def submitted(assigned, carol):
    evaluation_save(
        evaluation=assigned, by=carol, scores=full_scores(assigned), version=assigned.version
    )
    return evaluation_submit(evaluation=assigned, by=carol)


# --- opening a cycle ---------------------------------------------------------------------


def test_opening_a_cycle_evaluates_zones_approved_by_the_cutoff(cycle):
    assert cycle.cutoff == datetime.date(2020, 12, 31)
    names = set(cycle.evaluations.values_list("zone__name_en", flat=True))
    assert names == {"Alpha", "Bravo", "Charlie"}


def test_opening_a_cycle_copies_the_default_framework(cycle):
    assert cycle.indicators.count() == Indicator.objects.default_framework().count() == 16
    assert sum(i.weight for i in cycle.indicators.all()) == Decimal(100)


def test_a_later_cutoff_takes_in_later_zones(framework, zones):
    cycle = cycle_open(year=2021, cutoff=datetime.date(2021, 12, 31))
    assert cycle.evaluations.count() == 4


def test_exited_zones_are_not_evaluated(framework, zones):
    zones[0].status = ZoneStatus.EXITED
    zones[0].save()
    cycle = cycle_open(year=2021)
    assert "Alpha" not in set(cycle.evaluations.values_list("zone__name_en", flat=True))


def test_opening_the_same_year_twice_is_an_error_that_changes_nothing(cycle):
    before = (Cycle.objects.count(), Evaluation.objects.count(), Indicator.objects.count())
    with pytest.raises(ValidationError, match="already exists"):
        cycle_open(year=2021)
    assert (Cycle.objects.count(), Evaluation.objects.count(), Indicator.objects.count()) == before


def test_a_new_cycle_copies_the_previous_cycles_framework_and_policy(cycle):
    indicator = cycle.indicators.get(code="R1")
    indicator.weight = Decimal("30")
    indicator.save()
    cycle.grade1_size = 5
    cycle.save()
    later = cycle_open(year=2022)
    assert later.indicators.get(code="R1").weight == Decimal("30")
    assert later.grade1_size == 5
    assert Indicator.objects.default_framework().get(code="R1").weight == Decimal("20")


def test_opening_without_any_framework_is_refused(zones):
    with pytest.raises(ValidationError, match="framework"):
        cycle_open(year=2021)
    assert not Cycle.objects.exists()


def test_only_administrators_open_cycles(framework, zones, bob):
    with pytest.raises(PermissionDenied):
        cycle_open(year=2021, by=bob)


# --- assignment --------------------------------------------------------------------------


def test_administrators_assign_many_evaluations_at_once(cycle, alice, carol):
    count = evaluation_assign(evaluations=cycle.evaluations.all(), reviewer=carol, by=alice)
    assert count == 3
    assert set(cycle.evaluations.values_list("reviewer__username", flat=True)) == {"carol"}


def test_only_reviewers_can_be_assigned(cycle, alice, dave):
    with pytest.raises(ValidationError, match="not a reviewer"):
        evaluation_assign(evaluations=cycle.evaluations.all(), reviewer=dave, by=alice)
    assert not cycle.evaluations.filter(reviewer__isnull=False).exists()


def test_approvers_cannot_assign(cycle, bob, carol):
    with pytest.raises(PermissionDenied):
        evaluation_assign(evaluations=cycle.evaluations.all(), reviewer=carol, by=bob)


# --- entry -------------------------------------------------------------------------------


def test_the_assigned_reviewer_saves_a_draft_with_empty_values(assigned, carol):
    p1 = assigned.cycle.indicators.get(code="P1")
    evaluation_save(
        evaluation=assigned,
        by=carol,
        scores={p1.pk: ScoreInput(Decimal("7"), "plan half done")},
        version=assigned.version,
    )
    score = Score.objects.get(evaluation=assigned, indicator=p1)
    assert (score.value, score.note, score.entered_by) == (Decimal("7"), "plan half done", carol)
    assert assigned.status == EvaluationStatus.DRAFT


def test_an_out_of_range_value_is_refused_and_nothing_is_saved(assigned, carol):
    p1 = assigned.cycle.indicators.get(code="P1")
    p2 = assigned.cycle.indicators.get(code="P2")
    with pytest.raises(ValidationError) as caught:
        evaluation_save(
            evaluation=assigned,
            by=carol,
            scores={p1.pk: ScoreInput(Decimal("11")), p2.pk: ScoreInput(Decimal("5"))},
            version=assigned.version,
        )
    assert "above the highest valid value" in str(caught.value.message_dict["P1"])
    assert not Score.objects.exists()


def test_a_log_scale_measure_must_be_above_zero(assigned, carol):
    r1 = assigned.cycle.indicators.get(code="R1")
    r1.min_value = None
    r1.save()
    with pytest.raises(ValidationError, match="log scale"):
        evaluation_save(
            evaluation=assigned,
            by=carol,
            scores={r1.pk: ScoreInput(Decimal("0"))},
            version=assigned.version,
        )


def test_another_reviewer_cannot_edit_an_evaluation_not_assigned_to_them(assigned, erin):
    with pytest.raises(PermissionDenied):
        evaluation_save(
            evaluation=assigned, by=erin, scores=full_scores(assigned), version=assigned.version
        )


def test_a_second_save_from_a_stale_version_is_refused_with_the_changes(assigned, carol, alice):
    p1 = assigned.cycle.indicators.get(code="P1")
    loaded = assigned.version
    stale_copy = Evaluation.objects.get(pk=assigned.pk)
    evaluation_save(
        evaluation=assigned, by=alice, scores={p1.pk: ScoreInput(Decimal("9"))}, version=loaded
    )
    with pytest.raises(EditConflict) as caught:
        evaluation_save(
            evaluation=stale_copy,
            by=carol,
            scores={p1.pk: ScoreInput(Decimal("3"))},
            version=loaded,
        )
    changes = caught.value.changes
    assert [(c.indicator.code, c.value, c.changed_by) for c in changes] == [
        ("P1", Decimal("9"), "alice")
    ]
    assert Score.objects.get(indicator=p1, evaluation=assigned).value == Decimal("9")


def test_every_save_is_in_the_history_with_who_made_it(assigned, carol):
    p1 = assigned.cycle.indicators.get(code="P1")
    for value in ("4", "6"):
        evaluation_save(
            evaluation=assigned,
            by=carol,
            scores={p1.pk: ScoreInput(Decimal(value))},
            version=assigned.version,
        )
    history = Score.history.filter(evaluation_id=assigned.pk).order_by("history_date")
    assert [(h.value, h.history_user) for h in history] == [
        (Decimal("4"), carol),
        (Decimal("6"), carol),
    ]


# --- submit, approve, return -------------------------------------------------------------


def test_submitting_needs_every_score(assigned, carol):
    with pytest.raises(ValidationError, match="missing"):
        evaluation_submit(evaluation=assigned, by=carol)
    assigned.refresh_from_db()
    assert assigned.status == EvaluationStatus.DRAFT


def test_a_complete_evaluation_is_submitted(submitted, carol):
    submitted.refresh_from_db()
    assert submitted.status == EvaluationStatus.SUBMITTED
    assert submitted.submitted_by == carol


def test_a_submitted_evaluation_can_no_longer_be_edited(submitted, carol):
    with pytest.raises(PermissionDenied):
        evaluation_save(
            evaluation=submitted, by=carol, scores=full_scores(submitted), version=submitted.version
        )


def test_an_approver_approves_what_others_entered(submitted, bob):
    evaluation_approve(evaluation=submitted, by=bob)
    submitted.refresh_from_db()
    assert (submitted.status, submitted.approved_by) == (EvaluationStatus.APPROVED, bob)


def test_nobody_approves_an_evaluation_they_edited(assigned, bob, carol):
    from django.contrib.auth.models import Group

    bob.groups.add(Group.objects.get(name="Administrator"))  # so bob may edit scores too
    bob = type(bob).objects.get(pk=bob.pk)
    p1 = assigned.cycle.indicators.get(code="P1")
    evaluation_save(evaluation=assigned, by=carol, scores=full_scores(assigned), version=1)
    evaluation_save(
        evaluation=assigned,
        by=bob,
        scores={p1.pk: ScoreInput(Decimal("2"))},
        version=assigned.version,
    )
    evaluation_submit(evaluation=assigned, by=carol)
    with pytest.raises(PermissionDenied, match="entered or edited"):
        evaluation_approve(evaluation=assigned, by=bob)
    assigned.refresh_from_db()
    assert assigned.status == EvaluationStatus.SUBMITTED


def test_nobody_approves_an_evaluation_they_submitted(submitted, carol):
    from django.contrib.auth.models import Group

    carol.groups.add(Group.objects.get(name="Approver"))
    carol = type(carol).objects.get(pk=carol.pk)  # permissions are cached per user object
    with pytest.raises(PermissionDenied, match="entered or edited"):
        evaluation_approve(evaluation=submitted, by=carol)


def test_a_returned_evaluation_goes_back_to_its_reviewer_with_the_reason(submitted, bob, carol):
    evaluation_return(evaluation=submitted, by=bob, reason="R1 looks too high")
    submitted.refresh_from_db()
    assert (submitted.status, submitted.return_reason) == (
        EvaluationStatus.RETURNED,
        "R1 looks too high",
    )
    evaluation_save(
        evaluation=submitted,
        by=carol,
        scores=full_scores(submitted, "5"),
        version=submitted.version,
    )
    evaluation_submit(evaluation=submitted, by=carol)
    assert submitted.status == EvaluationStatus.SUBMITTED


def test_returning_needs_a_reason(submitted, bob):
    with pytest.raises(ValidationError, match="why"):
        evaluation_return(evaluation=submitted, by=bob, reason="  ")
    submitted.refresh_from_db()
    assert submitted.status == EvaluationStatus.SUBMITTED


def test_reviewers_and_viewers_cannot_approve_or_return(submitted, carol, erin, dave):
    for user in (erin, dave):
        with pytest.raises(PermissionDenied):
            evaluation_approve(evaluation=submitted, by=user)
        with pytest.raises(PermissionDenied):
            evaluation_return(evaluation=submitted, by=user, reason="no")
    submitted.refresh_from_db()
    assert submitted.status == EvaluationStatus.SUBMITTED


def test_an_approved_evaluation_is_read_only(submitted, bob, carol, alice):
    evaluation_approve(evaluation=submitted, by=bob)
    for user in (carol, alice):
        with pytest.raises(PermissionDenied):
            evaluation_save(
                evaluation=submitted,
                by=user,
                scores=full_scores(submitted),
                version=submitted.version,
            )
