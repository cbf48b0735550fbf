"""Print a cycle's policy as JSON, or change it while the cycle is not published."""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.management.commands._cycle import cycle_of
from evaluations.management.commands._policy import add_policy_options, policy_changes
from evaluations.policy import policy_record
from evaluations.services import cycle_policy_change
from zonetracker.commands import acting_user, add_user_option


class Command(BaseCommand):
    help = (
        "Print the policy of the cycle of YEAR as JSON; with options, change it first "
        "(refused, exit status 1, once the cycle is published)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        add_policy_options(parser)
        add_user_option(parser)

    def handle(self, *args, **options) -> None:
        changes = policy_changes(options)
        cycle = cycle_of(options["year"])
        if changes:
            user = acting_user(options["user"], "evaluations.change_cycle")
            try:
                cycle = cycle_policy_change(cycle=cycle, by=user, policy=changes)
            except (ValidationError, PermissionDenied) as error:
                messages = error.messages if isinstance(error, ValidationError) else [str(error)]
                raise CommandError(" ".join(messages)) from None
        self.stdout.write(json.dumps(policy_record(cycle), ensure_ascii=False, indent=2))
