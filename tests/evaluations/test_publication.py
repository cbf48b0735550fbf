"""Rankings computed and exported, publication, the rule's recommendations and decisions."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F

from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    EvaluationStatus,
    Indicator,
    Outcome,
    Score,
)
from evaluations.services import (
    cycle_open,
    cycle_publish,
    decision_record,
    rankings_compute,
)
from registry.models import Zone, ZoneStatus
from tests.factories import score_all


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def small_policy_cycle(cycle):
    cycle.grade1_size = 1
    cycle.save()
    return cycle


def test_rankings_are_computed_with_the_cycles_policy(small_policy_cycle):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    rankings_compute(cycle=small_policy_cycle)
    ranked = {
        e.zone.name_en: (e.total, e.rank, e.grade)
        for e in small_policy_cycle.evaluations.select_related("zone")
    }
    # Points 100/70/30 (55% of the weight); measures 100/(70-30)/(100-30)... by hand:
    # R-measures are 101, 71, 31: scores 100, 57.14.., 0.
    assert ranked["Alpha"] == (Decimal("100.00"), 1, 1)
    assert ranked["Bravo"][1:] == (2, 3)
    assert ranked["Charlie"] == (Decimal("16.50"), 3, 4)


def test_an_evaluation_with_a_missing_score_is_not_ranked(cycle):
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    Score.objects.filter(evaluation__zone__name_en="Bravo", indicator__code="P1").delete()
    run("compute_rankings", "2021")
    bravo = cycle.evaluations.get(zone__name_en="Bravo")
    assert (bravo.total, bravo.rank, bravo.grade) == (None, None, None)
    assert cycle.evaluations.get(zone__name_en="Charlie").rank == 2


def test_compute_rankings_refuses_a_published_cycle(cycle):
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle)
    with pytest.raises(CommandError, match="published"):
        run("compute_rankings", "2021")


def test_publish_cycle_refuses_while_evaluations_are_not_approved_and_names_them(cycle):
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle.evaluations.filter(zone__name_en="Bravo").update(status=EvaluationStatus.SUBMITTED)
    with pytest.raises(CommandError) as caught:
        run("publish_cycle", "2021")
    assert "Bravo (submitted)" in str(caught.value)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.OPEN
    assert not Decision.objects.exists()


def test_publication_freezes_the_cycle_and_warns_the_failing_zones(small_policy_cycle):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    out = run("publish_cycle", "2021")
    assert "1 warn, 0 exit" in out
    small_policy_cycle.refresh_from_db()
    assert small_policy_cycle.status == CycleStatus.PUBLISHED
    decision = Decision.objects.get()
    assert (decision.zone.name_en, decision.recommendation, decision.outcome) == (
        "Charlie",
        "warn",
        "",
    )
    with pytest.raises(ValidationError, match="already published"):
        cycle_publish(cycle=small_policy_cycle)


def test_a_zone_failing_two_published_cycles_in_a_row_is_recommended_for_exit(
    small_policy_cycle, bob
):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=small_policy_cycle)
    warn = Decision.objects.get()
    decision_record(decision=warn, outcome=Outcome.WARN, rationale="Must rectify.", by=bob)
    warn.zone.refresh_from_db()
    assert warn.zone.status == ZoneStatus.ON_NOTICE
    later = cycle_open(year=2022)
    score_all(later, {"Alpha": 9, "Bravo": 6, "Charlie": 2, "Delta": 8})
    cycle_publish(cycle=later)
    recommendations = dict(
        Decision.objects.filter(cycle=later).values_list("zone__name_en", "recommendation")
    )
    assert recommendations == {"Charlie": "exit"}


def test_a_zone_on_notice_that_recovers_has_its_notice_lifted(small_policy_cycle, bob):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=small_policy_cycle)
    decision_record(
        decision=Decision.objects.get(), outcome=Outcome.RECTIFY, rationale="Plan due.", by=bob
    )
    later = cycle_open(year=2022)
    score_all(later, {"Alpha": 9, "Bravo": 3, "Charlie": 10, "Delta": 8})
    cycle_publish(cycle=later)
    lifted = Decision.objects.get(cycle=later, zone__name_en="Charlie")
    assert lifted.recommendation == "lift"
    decision_record(decision=lifted, outcome=Outcome.RETAIN, rationale="Recovered.", by=bob)
    lifted.zone.refresh_from_db()
    assert lifted.zone.status == ZoneStatus.ACTIVE


def test_an_exit_decision_sets_the_status_and_later_cycles_skip_the_zone(small_policy_cycle, bob):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=small_policy_cycle)
    decision = Decision.objects.get()
    decision_record(decision=decision, outcome=Outcome.EXIT, rationale="Too weak.", by=bob)
    decision.zone.refresh_from_db()
    assert decision.zone.status == ZoneStatus.EXITED
    assert decision.zone.status_changed_on is not None
    history = decision.zone.history.first()
    assert (history.status, history.history_user) == (ZoneStatus.EXITED, bob)
    later = cycle_open(year=2022)
    assert not later.evaluations.filter(zone=decision.zone).exists()
    assert Evaluation.objects.filter(zone=decision.zone).count() == 1


def test_decisions_need_an_approver_a_rationale_and_a_published_cycle(
    small_policy_cycle, carol, dave, bob
):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=small_policy_cycle)
    decision = Decision.objects.get()
    for user in (carol, dave):
        with pytest.raises(PermissionDenied):
            decision_record(decision=decision, outcome=Outcome.EXIT, rationale="x", by=user)
    with pytest.raises(ValidationError, match="rationale"):
        decision_record(decision=decision, outcome=Outcome.EXIT, rationale=" ", by=bob)
    with pytest.raises(ValidationError):
        decision_record(decision=decision, outcome="banish", rationale="x", by=bob)
    decision.refresh_from_db()
    assert not decision.is_decided
    assert decision.zone.status == ZoneStatus.ACTIVE
    unpublished = Decision(cycle=cycle_open(year=2022), zone=decision.zone)
    with pytest.raises(ValidationError, match="published"):
        decision_record(decision=unpublished, outcome=Outcome.WARN, rationale="x", by=bob)


def test_a_decision_once_taken_is_not_taken_again(small_policy_cycle, bob):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=small_policy_cycle)
    decision = Decision.objects.get()
    decision_record(decision=decision, outcome=Outcome.WARN, rationale="Warned.", by=bob)
    with pytest.raises(ValidationError, match="decided already"):
        decision_record(decision=decision, outcome=Outcome.EXIT, rationale="Changed.", by=bob)
    decision.refresh_from_db()
    assert decision.outcome == Outcome.WARN


def test_export_rankings_writes_the_documented_columns(small_policy_cycle, bob):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=small_policy_cycle)
    decision_record(decision=Decision.objects.get(), outcome=Outcome.RECTIFY, rationale="x", by=bob)
    rows = list(csv.DictReader(io.StringIO(run("export_rankings", "2021"))))
    assert list(rows[0]) == [
        "rank",
        "zone",
        "name_zh",
        "province",
        "region",
        "batch",
        "total",
        "grade",
        "previous_rank",
        "recommendation",
        "decision",
    ]
    assert [(r["rank"], r["zone"], r["grade"]) for r in rows] == [
        ("1", "Alpha", "1"),
        ("2", "Bravo", "3"),
        ("3", "Charlie", "4"),
    ]
    assert rows[0]["total"] == "100.00"
    assert rows[2]["previous_rank"] == ""
    assert (rows[2]["recommendation"], rows[2]["decision"]) == ("warn", "rectify")
    records = json.loads(run("export_rankings", "2021", "--format", "json"))
    assert records[0]["rank"] == 1 and records[0]["total"] == 100.0
    assert records[2]["decision"] == "rectify"


def test_export_rankings_gives_the_previous_rank(small_policy_cycle):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=small_policy_cycle)
    later = cycle_open(year=2022)
    score_all(later, {"Alpha": 2, "Bravo": 9, "Charlie": 5, "Delta": 8})
    rankings_compute(cycle=later)
    rows = {r["zone"]: r for r in csv.DictReader(io.StringIO(run("export_rankings", "2022")))}
    assert (rows["Bravo"]["rank"], rows["Bravo"]["previous_rank"]) == ("1", "2")
    assert (rows["Delta"]["rank"], rows["Delta"]["previous_rank"]) == ("2", "")


def test_export_rankings_escapes_formula_like_names(small_policy_cycle):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    Zone.objects.filter(name_en="Alpha").update(name_en="=HYPERLINK(1)")
    rankings_compute(cycle=small_policy_cycle)
    rows = list(csv.DictReader(io.StringIO(run("export_rankings", "2021"))))
    assert rows[0]["zone"] == "'=HYPERLINK(1)"


def test_a_published_cycles_weights_cannot_change_its_rankings(small_policy_cycle):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=small_policy_cycle)
    before = list(small_policy_cycle.evaluations.values_list("zone_id", "total", "rank"))
    Indicator.objects.filter(cycle=small_policy_cycle, code="R1").update(weight=90)
    with pytest.raises(ValidationError):
        rankings_compute(cycle=Cycle.objects.get(pk=small_policy_cycle.pk))
    assert list(small_policy_cycle.evaluations.values_list("zone_id", "total", "rank")) == before


def test_seed_demo_creates_two_published_cycles_and_an_open_one_once(register, framework):
    from tests.factories import make_user

    make_user("reviewer", "Reviewer")
    make_user("approver", "Approver")
    assert "Demonstration data created" in run("seed_demo")
    cycles = {c.year: (c.status, c.is_demo, c.evaluations.count()) for c in Cycle.objects.all()}
    assert cycles == {
        2021: (CycleStatus.PUBLISHED, True, 105),
        2022: (CycleStatus.PUBLISHED, True, 105),
        2023: (CycleStatus.OPEN, True, 165),
    }
    totals = list(Cycle.objects.get(year=2022).evaluations.values_list("total", flat=True))
    assert "nothing was changed" in run("seed_demo")
    assert list(Cycle.objects.get(year=2022).evaluations.values_list("total", flat=True)) == totals
    open_cycle = Cycle.objects.get(year=2023)
    assert open_cycle.evaluations.filter(status=EvaluationStatus.SUBMITTED).exists()
    # Every state of the entry and approval forms can be seen in the open cycle.
    returned = open_cycle.evaluations.filter(status=EvaluationStatus.RETURNED)
    assert returned.exists() and all(e.return_reason for e in returned)
    assert open_cycle.evaluations.filter(
        status=EvaluationStatus.DRAFT, scores__isnull=False
    ).exists()
    assert open_cycle.evaluations.filter(reviewer__username="reviewer").count() == 165


def test_the_explanation_adds_up_to_the_total_and_says_what_is_missing(small_policy_cycle):
    from evaluations.rankings import explain

    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    rankings_compute(cycle=small_policy_cycle)
    for evaluation in small_policy_cycle.evaluations.select_related("cycle"):
        explanation = explain(evaluation)
        points = sum(d.points for d in explanation.dimensions)
        assert abs(points - evaluation.total) <= Decimal("0.05")
        assert sum(d.weight_share for d in explanation.dimensions) == Decimal("100.0")
    charlie = small_policy_cycle.evaluations.select_related("cycle").get(zone__name_en="Charlie")
    # Grade 4 at 16.50: 43.50 short of the grade 3 threshold of 60.
    assert explain(charlie).points_to_next_grade == Decimal("43.50")
    alpha = small_policy_cycle.evaluations.select_related("cycle").get(zone__name_en="Alpha")
    assert explain(alpha).points_to_next_grade is None
    results = {d.dimension: d for d in explain(alpha).dimensions}
    assert results["results"].score == Decimal("100.00")


def test_there_is_nothing_to_explain_when_a_score_was_cleared_after_ranking(small_policy_cycle):
    from evaluations.rankings import explain

    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    rankings_compute(cycle=small_policy_cycle)
    Score.objects.filter(evaluation__zone__name_en="Bravo", indicator__code="R1").update(value=None)
    bravo = small_policy_cycle.evaluations.select_related("cycle").get(zone__name_en="Bravo")
    assert explain(bravo) is None


def test_a_rank_is_explained_against_the_bounds_it_was_ranked_with(small_policy_cycle):
    from evaluations.rankings import explain

    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    rankings_compute(cycle=small_policy_cycle)
    in_cycle = small_policy_cycle.evaluations.select_related("cycle")
    before = explain(in_cycle.get(zone__name_en="Bravo")).dimensions
    # The frontier moves after ranking: Bravo's rank was computed against the old one.
    Score.objects.filter(evaluation__zone__name_en="Alpha", indicator__code="R1").update(
        value=F("value") * 2
    )
    assert explain(in_cycle.get(zone__name_en="Bravo")).dimensions == before
    # Bravo's own figure changes: its stored total no longer adds up, so nothing is explained.
    Score.objects.filter(evaluation__zone__name_en="Bravo", indicator__code="R1").update(
        value=F("value") * 2
    )
    assert explain(in_cycle.get(zone__name_en="Bravo")) is None


def test_an_exit_withdraws_the_zones_evaluation_from_a_later_open_cycle(small_policy_cycle, bob):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    later = cycle_open(year=2022)
    cycle_publish(cycle=small_policy_cycle)
    decision = Decision.objects.get()
    assert later.evaluations.filter(zone=decision.zone).exists()
    decision_record(decision=decision, outcome=Outcome.EXIT, rationale="Too weak.", by=bob)
    assert not later.evaluations.filter(zone=decision.zone).exists()
    assert small_policy_cycle.evaluations.filter(zone=decision.zone).exists()
    assert Evaluation.history.filter(zone_id=decision.zone_id, history_type="-").count() == 1


def test_the_reason_for_a_recommendation_reads_in_the_active_language(small_policy_cycle):
    from django.utils import translation

    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=small_policy_cycle)
    decision = Decision.objects.get()
    assert decision.failing_run == 1
    with translation.override("en"):
        assert decision.reason.startswith("At grade 4 or worse in 1 published cycle up to 2021")


def test_every_page_showing_demonstration_data_says_so(client, register, framework, alice):
    from tests.factories import make_user

    make_user("reviewer", "Reviewer")
    make_user("approver", "Approver")
    run("seed_demo")
    client.force_login(alice)
    open_cycle = Cycle.objects.get(year=2023)
    evaluation = open_cycle.evaluations.first()
    for url in [
        "/",
        "/cycles/2023/evaluations/",
        f"/evaluations/{evaluation.pk}/",
        "/cycles/2022/rankings/",
        "/cycles/2023/rankings/",
        "/cycles/2022/decisions/",
        f"/zones/{evaluation.zone.slug}/",
    ]:
        page = client.get(url).content.decode()
        assert "Demonstration data, not official results" in page, url


def test_computing_rankings_keeps_a_history_record_of_each_change(small_policy_cycle, alice):
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    rankings_compute(cycle=small_policy_cycle, by=alice)
    records = Evaluation.history.filter(history_change_reason="rankings computed")
    assert sorted((r.zone.name_en, r.rank, r.history_user) for r in records) == [
        ("Alpha", 1, alice),
        ("Bravo", 2, alice),
        ("Charlie", 3, alice),
    ]
    rankings_compute(cycle=small_policy_cycle, by=alice)
    assert records.count() == 3  # nothing changed, nothing recorded


def test_cycles_ranked_before_their_bounds_were_kept_get_them_from_their_ranked_figures(
    small_policy_cycle,
):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("evaluations.migrations.0008_cycle_measure_bounds")
    score_all(small_policy_cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    rankings_compute(cycle=small_policy_cycle)
    kept = Cycle.objects.get(pk=small_policy_cycle.pk).measure_bounds
    assert kept
    Cycle.objects.filter(pk=small_policy_cycle.pk).update(measure_bounds={})

    migration.store_bounds_of_ranked_cycles(apps, None)

    def as_numbers(bounds: dict) -> dict:
        return {key: [Decimal(b) for b in pair] for key, pair in bounds.items()}

    stored = Cycle.objects.get(pk=small_policy_cycle.pk).measure_bounds
    assert as_numbers(stored) == as_numbers(kept)
