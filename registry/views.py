"""Pages of the register: the home page, the zones, one zone (with its ranks), the batches."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from evaluations.dashboard import home_context as evaluations_home_context
from evaluations.models import Decision
from evaluations.zone_charts import rank_chart, why_this_rank, zone_results
from registry.filters import ZoneFilter, ZoneOrder
from registry.models import Batch, Zone, ZoneStatus

if TYPE_CHECKING:
    # simple-history builds this model at run time; the name is for the type hints alone.
    from registry.models import HistoricalZone

ZONES_PER_PAGE = 50

# How long after a decision the zone's status change it made may be recorded.

# The register's columns with their headers, in the order they are shown; those on
# ZoneOrder's whitelist are sortable.
ZONE_COLUMNS = [
    ("name", _("Zone")),
    ("province", _("Province")),
    ("region", _("Region")),
    ("batch", _("Batch")),
    ("kind", _("Kind")),
    ("status", _("Status")),
]


@dataclass(frozen=True)
class ColumnHeader:
    """A header of the register table: its label, and where a click on it leads."""

    label: str
    order_param: str  # empty for a column that cannot be sorted
    aria_sort: str  # "ascending" or "descending" on the sorted column, empty elsewhere


@dataclass(frozen=True)
class StatusChange:
    """One line of a zone's status timeline."""

    recorded_at: datetime.datetime
    status: str
    status_label: str
    effective_on: datetime.date | None
    changed_by: AbstractBaseUser | None
    added: bool
    # The decision that made this change, or that this line tells when status is empty.
    decision: Decision | None = None

    @property
    def changes_status(self) -> bool:
        return bool(self.status)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    status_counts = Zone.objects.status_counts()
    statuses = [(status, label, status_counts[status]) for status, label in ZoneStatus.choices]
    return render(
        request,
        "home.html",
        {
            "statuses": statuses,
            "zone_count": sum(status_counts.values()),
            "batch_count": Batch.objects.count(),
            # The current cycle's progress and the user's queue; nothing for a Viewer.
            **evaluations_home_context(request.user),
        },
    )


@login_required
def zone_list(request: HttpRequest) -> HttpResponse:
    filterset = ZoneFilter(request.GET, queryset=Zone.objects.with_related())
    order = ZoneOrder.parse(request.GET.get("order"))
    # A filter that could not be read matches nothing: showing the unfiltered register under
    # a filter the user believes applied would mislead more than an empty table with the error.
    zones = order.apply(filterset.qs) if filterset.is_valid() else Zone.objects.none()
    # get_page() turns a page number that is not a number into the first page and one past
    # the end into the last page, so a stale or hand-edited link still shows zones.
    page = Paginator(zones, ZONES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/zone_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "columns": _column_headers(order),
            "order": order,
        },
    )


@login_required
def zone_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One zone: its facts, its status timeline with the decisions behind it, and its ranks.

    Reads a fixed number of queries however many cycles and status changes the zone has.
    """
    zone = get_object_or_404(Zone.objects.with_related(), slug=slug)
    decisions = list(
        Decision.objects.filter(zone=zone, decided_at__isnull=False)
        .exclude(outcome="")
        .select_related("cycle", "decided_by")
        .order_by("decided_at", "pk")
    )
    timeline = _status_timeline(zone, decisions)
    results = zone_results(zone, request.user)
    return render(
        request,
        "registry/zone_detail.html",
        {
            "zone": zone,
            "timeline": timeline,
            "exit_change": _exit_change(zone, timeline),
            "results": results,
            "rank_chart": rank_chart(results),
            "why": why_this_rank(results),
            "shows_demo": any(result.is_demo for result in results),
        },
    )


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = list(Batch.objects.with_zone_counts())
    return render(
        request,
        "registry/batch_list.html",
        {"batches": batches, "zone_total": sum(batch.zone_count for batch in batches)},
    )


def _column_headers(order: ZoneOrder) -> list[ColumnHeader]:
    headers = []
    for column, label in ZONE_COLUMNS:
        if column not in ZoneOrder.COLUMNS:
            headers.append(ColumnHeader(label, "", ""))
            continue
        aria_sort = ""
        if column == order.column:
            aria_sort = "descending" if order.descending else "ascending"
        headers.append(ColumnHeader(label, order.toggled(column).param, aria_sort))
    return headers


def _status_timeline(zone: Zone, decisions: list[Decision]) -> list[StatusChange]:
    """The zone's entry into the register and each later change of status, oldest first.

    Read from the zone's history in one query; records that changed other fields (a corrected
    name, say) are left out, since the timeline tells the story of the status alone. Each
    decision (already read, oldest first) is told with the status change it made, or on its
    own where it left the status as it was.
    """
    records: Iterable[HistoricalZone] = (
        zone.history.order_by("history_date", "history_id")
        .select_related("history_user")
        .only(
            "history_date",
            "history_type",
            "status",
            "status_changed_on",
            "history_user",
            "history_change_reason",
        )
    )
    status_labels = dict(ZoneStatus.choices)
    timeline: list[StatusChange] = []
    previous: HistoricalZone | None = None
    unplaced = list(decisions)
    for record in records:
        added = record.history_type == "+"
        if added or previous is None or record.status != previous.status:
            # The effective date is shown only where this record set it: a date carried over
            # from an earlier change would wrongly date this one.
            date_set = previous is None or record.status_changed_on != previous.status_changed_on
            decision = None if added else _decision_behind(record, unplaced)
            # Decisions taken before this change that changed nothing come first.
            while unplaced and unplaced[0].decided_at <= record.history_date:
                timeline.append(_decision_alone(unplaced.pop(0)))
            timeline.append(
                StatusChange(
                    recorded_at=record.history_date,
                    status=record.status,
                    status_label=status_labels.get(record.status, record.status),
                    effective_on=record.status_changed_on if date_set else None,
                    changed_by=record.history_user,
                    added=added,
                    decision=decision,
                )
            )
        previous = record
    timeline.extend(_decision_alone(decision) for decision in unplaced)
    return timeline


def _decision_behind(record: HistoricalZone, unplaced: list[Decision]) -> Decision | None:
    """The decision that made this status change, taken out of ``unplaced``; or None.

    ``decision_record`` names the decision in the change reason of the zone's history record.
    """
    reason = record.history_change_reason or ""
    for decision in unplaced:
        if reason.startswith(f"decision {decision.pk}:"):
            unplaced.remove(decision)
            return decision
    return None


def _decision_alone(decision: Decision) -> StatusChange:
    """A decision that left the zone's status as it was (retaining an active zone, say)."""
    return StatusChange(
        recorded_at=decision.decided_at,
        status="",
        status_label="",
        effective_on=None,
        changed_by=decision.decided_by,
        added=False,
        decision=decision,
    )


def _exit_change(zone: Zone, timeline: list[StatusChange]) -> StatusChange | None:
    """The status change by which an exited zone left, for the banner; None if it has not."""
    if zone.status != ZoneStatus.EXITED:
        return None
    exits = [change for change in timeline if change.status == ZoneStatus.EXITED]
    return exits[-1] if exits else None
