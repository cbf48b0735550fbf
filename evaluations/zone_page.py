"""What the evaluations add to the zone page: its ranks by year, why its latest rank, and the
decisions behind its status changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from django.http import HttpRequest

from evaluations.selectors import timeline_with_decisions, zone_decisions
from evaluations.zone_charts import imported_latest, rank_chart, why_this_rank, zone_results
from registry.models import Zone
from registry.selectors import StatusChange


def zone_page_section(
    request: HttpRequest, zone: Zone, context: Mapping[str, object]
) -> dict[str, object]:
    """The zone's results the user may see, with their chart and explanation, and its status
    timeline with the decisions woven in; a fixed number of queries.
    """
    timeline = cast(list[StatusChange], context["timeline"])
    results = zone_results(zone, request.user)
    return {
        "template": "evaluations/includes/zone_results.html",
        "timeline": timeline_with_decisions(timeline, zone_decisions(zone)),
        "results": results,
        "rank_chart": rank_chart(results),
        "why": why_this_rank(results),
        "why_imported": imported_latest(results),
        "shows_demo": any(result.is_demo for result in results),
    }
