"""What the evaluations give the navigation and the home page: each person's work, first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from evaluations.access import works_on_evaluations
from evaluations.models import Cycle, CycleStatus, Evaluation, EvaluationStatus
from evaluations.selectors import (
    FirstFew,
    assigned_in_status,
    awaiting_approval,
    cycle_summaries,
    not_assigned,
    pending_decisions,
    top_ranked,
)
from evaluations.tile_map import cycle_tile_map, measure_links, measure_of

# The home page lists this many lines of each list that waits for someone; the full list is
# one link away, filtered.
FIRST_FEW = 5


# --- who sees what -----------------------------------------------------------------------


def follows_decisions(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Approvers decide and Administrators follow what is decided."""
    return user.has_perm("evaluations.follow_decisions")


def follows_progress(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whoever approves evaluations or assigns them to reviewers follows a cycle's progress."""
    return user.has_perm("evaluations.approve_evaluation") or user.has_perm(
        "evaluations.assign_evaluation"
    )


# --- the navigation ----------------------------------------------------------------------


@dataclass(frozen=True)
class Navigation:
    """The links the navigation offers one person beyond the register and the rankings.

    A year is None where the link does not apply to them, or no such cycle exists.
    """

    works_on_evaluations: bool
    progress_year: int | None
    decisions_year: int | None
    pending_decisions: int
    admin: bool
    # The reporting chain's pages: a zone reporter's or provincial reviewer's reports.
    reports: bool = False


def navigation(user: AbstractBaseUser | AnonymousUser) -> Navigation:
    """What the navigation offers ``user``, in one query (none for a Reviewer or a Viewer).

    Progress leads to the current cycle (the latest not published, else the latest);
    decisions to the latest published cycle, with how many of its recommendations wait for a
    decision.
    """
    if not user.is_authenticated:
        return Navigation(False, None, None, 0, False)
    progress, decisions = follows_progress(user), follows_decisions(user)
    cycles = cycle_summaries() if progress or decisions else []
    published = [(y, pending) for y, status, pending in cycles if status == CycleStatus.PUBLISHED]
    unpublished = [y for y, status, _pending in cycles if status != CycleStatus.PUBLISHED]
    current = (unpublished or [y for y, _status, _pending in cycles] or [None])[0]
    decisions_year, pending = published[0] if decisions and published else (None, 0)
    return Navigation(
        works_on_evaluations=works_on_evaluations(user),
        progress_year=current if progress else None,
        decisions_year=decisions_year,
        pending_decisions=pending,
        admin=user.is_staff,
        reports=user.has_perm("evaluations.report_evaluation")
        or user.has_perm("evaluations.forward_evaluation"),
    )


# --- the home page -----------------------------------------------------------------------


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

    @property
    def ready_to_publish(self) -> bool:
        """Every evaluation of a cycle not yet published is approved."""
        return not self.cycle.is_published and self.total > 0 and self.approved == self.total


@dataclass(frozen=True)
class Waiting:
    """One list of what waits for someone: the first few lines, how many in all, and the
    address of the whole list, filtered to them.
    """

    name: str  # stable: to_enter, returned, to_approve, not_assigned, decisions
    title: str
    few: FirstFew
    url: str
    empty: str  # what the page says when nothing waits


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


def _queue_url(cycle: Cycle, **filters: str) -> str:
    url = reverse("evaluations:cycle_evaluations", kwargs={"year": cycle.year})
    return f"{url}?{urlencode(filters)}"


def waiting_in_cycle(user: AbstractBaseUser, cycle: Cycle) -> list[Waiting]:
    """What waits for ``user`` in the current cycle, one query per list whatever its length.

    A Reviewer: the drafts assigned to them and those returned to them (while the cycle is
    open). An Approver: the submitted evaluations they may approve (four eyes). Whoever
    assigns evaluations: those without a reviewer (until the cycle is published).
    """
    waiting = []
    if user.has_perm("evaluations.enter_evaluation") and cycle.is_open:
        waiting += [
            Waiting(
                name="to_enter",
                title=_("Assigned to you to enter"),
                few=assigned_in_status(cycle, user, EvaluationStatus.DRAFT, limit=FIRST_FEW),
                url=_queue_url(cycle, mine="on", status=EvaluationStatus.DRAFT),
                empty=_("Nothing waits for you to enter."),
            ),
            Waiting(
                name="returned",
                title=_("Returned to you"),
                few=assigned_in_status(cycle, user, EvaluationStatus.RETURNED, limit=FIRST_FEW),
                url=_queue_url(cycle, mine="on", status=EvaluationStatus.RETURNED),
                empty=_("Nothing was returned to you."),
            ),
        ]
    if user.has_perm("evaluations.approve_evaluation"):
        waiting.append(
            Waiting(
                name="to_approve",
                title=_("Submitted, awaiting your approval"),
                few=awaiting_approval(cycle, user, limit=FIRST_FEW),
                url=_queue_url(cycle, status=EvaluationStatus.SUBMITTED),
                empty=_("Nothing waits for your approval."),
            )
        )
    if user.has_perm("evaluations.assign_evaluation") and not cycle.is_published:
        waiting.append(
            Waiting(
                name="not_assigned",
                title=_("Not assigned to a reviewer"),
                few=not_assigned(cycle, limit=FIRST_FEW),
                url=_queue_url(cycle, reviewer="null"),
                empty=_("Every evaluation has a reviewer."),
            )
        )
    return waiting


def waiting_decisions(cycle: Cycle) -> Waiting:
    """The recommendations of a published cycle that wait for a decision."""
    return Waiting(
        name="decisions",
        title=_("Decisions awaiting"),
        few=pending_decisions(cycle, limit=FIRST_FEW),
        url=reverse("evaluations:cycle_decisions", kwargs={"year": cycle.year}),
        empty=_("Every recommendation has been decided."),
    )


def home_context(
    user: AbstractBaseUser | AnonymousUser, *, query: Mapping[str, str] | None = None
) -> dict[str, object]:
    """What the home page shows of the evaluations, what waits for ``user`` first.

    Everyone sees the first lines of the latest published rankings; those who work on the
    evaluations, what waits for them and the current cycle's progress; those who follow
    decisions, the recommendations still to decide; the map of the provinces coloured by the
    measure ``query["map"]`` names. A fixed number of queries, whatever the lengths of the
    lists.
    """
    latest_published = Cycle.objects.published().order_by("-year").first()
    context: dict[str, object] = {
        "latest_published": latest_published,
        "top_ranked": top_ranked(latest_published, limit=FIRST_FEW) if latest_published else [],
        "follows_progress": follows_progress(user),
    }
    if latest_published is not None:
        measure = measure_of((query or {}).get("map"))
        context["tile_map"] = cycle_tile_map(latest_published, measure)
        context["measure_links"] = measure_links(query or {}, measure)
    waiting: list[Waiting] = []
    if works_on_evaluations(user):
        cycle = Cycle.objects.current()
        context["works_on_evaluations"] = True
        context["progress"] = cycle_progress(cycle) if cycle else None
        if cycle is not None:
            waiting += waiting_in_cycle(user, cycle)
    if follows_decisions(user) and latest_published is not None:
        waiting.append(waiting_decisions(latest_published))
    context["waiting"] = waiting
    context["may_publish"] = user.has_perm("evaluations.publish_cycle")
    return context
