"""A cycle's policy as a record, a trial of another policy, and what the trial would change.

``what_if`` writes nothing: it scores the cycle's values under the cycle's policy and under
the trial, runs the exit rules of both over the published cycles before it, and returns one
row per zone. The what-if page, its exports and the ``what_if`` command all read it.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import tablib
from django.core.exceptions import ValidationError

from evaluations import rules, scoring
from evaluations.models import Cycle, Grade, Recommendation
from evaluations.services import (
    POLICY_FIELDS,
    cycle_entries,
    cycle_policy,
    indicator_specs,
    published_placings,
    rule_policy,
    zones_on_notice,
)
from registry.models import Zone

# The record's names (those of cycle_policy's options) for the cycle's policy fields.
RECORD_NAMES = {
    "exit_rule": "rule",
    "failing_grade": "failing_grade",
    "exit_bottom": "bottom",
    "exit_after": "times",
    "exit_within": "within",
    "grade1_size": "grade1_size",
    "grade2_threshold": "grade2_threshold",
    "grade3_threshold": "grade3_threshold",
    "adjustment_cap": "adjustment_cap",
}
FIELD_NAMES = {record: field for field, record in RECORD_NAMES.items()}

# The columns of what_if (DESIGN §5).
WHAT_IF_COLUMNS = ["zone", "rank", "grade", "recommendation", "trial_grade", "trial_recommendation"]

_SHOWN_RECOMMENDATIONS = {Recommendation.WARN, Recommendation.EXIT}


def _label(recommendation: str) -> str:
    return str(Recommendation(recommendation).label) if recommendation else ""


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def policy_record(cycle: Cycle) -> dict[str, object]:
    """The cycle's policy under the names of ``cycle_policy``'s options, for JSON."""
    return {
        "year": cycle.year,
        "status": cycle.status,
        **{record: _number(getattr(cycle, field)) for field, record in RECORD_NAMES.items()},
    }


@dataclass(frozen=True)
class Trial:
    """A policy to try on a cycle: its grading, its exit rule and the indicators' weights."""

    policy: scoring.Policy
    rule: rules.RulePolicy
    weights: Mapping[int, Decimal]  # indicator id -> weight


def trial_cycle(cycle: Cycle, changes: Mapping[str, object]) -> Cycle:
    """An unsaved copy of ``cycle`` with the policy ``changes`` (cycle field names) applied
    and checked: ValidationError says what is wrong with them."""
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(", ".join(sorted(unknown)))
    trial = copy.copy(cycle)
    for name, value in changes.items():
        setattr(trial, name, value)
    exclude = [f.name for f in Cycle._meta.fields if f.name not in POLICY_FIELDS]
    trial.clean_fields(exclude=exclude)
    trial.clean_policy()
    return trial


def trial_of(cycle: Cycle, weights: Mapping[int, Decimal] | None = None) -> Trial:
    """The policy of ``cycle`` (a saved one or a ``trial_cycle``) as a trial."""
    return Trial(policy=cycle_policy(cycle), rule=rule_policy(cycle), weights=weights or {})


@dataclass(frozen=True)
class WhatIfRow:
    zone: Zone
    rank: int | None
    grade: int | None
    recommendation: str
    trial_rank: int | None
    trial_grade: int | None
    trial_recommendation: str

    @property
    def grade_changed(self) -> bool:
        return self.grade != self.trial_grade

    @property
    def recommendation_changed(self) -> bool:
        return self.recommendation != self.trial_recommendation

    @property
    def changed(self) -> bool:
        return self.grade_changed or self.recommendation_changed

    @property
    def recommendation_label(self) -> str:
        return _label(self.recommendation)

    @property
    def trial_recommendation_label(self) -> str:
        return _label(self.trial_recommendation)

    def export_record(self) -> dict[str, object]:
        return {
            "zone": self.zone.name_en,
            "rank": self.rank,
            "grade": self.grade,
            "recommendation": self.recommendation,
            "trial_grade": self.trial_grade,
            "trial_recommendation": self.trial_recommendation,
        }


@dataclass(frozen=True)
class GradeCount:
    grade: int
    label: str
    now: int
    trial: int


@dataclass(frozen=True)
class WhatIf:
    rows: list[WhatIfRow]  # every zone, in the order of its rank now (unranked last)

    @property
    def changed_rows(self) -> list[WhatIfRow]:
        return [row for row in self.rows if row.changed]

    @property
    def grade_counts(self) -> list[GradeCount]:
        return [
            GradeCount(
                grade=grade,
                label=Grade.label_of(grade),
                now=sum(1 for row in self.rows if row.grade == grade),
                trial=sum(1 for row in self.rows if row.trial_grade == grade),
            )
            for grade in Grade.values
        ]


def _shown(advice: rules.Advice | None) -> str:
    """A recommendation as the exports name it: warn, exit or empty."""
    if advice is None or advice.recommendation not in _SHOWN_RECOMMENDATIONS:
        return ""
    return advice.recommendation


def what_if(*, cycle: Cycle, trial: Trial) -> WhatIf:
    """Every zone of ``cycle`` graded and advised under its policy and under ``trial``.

    Writes nothing; a fixed number of queries whatever the number of zones.
    """
    indicators = indicator_specs(cycle)
    trial_indicators = [
        dataclasses.replace(spec, weight=trial.weights.get(spec.key, spec.weight))
        for spec in indicators
    ]
    entries = cycle_entries(cycle)
    zones = {
        evaluation.pk: evaluation.zone
        for evaluation in cycle.evaluations.select_related("zone__province")
    }
    now = {r.key: r for r in scoring.score_entries(indicators, entries, cycle_policy(cycle))}
    tried = {r.key: r for r in scoring.score_entries(trial_indicators, entries, trial.policy)}

    def placings(results: Mapping[int, scoring.Result]) -> dict[int, rules.Placing]:
        return {
            zones[key].pk: rules.Placing(result.rank, result.grade, zones[key].province.region)
            for key, result in results.items()
        }

    # The published cycles before this one, and the notices, read once for both policies.
    earlier = published_placings(cycle)
    on_notice = zones_on_notice(zone.pk for zone in zones.values())
    advice_now = rules.recommend_all(
        [*earlier, placings(now)], on_notice=on_notice, policy=rule_policy(cycle)
    )
    advice_trial = rules.recommend_all(
        [*earlier, placings(tried)], on_notice=on_notice, policy=trial.rule
    )
    rows = [
        WhatIfRow(
            zone=zones[key],
            rank=result.rank,
            grade=result.grade,
            recommendation=_shown(advice_now.get(zones[key].pk)),
            trial_rank=tried[key].rank,
            trial_grade=tried[key].grade,
            trial_recommendation=_shown(advice_trial.get(zones[key].pk)),
        )
        for key, result in now.items()
    ]
    return WhatIf(rows=rows)


def what_if_dataset(rows: list[WhatIfRow]) -> tablib.Dataset:
    """The rows in the columns of ``what_if`` (DESIGN §5), for every export format."""
    dataset = tablib.Dataset(headers=WHAT_IF_COLUMNS)
    for row in rows:
        record = row.export_record()
        dataset.append([record[column] for column in WHAT_IF_COLUMNS])
    return dataset
