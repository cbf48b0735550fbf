"""Write a cycle's rankings to standard output as CSV or JSON."""

from django.core.management.base import BaseCommand, CommandParser

from evaluations.management.commands._cycle import cycle_of
from evaluations.rankings import EXPORT_COLUMNS, ranking_rows, rankings_dataset
from zonetracker.tables import table_text


class Command(BaseCommand):
    help = (
        "Write the rankings of the cycle of YEAR to standard output, with the columns "
        + ",".join(EXPORT_COLUMNS)
        + ". zone is the English name, grade 1-4, recommendation empty, warn or exit, "
        "decision empty, retain, warn, rectify or exit; cells that do not apply are empty."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args, **options) -> None:
        cycle = cycle_of(options["year"])
        dataset = rankings_dataset(ranking_rows(cycle))
        ending = "\n" if options["format"] == "json" else ""
        self.stdout.write(table_text(dataset, options["format"]), ending=ending)
