"""Demonstration data: synthetic cycles over the real register, from a fixed random seed.

Two published cycles (2021 and 2022) and an open one (2023), all flagged ``is_demo`` so that
every page showing them says they are not official results.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from evaluations.models import Cycle, Evaluation, EvaluationStatus, Indicator, Outcome, Score
from evaluations.services import (
    cycle_open,
    cycle_publish,
    decision_record,
    rankings_compute,
)
from registry.models import ProvinceReviewer, ZoneReporter

DEMO_YEARS = (2021, 2022, 2023)
SEED = 20210401
# Evaluations of the open cycle that come back returned to their reviewer.
DEMO_RETURNED = 3


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    cycles: dict[int, int]


def _value(indicator: Indicator, quality: float, rng: random.Random) -> Decimal:
    """A plausible figure for a zone of the given quality (0 weak .. 1 strong)."""
    if indicator.kind == "points":
        top = float(indicator.max_points)
        raw = min(max(quality * top + rng.gauss(0, top * 0.12), 0), top)
        return Decimal(str(round(raw, 1)))
    if indicator.log_scale:
        raw = 10 ** (quality * 3 + rng.gauss(0, 0.25))
        return max(Decimal(str(round(raw, 2))), indicator.min_value or Decimal("0.01"))
    if indicator.min_value is not None and indicator.min_value < 0:
        raw = -20 + quality * 60 + rng.gauss(0, 8)
        return Decimal(str(round(raw, 1)))
    return Decimal(max(0, round(quality * 40 + rng.gauss(0, 4))))


def _fill(
    evaluations: list[Evaluation],
    quality: dict[int, float],
    rng: random.Random,
    reviewer,
) -> None:
    indicators = list(evaluations[0].cycle.indicators.in_order()) if evaluations else []
    now = timezone.now()
    scores = [
        Score(
            evaluation=evaluation,
            indicator=indicator,
            value=_value(indicator, quality[evaluation.zone_id], rng),
            entered_by=reviewer,
            entered_at=now,
        )
        for evaluation in evaluations
        for indicator in indicators
    ]
    bulk_create_with_history(scores, Score, batch_size=2000, default_user=reviewer)


def _set_status(
    evaluations: list[Evaluation], status: str, reviewer, approver, return_reason: str = ""
) -> None:
    now = timezone.now()
    for evaluation in evaluations:
        evaluation.reviewer = reviewer
        evaluation.last_edited_by = reviewer
        evaluation.status = status
        evaluation.return_reason = return_reason
        if status != EvaluationStatus.DRAFT:
            evaluation.submitted_by, evaluation.submitted_at = reviewer, now
        if status == EvaluationStatus.APPROVED:
            evaluation.approved_by, evaluation.approved_at = approver, now
    bulk_update_with_history(
        evaluations,
        Evaluation,
        [
            "reviewer",
            "last_edited_by",
            "status",
            "submitted_by",
            "submitted_at",
            "approved_by",
            "approved_at",
            "return_reason",
        ],
        batch_size=1000,
        default_user=reviewer,
    )


def demo_seed() -> DemoSummary:
    """Create the demonstration cycles once; a second call changes nothing."""
    existing = Cycle.objects.filter(year__in=DEMO_YEARS)
    if existing.filter(is_demo=True).exists():
        return DemoSummary(False, dict(existing.values_list("year", "pk")))
    if existing.exists():
        raise ValidationError(
            "Cycles of 2021-2023 exist already and are not demonstration data; "
            "demonstration data is only added to a register without them."
        )
    users = get_user_model().objects
    reviewer = users.filter(username="reviewer").first()
    approver = users.filter(username="approver").first()
    rng = random.Random(SEED)
    counts = {}
    with transaction.atomic():
        quality: dict[int, float] = {}
        for year in DEMO_YEARS:
            cycle = cycle_open(year=year)
            cycle.is_demo = True
            cycle.save(update_fields=["is_demo"])
            evaluations = list(cycle.evaluations.select_related("cycle").order_by("zone_id"))
            for evaluation in evaluations:
                base = quality.get(evaluation.zone_id, rng.betavariate(9, 2))
                quality[evaluation.zone_id] = min(max(base + rng.gauss(0, 0.06), 0), 1)
            counts[year] = len(evaluations)
            if year < DEMO_YEARS[-1]:
                _fill(evaluations, quality, rng, reviewer)
                _set_status(evaluations, EvaluationStatus.APPROVED, reviewer, approver)
                cycle_publish(cycle=cycle)
                cycle.refresh_from_db()
                if approver is not None and year == DEMO_YEARS[0]:
                    for decision in cycle.decisions.all():
                        decision_record(
                            decision=decision,
                            outcome=Outcome.WARN,
                            rationale="Demonstration: the recommendation is confirmed.",
                            by=approver,
                        )
                continue
            # The open cycle: some evaluations submitted (a few of them returned), some under
            # way, the rest not started, so that every state of the entry and approval forms
            # can be seen.
            rng.shuffle(evaluations)
            cut_returned = DEMO_RETURNED
            cut_submitted = math.floor(len(evaluations) * 0.3)
            cut_draft = math.floor(len(evaluations) * 0.6)
            _fill(evaluations[:cut_draft], quality, rng, reviewer)
            _set_status(
                evaluations[:cut_returned],
                EvaluationStatus.RETURNED,
                reviewer,
                None,
                return_reason="Demonstration: check the figures against the evidence.",
            )
            _set_status(
                evaluations[cut_returned:cut_submitted], EvaluationStatus.SUBMITTED, reviewer, None
            )
            _set_status(evaluations[cut_submitted:], EvaluationStatus.DRAFT, reviewer, None)
            rankings_compute(cycle=cycle)
            _scope_demo_chain(evaluations[cut_draft:])
    return DemoSummary(True, counts)


def _scope_demo_chain(not_started: list[Evaluation]) -> None:
    """Give the demo zone reporter a zone whose report is not started, and the demo
    provincial reviewer that zone's province."""
    users = get_user_model().objects
    reporter = users.filter(username="reporter").first()
    province_reviewer = users.filter(username="province").first()
    if not not_started:
        return
    zone = min((e.zone for e in not_started), key=lambda z: z.pk)
    if reporter is not None:
        ZoneReporter.objects.get_or_create(user=reporter, zone=zone)
    if province_reviewer is not None:
        ProvinceReviewer.objects.get_or_create(user=province_reviewer, province_id=zone.province_id)
