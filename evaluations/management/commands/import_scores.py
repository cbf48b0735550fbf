"""Import scores of a cycle from a CSV or XLSX file."""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError, CommandParser

from evaluations.importing import SCORE_FORMAT, scores_import
from evaluations.management.commands._cycle import cycle_of
from zonetracker.commands import DatabaseCommand, acting_user, add_user_option
from zonetracker.tables import TableFileError, read_table


class Command(DatabaseCommand):
    help = (
        "Import scores of the cycle of YEAR from FILE (CSV in UTF-8 or GB18030, or XLSX) with "
        "the columns zone (Chinese or English name, or slug), indicator (code), value and "
        "note (optional). All or nothing: any bad row and nothing is written; every error "
        "names the row (the header is row 1), the column and the problem. A value is a plain "
        "number with a point before its decimals (full-width digits read as ASCII); any comma "
        "is refused, never read as a thousands separator; at most 11 digits before the point "
        "and 4 after it, more decimals refused rather than rounded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; write nothing."
        )
        add_user_option(parser)

    def handle(self, *args, **options) -> None:
        user = acting_user(options["user"], "evaluations.import_scores")
        cycle = cycle_of(options["year"])
        try:
            raw = options["file"].read_bytes()
        except OSError as error:
            raise CommandError(f"{options['file']}: {error.strerror}") from None
        try:
            table = read_table(raw, table=SCORE_FORMAT)
            summary = scores_import(cycle=cycle, table=table, by=user, dry_run=options["dry_run"])
        except TableFileError as error:
            raise CommandError("\n".join(["Nothing was imported.", *error.problems])) from None
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        for notice in summary.notices:
            self.stdout.write(notice)
        if not summary.ok:
            raise CommandError("\n".join(["Nothing was imported.", *summary.errors]))
        self.stdout.write(summary.counts())
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
