"""Publish a cycle: freeze it and record the exit rule's recommendations."""

from collections import Counter

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.management.commands._cycle import cycle_of
from evaluations.services import cycle_publish
from zonetracker.commands import acting_user, add_user_option


class Command(BaseCommand):
    help = (
        "Publish the cycle of YEAR once every evaluation is approved (otherwise exit status 1, "
        "naming those that are not): rankings are computed and frozen, and the exit rule's "
        "recommendations are recorded for approvers to decide on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        add_user_option(parser)

    def handle(self, *args, **options) -> None:
        user = acting_user(options["user"], "evaluations.publish_cycle")
        cycle = cycle_of(options["year"])
        try:
            decisions = cycle_publish(cycle=cycle, by=user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        counts = Counter(d.recommendation for d in decisions)
        self.stdout.write(
            f"Published the cycle of {cycle.year}. Recommendations: {counts['warn']} warn, "
            f"{counts['exit']} exit, {counts['lift']} lift a notice."
        )
