"""Print what another policy would do to a cycle's grades and recommendations; writes nothing."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.management.commands._cycle import cycle_of
from evaluations.management.commands._policy import add_policy_options, policy_changes
from evaluations.policy import trial_cycle, trial_of, what_if, what_if_dataset
from zonetracker.tables import table_text


class Command(BaseCommand):
    help = (
        "For every zone of the cycle of YEAR: zone, rank, grade, recommendation under the "
        "cycle's policy, and trial_grade, trial_recommendation under the policy the options "
        "describe (the cycle's own where an option is not given). Writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        add_policy_options(parser)
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args, **options) -> None:
        cycle = cycle_of(options["year"])
        try:
            trial = trial_of(trial_cycle(cycle, policy_changes(options)))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        dataset = what_if_dataset(what_if(cycle=cycle, trial=trial).rows)
        ending = "\n" if options["format"] == "json" else ""
        self.stdout.write(table_text(dataset, options["format"]), ending=ending)
