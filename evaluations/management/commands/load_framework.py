"""Load the default indicator framework from fixtures/framework.csv."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.framework import DEFAULT_FRAMEWORK, framework_load


class Command(BaseCommand):
    help = (
        "Load the default indicator framework (the one the first cycle copies); idempotent. "
        "Indicators edited in the admin are kept unless --reset is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=DEFAULT_FRAMEWORK)
        parser.add_argument(
            "--reset", action="store_true", help="Overwrite edited indicators with the file's."
        )

    def handle(self, *args, **options) -> None:
        try:
            counts = framework_load(options["file"], reset=options["reset"])
        except (OSError, ValidationError) as error:
            message = "; ".join(error.messages) if isinstance(error, ValidationError) else error
            raise CommandError(f"Framework not loaded: {message}") from None
        self.stdout.write(
            f"Indicator framework: {counts.new} new, {counts.updated} updated, "
            f"{counts.unchanged} unchanged, {counts.kept} kept as edited."
        )
