"""The home page's part of the evaluations: the current cycle's progress and a person's queue."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from evaluations.access import works_on_evaluations
from evaluations.models import Cycle, Evaluation, EvaluationStatus
from evaluations.selectors import evaluations_to_approve, evaluations_to_enter


@dataclass(frozen=True)
class CycleProgress:
    """How far a cycle's evaluations have come: the number in each status."""

    cycle: Cycle
    status_counts: list[tuple[str, str, int]]  # status, its label, how many
    total: int
    approved: int

    @property
    def approved_percent(self) -> int:
        """The share approved, rounded down, so that 100 means every one of them."""
        return self.approved * 100 // self.total if self.total else 0


@dataclass(frozen=True)
class WorkQueue:
    """What waits for one person: evaluations to enter, and evaluations to approve."""

    to_enter: list[Evaluation]
    to_approve: list[Evaluation]
    enters: bool  # a Reviewer: the "to enter" list applies to them, even when empty
    approves: bool


def cycle_progress(cycle: Cycle) -> CycleProgress:
    counts = Evaluation.objects.for_cycle(cycle).status_counts()
    return CycleProgress(
        cycle=cycle,
        status_counts=[
            (status, label, counts[status]) for status, label in EvaluationStatus.choices
        ],
        total=sum(counts.values()),
        approved=counts[EvaluationStatus.APPROVED],
    )


def work_queue(user: AbstractBaseUser, cycle: Cycle) -> WorkQueue:
    """A Reviewer's drafts and returned evaluations while the cycle is open; for an Approver,
    the submitted evaluations they may approve (not those they entered or edited).

    One query per list, however long.
    """
    enters = user.has_perm("evaluations.enter_evaluation")
    approves = user.has_perm("evaluations.approve_evaluation")
    to_enter = evaluations_to_enter(cycle, user) if enters and cycle.is_open else []
    to_approve = evaluations_to_approve(cycle, user) if approves else []
    return WorkQueue(to_enter=to_enter, to_approve=to_approve, enters=enters, approves=approves)


def home_context(user: AbstractBaseUser | AnonymousUser) -> dict[str, object]:
    """What the home page shows of the evaluations; nothing for a Viewer."""
    if not works_on_evaluations(user):
        return {}
    cycle = Cycle.objects.current()
    if cycle is None:
        return {"works_on_evaluations": True, "progress": None, "queue": None}
    return {
        "works_on_evaluations": True,
        "progress": cycle_progress(cycle),
        "queue": work_queue(user, cycle),
    }
