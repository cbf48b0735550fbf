"""Recompute the totals, ranks and grades of a cycle that is not published."""

from django.core.management.base import CommandParser

from evaluations.management.commands._cycle import act_on_cycle
from evaluations.services import rankings_compute
from zonetracker.commands import DatabaseCommand, add_user_option


class Command(DatabaseCommand):
    help = "Recompute totals, ranks and grades of the cycle of YEAR (refused once published)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        add_user_option(parser)

    def handle(self, *args, **options) -> None:
        cycle, results = act_on_cycle(options, "evaluations.publish_cycle", rankings_compute)
        ranked = sum(1 for r in results if r.ranked)
        self.stdout.write(
            f"Rankings of {cycle.year}: {ranked} ranked, {len(results) - ranked} not ranked "
            "(a score is missing)."
        )
