"""Report and clear stored score values (and indicator bounds) that no longer fit."""

from django.core.management.base import BaseCommand, CommandParser

from evaluations.repair import unfit_values_repair
from zonetracker.commands import acting_user, add_user_option


class Command(BaseCommand):
    help = (
        "Find stored scores, indicator bounds and their history records whose value does not "
        "fit the value column (at most 11 digits before the decimal point and 4 after it), "
        "which makes every page and command that reads them fail. Each is reported (zone, "
        "cycle, indicator, raw value) and cleared: a score becomes empty with a note and a "
        "history record saying why, and an evaluation already submitted or approved in a "
        "cycle not yet published returns to its reviewer, who enters the value again. "
        "Exit status 0; 'nothing to repair' when every value fits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what does not fit; change nothing."
        )
        add_user_option(parser)

    def handle(self, *args, **options) -> None:
        user = acting_user(options["user"], "evaluations.change_score")
        found = unfit_values_repair(dry_run=options["dry_run"], by=user)
        if not found:
            self.stdout.write("Nothing to repair: every stored value fits.")
            return
        for unfit in found:
            self.stdout.write(f"{unfit.where}: {unfit.raw}")
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {len(found)} values do not fit; nothing was changed.")
        else:
            self.stdout.write(f"{len(found)} values did not fit and were cleared.")
