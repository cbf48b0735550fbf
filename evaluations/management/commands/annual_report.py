"""Write the annual report of a published cycle as a PDF."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from evaluations.management.commands._cycle import cycle_of
from evaluations.report_pdf import pdf_problem, report_pdf

LANGUAGES = ("zh-hans", "en")


class Command(BaseCommand):
    help = (
        "Write the annual report of the published cycle of YEAR as a PDF, in Chinese "
        "(--lang zh-hans) or English (--lang en), to --out FILE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument("--lang", choices=LANGUAGES, default="zh-hans")
        parser.add_argument("--out", required=True, type=Path, help="The PDF file to write.")

    def handle(self, *args, **options) -> None:
        cycle = cycle_of(options["year"])
        if not cycle.is_published:
            raise CommandError(f"The cycle of {cycle.year} is not published: it has no report.")
        problem = pdf_problem()
        if problem:
            raise CommandError(f"WeasyPrint cannot make a PDF on this machine: {problem}")
        with translation.override(options["lang"]):
            pdf = report_pdf(cycle)
        options["out"].write_bytes(pdf)
        self.stdout.write(f"Wrote {options['out']} ({len(pdf):,} bytes).")
