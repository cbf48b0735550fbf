"""Open the evaluation cycle of a year."""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.services import copies_default_framework, cycle_open, previous_cycle
from zonetracker.commands import acting_user, add_user_option


def iso_date(raw: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--cutoff must be a date as YYYY-MM-DD; got {raw!r}.") from None


class Command(BaseCommand):
    help = (
        "Create the cycle of YEAR with the previous cycle's framework (the default framework "
        "for the first, and after a year of imported results, which has none) and one "
        "evaluation for each zone approved on or before the cut-off (default: 31 December of "
        "the year before) that has not exited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument("--cutoff", type=iso_date, default=None)
        add_user_option(parser)

    def handle(self, *args, **options) -> None:
        user = acting_user(options["user"], "evaluations.open_cycle")
        try:
            cycle = cycle_open(year=options["year"], cutoff=options["cutoff"], by=user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        previous = previous_cycle(cycle.year)
        if previous is not None and copies_default_framework(previous):
            self.stdout.write(
                f"The cycle of {previous.year} holds imported results (grades only, no "
                "framework): the default framework was copied."
            )
        self.stdout.write(
            f"Opened the cycle of {cycle.year} (cut-off {cycle.cutoff.isoformat()}): "
            f"{cycle.evaluations.count()} evaluations, {cycle.indicators.count()} indicators."
        )
