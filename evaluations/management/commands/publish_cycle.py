"""Publish a cycle: freeze it and record the exit rule's recommendations."""

from collections import Counter

from django.core.management.base import CommandParser

from evaluations.management.commands._cycle import act_on_cycle
from evaluations.services import cycle_publish
from zonetracker.commands import DatabaseCommand, add_user_option


class Command(DatabaseCommand):
    help = (
        "Publish the cycle of YEAR once every evaluation is approved (otherwise exit status 1, "
        "naming those that are not): rankings are computed and frozen, and the exit rule's "
        "recommendations are recorded for approvers to decide on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        add_user_option(parser)

    def handle(self, *args, **options) -> None:
        cycle, decisions = act_on_cycle(options, "evaluations.publish_cycle", cycle_publish)
        counts = Counter(d.recommendation for d in decisions)
        self.stdout.write(
            f"Published the cycle of {cycle.year}. Recommendations: {counts['warn']} warn, "
            f"{counts['exit']} exit, {counts['lift']} lift a notice."
        )
