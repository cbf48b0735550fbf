"""Import the results of a year graded before zonetracker, as a published cycle."""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError, CommandParser

from evaluations.past_results import RESULTS_FORMAT, results_import
from zonetracker.commands import DatabaseCommand, acting_user, add_user_option
from zonetracker.tables import TableFileError, read_table


class Command(DatabaseCommand):
    help = (
        "Import the results of YEAR, graded before zonetracker, from FILE (CSV in UTF-8 or "
        "GB18030, or XLSX) with the columns zone (试验区 or 综试区: Chinese or English name, "
        "or slug), grade (档次: 1-4 or the grade's Chinese or English name), and optionally "
        "rank (名次), total (总分), decision (处理决定: retain, warn, rectify or exit) and "
        "decided_on (决定日期). The year becomes a published cycle of imported results "
        "(grades as published; no scores kept); a year that exists is refused. All or "
        "nothing: any bad row and nothing is written; every error names the row (the header "
        "is row 1), the column and the problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; write nothing."
        )
        add_user_option(parser)

    def handle(self, *args, **options) -> None:
        user = acting_user(options["user"], "evaluations.import_results")
        try:
            raw = options["file"].read_bytes()
        except OSError as error:
            raise CommandError(f"{options['file']}: {error.strerror}") from None
        try:
            table = read_table(raw, table=RESULTS_FORMAT)
            _check, summary = results_import(
                year=options["year"], table=table, by=user, dry_run=options["dry_run"]
            )
        except TableFileError as error:
            raise CommandError("\n".join(["Nothing was imported.", *error.problems])) from None
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        for notice in summary.notices:
            self.stdout.write(notice)
        if not summary.ok:
            raise CommandError("\n".join(["Nothing was imported.", *summary.errors]))
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write(
                f"Imported the results of {options['year']} as a published cycle: grades as "
                "published; no scores kept."
            )
