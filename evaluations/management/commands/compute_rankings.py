"""Recompute the totals, ranks and grades of a cycle that is not published."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.management.commands._cycle import cycle_of
from evaluations.services import rankings_compute
from zonetracker.commands import acting_user, add_user_option


class Command(BaseCommand):
    help = "Recompute totals, ranks and grades of the cycle of YEAR (refused once published)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        add_user_option(parser)

    def handle(self, *args, **options) -> None:
        user = acting_user(options["user"], "evaluations.publish_cycle")
        cycle = cycle_of(options["year"])
        try:
            results = rankings_compute(cycle=cycle, by=user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        ranked = sum(1 for r in results if r.ranked)
        self.stdout.write(
            f"Rankings of {cycle.year}: {ranked} ranked, {len(results) - ranked} not ranked "
            "(a score is missing)."
        )
