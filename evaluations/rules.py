"""The survival-of-the-fittest rule: from recent published grades to a recommendation.

- a zone at the failing grade (default 4) now is warned: it goes on notice and must rectify;
- a zone at the failing grade in ``exit_after`` (default 2) consecutive published cycles is
  recommended for exit;
- a zone on notice that is no longer at the failing grade has its notice lifted.

Grades are given oldest first, one per consecutive published cycle, None where the zone was
not evaluated; a cycle without a grade breaks a run of failing grades, since the rule speaks
of consecutive cycles. Plain values in, plain values out: no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WARN = "warn"
EXIT = "exit"
LIFT = "lift"


@dataclass(frozen=True)
class RulePolicy:
    failing_grade: int = 4
    exit_after: int = 2


@dataclass(frozen=True)
class Advice:
    """A recommendation (warn, exit or lift; None for nothing to do) and why."""

    recommendation: str | None
    failing_run: int

    @property
    def is_action(self) -> bool:
        return self.recommendation is not None


def failing_run(grades: Sequence[int | None], policy: RulePolicy) -> int:
    """How many of the latest consecutive cycles the zone was at or below the failing grade."""
    run = 0
    for grade in reversed(grades):
        if grade is None or grade < policy.failing_grade:
            break
        run += 1
    return run


def recommend(
    grades: Sequence[int | None], *, on_notice: bool, policy: RulePolicy = RulePolicy()
) -> Advice:
    """What the rule recommends after the latest of ``grades`` (oldest first)."""
    if not grades or grades[-1] is None:
        return Advice(None, 0)
    run = failing_run(grades, policy)
    if run >= policy.exit_after:
        return Advice(EXIT, run)
    if run:
        return Advice(WARN, run)
    if on_notice:
        return Advice(LIFT, 0)
    return Advice(None, 0)


# --- imported cycles ------------------------------------------------------------------------
# A year graded before zonetracker and imported (``import_results``) is a published cycle like
# any other for the rules: each zone's grade is always known, its rank only where the file
# gave one. Grade-based rules read it as they read any cycle; rules that read ranks (the
# bottom of a ranking) can apply to it only when every one of its zones has a rank.


@dataclass(frozen=True)
class CycleEntry:
    """What the rules read of one zone in one published cycle: its grade, and its rank where
    the cycle has one (an imported cycle may have none)."""

    grade: int | None
    rank: int | None = None


def carries_ranks(entries: Sequence[CycleEntry]) -> bool:
    """Whether a cycle's entries carry ranks: there are entries and every one has a rank.

    A cycle entered in zonetracker always does once published; an imported cycle does only
    when its file gave every zone a rank. Where it does not, a rule reading ranks says it
    cannot apply to that cycle rather than treating the missing ranks as the bottom.
    """
    return bool(entries) and all(entry.rank is not None for entry in entries)
