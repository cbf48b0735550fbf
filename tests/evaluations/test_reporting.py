"""The reporting chain's rules, without HTTP: rita reports Alpha's figures, oscar reports
Bravo's, paul pre-reviews their province and pia another one; carol verifies at the
Ministry and bob approves."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from evaluations.models import Evaluation, EvaluationStatus, Evidence, Score, ValidationRule
from evaluations.reporting import (
    Accepted,
    evidence_add,
    report_forward,
    report_return,
    report_save,
    report_submit,
    report_verify,
)
from evaluations.services import (
    ScoreInput,
    can_approve,
    evaluation_approve,
    evaluation_assign,
    evaluation_return,
    rankings_compute,
)
from registry.models import ProvinceReviewer, ZoneReporter
from tests.evidence_files import EXECUTABLE, PDF, PNG
from tests.factories import make_province, make_user
from zonetracker.permissions import PROVINCIAL_REVIEWER, ZONE_REPORTER


@pytest.fixture
def chain(cycle, zones, alice, bob, carol):
    rita = make_user("rita", ZONE_REPORTER)
    oscar = make_user("oscar", ZONE_REPORTER)
    paul = make_user("paul", PROVINCIAL_REVIEWER)
    pia = make_user("pia", PROVINCIAL_REVIEWER)
    ZoneReporter.objects.create(user=rita, zone=zones[0])
    ZoneReporter.objects.create(user=oscar, zone=zones[1])
    ProvinceReviewer.objects.create(user=paul, province=zones[0].province)
    ProvinceReviewer.objects.create(user=pia, province=make_province())
    evaluation_assign(evaluations=cycle.evaluations.all(), reviewer=carol, by=alice)
    return {"rita": rita, "oscar": oscar, "paul": paul, "pia": pia}


def alpha(cycle) -> Evaluation:
    return Evaluation.objects.select_related("cycle", "zone").get(
        cycle=cycle, zone__name_en="Alpha"
    )


def figures(cycle, value: int = 5) -> dict[int, ScoreInput]:
    return {i.pk: ScoreInput(Decimal(value)) for i in cycle.indicators.all()}


def reported(cycle, by) -> Evaluation:
    evaluation = alpha(cycle)
    report_save(evaluation=evaluation, by=by, scores=figures(cycle), version=evaluation.version)
    return report_submit(evaluation=evaluation, by=by, version=evaluation.version)


def forwarded(cycle, chain) -> Evaluation:
    evaluation = reported(cycle, chain["rita"])
    return report_forward(evaluation=evaluation, by=chain["paul"], version=evaluation.version)


def test_a_reporter_saves_its_zones_figures_as_reported_and_accepted_values(cycle, chain):
    evaluation = alpha(cycle)
    report_save(
        evaluation=evaluation, by=chain["rita"], scores=figures(cycle), version=evaluation.version
    )
    score = Score.objects.filter(evaluation=evaluation).first()
    assert score.reported_value == score.value == Decimal(5)
    assert score.entered_by == chain["rita"]


def test_a_reporter_may_not_report_another_zone_and_nothing_changes(cycle, chain):
    evaluation = alpha(cycle)
    with pytest.raises(PermissionDenied):
        report_save(
            evaluation=evaluation,
            by=chain["oscar"],
            scores=figures(cycle),
            version=evaluation.version,
        )
    assert not Score.objects.filter(evaluation=evaluation).exists()
    assert Evaluation.objects.get(pk=evaluation.pk).version == evaluation.version


def test_a_ministry_reviewer_is_no_zone_reporter(cycle, chain, carol):
    evaluation = alpha(cycle)
    with pytest.raises(PermissionDenied):
        report_save(
            evaluation=evaluation, by=carol, scores=figures(cycle), version=evaluation.version
        )


def test_a_report_with_a_value_missing_cannot_be_sent(cycle, chain):
    evaluation = alpha(cycle)
    partial = dict(list(figures(cycle).items())[:3])
    report_save(evaluation=evaluation, by=chain["rita"], scores=partial, version=evaluation.version)
    with pytest.raises(ValidationError, match="missing"):
        report_submit(evaluation=evaluation, by=chain["rita"], version=evaluation.version)
    assert Evaluation.objects.get(pk=evaluation.pk).status == EvaluationStatus.DRAFT


def test_a_report_without_its_required_evidence_cannot_be_sent_until_the_file_is_there(
    cycle, chain
):
    cycle.indicators.filter(code="R1").update(requires_evidence=True)
    evaluation = alpha(cycle)
    report_save(
        evaluation=evaluation, by=chain["rita"], scores=figures(cycle), version=evaluation.version
    )
    with pytest.raises(ValidationError, match="R1"):
        report_submit(evaluation=evaluation, by=chain["rita"], version=evaluation.version)
    evidence_add(
        evaluation=evaluation,
        indicator=cycle.indicators.get(code="R1"),
        upload=SimpleUploadedFile("customs.pdf", PDF),
        by=chain["rita"],
    )
    report_submit(evaluation=evaluation, by=chain["rita"], version=evaluation.version)
    assert Evaluation.objects.get(pk=evaluation.pk).status == EvaluationStatus.REPORTED


def test_a_broken_cross_indicator_rule_refuses_the_report_with_its_message_in_each_language(
    cycle, chain
):
    ValidationRule.objects.create(
        cycle=cycle,
        expression="R4 <= R5",
        message_en="There cannot be more overseas warehouses than parks.",
        message_zh="海外仓数量不能多于产业园区数。",
    )
    evaluation = alpha(cycle)
    values = figures(cycle)
    values[cycle.indicators.get(code="R4").pk] = ScoreInput(Decimal(9))
    report_save(evaluation=evaluation, by=chain["rita"], scores=values, version=evaluation.version)
    with pytest.raises(ValidationError, match="more overseas warehouses"):
        report_submit(evaluation=evaluation, by=chain["rita"], version=evaluation.version)
    with translation.override("zh-hans"), pytest.raises(ValidationError, match="海外仓数量"):
        report_submit(evaluation=evaluation, by=chain["rita"], version=evaluation.version)


def test_a_rule_that_is_not_in_the_rule_language_is_refused_when_saved(cycle):
    rule = ValidationRule(
        cycle=cycle, expression="__import__('os')", message_en="x", message_zh="x"
    )
    with pytest.raises(ValidationError):
        rule.full_clean()


def test_the_province_returns_a_report_with_a_reason_and_the_zone_fixes_it(cycle, chain):
    evaluation = reported(cycle, chain["rita"])
    with pytest.raises(ValidationError):
        report_return(
            evaluation=evaluation, by=chain["paul"], reason="  ", version=evaluation.version
        )
    report_return(
        evaluation=evaluation,
        by=chain["paul"],
        reason="R3 lacks its source.",
        version=evaluation.version,
    )
    evaluation = alpha(cycle)
    assert (evaluation.status, evaluation.return_reason) == (
        EvaluationStatus.RETURNED,
        "R3 lacks its source.",
    )
    report_save(
        evaluation=evaluation,
        by=chain["rita"],
        scores=figures(cycle, 6),
        version=evaluation.version,
    )
    report_submit(evaluation=evaluation, by=chain["rita"], version=evaluation.version)
    evaluation = alpha(cycle)
    assert (evaluation.status, evaluation.return_reason) == (EvaluationStatus.REPORTED, "")


@pytest.mark.parametrize("who", ["pia", "oscar", "rita"])
def test_only_a_reviewer_of_the_zones_province_forwards_or_returns_it(cycle, chain, who):
    evaluation = reported(cycle, chain["rita"])
    for act in (report_forward, report_return):
        kwargs = {"reason": "No."} if act is report_return else {}
        with pytest.raises(PermissionDenied):
            act(evaluation=evaluation, by=chain[who], version=evaluation.version, **kwargs)
    assert alpha(cycle).status == EvaluationStatus.REPORTED


def test_the_province_cannot_forward_a_draft(cycle, chain):
    evaluation = alpha(cycle)
    with pytest.raises(PermissionDenied):
        report_forward(evaluation=evaluation, by=chain["paul"], version=evaluation.version)


def accepted_all(cycle, value: int = 5, **changed: Accepted) -> dict[int, Accepted]:
    result = {i.pk: Accepted(Decimal(value)) for i in cycle.indicators.all()}
    for code, choice in changed.items():
        result[cycle.indicators.get(code=code).pk] = choice
    return result


def test_the_ministry_accepts_another_value_only_with_a_reason_and_keeps_the_reported_one(
    cycle, chain, carol
):
    evaluation = forwarded(cycle, chain)
    with pytest.raises(ValidationError, match="say why"):
        report_verify(
            evaluation=evaluation,
            by=carol,
            accepted=accepted_all(cycle, R3=Accepted(Decimal(3))),
            version=evaluation.version,
        )
    assert alpha(cycle).status == EvaluationStatus.FORWARDED
    report_verify(
        evaluation=evaluation,
        by=carol,
        accepted=accepted_all(cycle, R3=Accepted(Decimal(3), "Two firms lost their status.")),
        version=evaluation.version,
    )
    score = Score.objects.get(evaluation=evaluation, indicator__code="R3")
    assert (score.reported_value, score.value, score.verification_reason) == (
        Decimal(5),
        Decimal(3),
        "Two firms lost their status.",
    )
    evaluation = alpha(cycle)
    assert evaluation.status == EvaluationStatus.SUBMITTED
    assert evaluation.verified_by == carol


def test_only_the_evaluations_reviewer_verifies_a_forwarded_report(cycle, chain, erin, bob):
    evaluation = forwarded(cycle, chain)
    for who in (erin, bob, chain["rita"], chain["paul"]):
        with pytest.raises(PermissionDenied):
            report_verify(
                evaluation=evaluation,
                by=who,
                accepted=accepted_all(cycle),
                version=evaluation.version,
            )
    assert alpha(cycle).status == EvaluationStatus.FORWARDED


def test_the_rankings_use_the_accepted_value(cycle, chain, carol, bob):
    for zone_name in ["Bravo", "Charlie"]:
        other = cycle.evaluations.get(zone__name_en=zone_name)
        for indicator in cycle.indicators.all():
            Score.objects.create(evaluation=other, indicator=indicator, value=Decimal(5))
    evaluation = forwarded(cycle, chain)
    report_verify(
        evaluation=evaluation,
        by=carol,
        accepted=accepted_all(cycle, P1=Accepted(Decimal(10), "The plan was fully done.")),
        version=evaluation.version,
    )
    rankings_compute(cycle=cycle)
    ranks = dict(cycle.evaluations.values_list("zone__name_en", "rank"))
    assert ranks["Alpha"] == 1
    assert ranks["Bravo"] == ranks["Charlie"] == 2


def test_the_verifier_does_not_approve_and_another_approver_does(cycle, chain, carol, bob):
    from django.contrib.auth.models import Group

    carol.groups.add(Group.objects.get(name="Approver"))
    evaluation = forwarded(cycle, chain)
    report_verify(
        evaluation=evaluation, by=carol, accepted=accepted_all(cycle), version=evaluation.version
    )
    evaluation = alpha(cycle)
    carol = type(carol).objects.get(pk=carol.pk)
    assert not can_approve(carol, evaluation)
    evaluation_approve(evaluation=evaluation, by=bob)
    assert alpha(cycle).status == EvaluationStatus.APPROVED


def test_an_approvers_return_sends_a_verified_report_back_to_the_ministrys_verification(
    cycle, chain, carol, bob
):
    evaluation = forwarded(cycle, chain)
    report_verify(
        evaluation=evaluation, by=carol, accepted=accepted_all(cycle), version=evaluation.version
    )
    evaluation_return(evaluation=alpha(cycle), by=bob, reason="Check R1 against customs.")
    evaluation = alpha(cycle)
    assert (evaluation.status, evaluation.return_reason) == (
        EvaluationStatus.FORWARDED,
        "Check R1 against customs.",
    )


def test_a_replaced_evidence_file_is_kept_with_who_and_when(cycle, chain):
    evaluation = alpha(cycle)
    indicator = cycle.indicators.get(code="R1")
    first = evidence_add(
        evaluation=evaluation,
        indicator=indicator,
        upload=SimpleUploadedFile("v1.pdf", PDF),
        by=chain["rita"],
    )
    second = evidence_add(
        evaluation=evaluation,
        indicator=indicator,
        upload=SimpleUploadedFile("v2.png", PNG),
        by=chain["rita"],
        replaces=first,
    )
    first.refresh_from_db()
    assert first.replaced_by == second and first.replaced_at is not None
    assert first.file.read() == PDF
    assert list(Evidence.objects.current()) == [second]
    assert second.uploaded_by == chain["rita"] and second.kind == "png"


def test_a_bad_evidence_file_is_refused_and_nothing_is_kept(cycle, chain, settings):
    evaluation = alpha(cycle)
    indicator = cycle.indicators.get(code="R1")
    with pytest.raises(ValidationError, match="Only PDF"):
        evidence_add(
            evaluation=evaluation,
            indicator=indicator,
            upload=SimpleUploadedFile("report.pdf", EXECUTABLE),
            by=chain["rita"],
        )
    settings.EVIDENCE_MAX_BYTES = 16
    with pytest.raises(ValidationError, match="larger than"):
        evidence_add(
            evaluation=evaluation,
            indicator=indicator,
            upload=SimpleUploadedFile("report.pdf", PDF),
            by=chain["rita"],
        )
    assert not Evidence.objects.exists()


def test_no_one_outside_the_zones_scope_adds_evidence(cycle, chain):
    evaluation = alpha(cycle)
    for who in ("oscar", "paul", "pia"):
        with pytest.raises(PermissionDenied):
            evidence_add(
                evaluation=evaluation,
                indicator=cycle.indicators.get(code="R1"),
                upload=SimpleUploadedFile("v1.pdf", PDF),
                by=chain[who],
            )
    assert not Evidence.objects.exists()


def test_a_new_cycle_copies_the_validation_rules_and_evidence_requirements(cycle):
    from evaluations.services import cycle_open

    ValidationRule.objects.create(
        cycle=cycle, expression="R4 <= R5", message_en="Warehouses.", message_zh="海外仓。"
    )
    cycle.indicators.filter(code="R1").update(requires_evidence=True, change_threshold=50)
    following = cycle_open(year=2022)
    assert list(following.validation_rules.values_list("expression", flat=True)) == ["R4 <= R5"]
    r1 = following.indicators.get(code="R1")
    assert r1.requires_evidence and r1.change_threshold == 50


def test_each_step_of_the_chain_tells_the_next_in_line(cycle, chain, carol):
    from evaluations.models import Notification

    evaluation = reported(cycle, chain["rita"])
    assert list(Notification.objects.values_list("recipient__username", "kind")) == [
        ("paul", "reported")
    ]
    Notification.objects.all().delete()
    report_return(evaluation=evaluation, by=chain["paul"], reason="R3?", version=evaluation.version)
    assert list(Notification.objects.values_list("recipient__username", "kind")) == [
        ("rita", "returned")
    ]
    Notification.objects.all().delete()
    evaluation = alpha(cycle)
    report_submit(evaluation=evaluation, by=chain["rita"], version=evaluation.version)
    report_forward(evaluation=evaluation, by=chain["paul"], version=evaluation.version)
    kinds = set(Notification.objects.values_list("recipient__username", "kind"))
    assert kinds == {("paul", "reported"), ("carol", "forwarded")}
    forwarded_note = Notification.objects.get(kind="forwarded")
    assert forwarded_note.link == f"/reports/{evaluation.pk}/"


def test_the_entry_services_refuse_an_evaluation_whose_zone_reported_its_figures(
    cycle, chain, carol
):
    from evaluations.services import evaluation_save, evaluation_submit

    evaluation = alpha(cycle)
    report_save(
        evaluation=evaluation, by=chain["rita"], scores=figures(cycle), version=evaluation.version
    )
    evaluation = alpha(cycle)
    with pytest.raises(ValidationError, match="verifies them on the report"):
        evaluation_save(
            evaluation=evaluation, by=carol, scores=figures(cycle, 4), version=evaluation.version
        )
    with pytest.raises(ValidationError, match="verifies them on the report"):
        evaluation_submit(evaluation=evaluation, by=carol, version=evaluation.version)
    assert set(Score.objects.values_list("value", "reported_value")) == {(5, 5)}
    assert alpha(cycle).status == EvaluationStatus.DRAFT
