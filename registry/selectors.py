"""Reads of the register that pages, exports and the API share, in bounded queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from registry.models import Batch, Zone, ZoneStatus


@dataclass(frozen=True)
class StatusChange:
    """One line of a status history: a zone's in the register, or an evaluation's on its way.

    A line with an empty status tells an event that left the status as it was (a decision
    that retained an active zone, say).
    """

    recorded_at: datetime.datetime
    status: str
    status_label: str
    changed_by: AbstractBaseUser | None
    added: bool
    # The date the change took effect, where the record set it (a zone's status date).
    effective_on: datetime.date | None = None
    # Why, in the words of whoever made the change (an evaluation's return reason).
    reason: str = ""
    # The history record this line was read from; None for a line that changed nothing.
    history_id: int | None = None
    # What another app records as the cause of this line (the evaluations' decision);
    # the register carries it to the page without knowing its kind.
    decision: Any = None

    @property
    def changes_status(self) -> bool:
        return bool(self.status)


def register_figures() -> dict[str, object]:
    """The register in figures: zones by status, how many zones and batches, in two queries."""
    status_counts = Zone.objects.status_counts()
    return {
        "statuses": [
            (status, label, status_counts[status]) for status, label in ZoneStatus.choices
        ],
        "zone_count": sum(status_counts.values()),
        "batch_count": Batch.objects.count(),
    }


def zone_status_changes(zone: Zone) -> list[StatusChange]:
    """The zone's entry into the register and each later change of status, oldest first.

    Read from the zone's history in one query; records that changed other fields (a corrected
    name, say) are left out, since the timeline tells the story of the status alone.
    """
    return status_changes(
        zone.history,
        dict(ZoneStatus.choices),
        reads=["status_changed_on"],
        # The effective date is shown only where a record set it: a date carried over from an
        # earlier change would wrongly date this one.
        effective_on=lambda record, previous: (
            record.status_changed_on
            if previous is None or record.status_changed_on != previous.status_changed_on
            else None
        ),
    )


def status_changes(
    history: models.Manager,
    labels: Mapping[str, str],
    *,
    reads: Iterable[str] = (),
    effective_on: Callable[[Any, Any | None], datetime.date | None] | None = None,
    reason: Callable[[Any], str] | None = None,
) -> list[StatusChange]:
    """The records of ``history`` that created the object or changed its status, oldest first.

    Read in one query with who made each change; ``reads`` names the further fields that
    ``effective_on(record, previous)`` and ``reason(record)`` need to fill those columns.
    """
    records = (
        history.order_by("history_date", "history_id")
        .select_related("history_user")
        .only("history_date", "history_type", "status", "history_user", *reads)
    )
    changes: list[StatusChange] = []
    previous = None
    for record in records:
        added = record.history_type == "+"
        if added or previous is None or record.status != previous.status:
            changes.append(
                StatusChange(
                    recorded_at=record.history_date,
                    status=record.status,
                    status_label=labels.get(record.status, record.status),
                    changed_by=record.history_user,
                    added=added,
                    effective_on=effective_on(record, previous) if effective_on else None,
                    reason=reason(record) if reason else "",
                    history_id=record.history_id,
                )
            )
        previous = record
    return changes


def exit_change(zone: Zone, timeline: list[StatusChange]) -> StatusChange | None:
    """The status change by which an exited zone left, for the banner; None if it has not."""
    if zone.status != ZoneStatus.EXITED:
        return None
    exits = [change for change in timeline if change.status == ZoneStatus.EXITED]
    return exits[-1] if exits else None


def zones_status_histories(zone_ids: Iterable[int]) -> dict[int, list[tuple[str, datetime.date]]]:
    """For each zone, its status from entry into the register and at each change, oldest
    first, as (status, date): the open data's history of status, in one query.

    The date is the status date the record set, else the day the record was made. Who made
    a change is not read: the open data names no one.
    """
    records = (
        Zone.history.model.objects.filter(id__in=list(zone_ids))
        .order_by("id", "history_date", "history_id")
        .values_list("id", "status", "status_changed_on", "history_date")
    )
    histories: dict[int, list[tuple[str, datetime.date]]] = {}
    for zone_id, status, status_changed_on, history_date in records:
        lines = histories.setdefault(zone_id, [])
        if not lines or lines[-1][0] != status:
            lines.append((status, status_changed_on or history_date.date()))
    return histories


def register_changed_at() -> datetime.datetime | None:
    """When anything of the register (a province, a batch, a zone) last changed."""
    from registry.models import Province

    stamps = [
        model.history.model.objects.aggregate(latest=models.Max("history_date"))["latest"]
        for model in (Province, Batch, Zone)
    ]
    return max((stamp for stamp in stamps if stamp is not None), default=None)
