"""``manage.py import_zones FILE [--dry-run]``: import a batch file of zones from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from registry.importing import zones_import
from zonetracker.commands import DatabaseCommand, acting_user, add_user_option
from zonetracker.tables import ImportSummary


class Command(DatabaseCommand):
    help = (
        "Import a batch file of zones (CSV in UTF-8 or GB18030, or XLSX; see DESIGN §5). "
        "All or nothing: any bad row and nothing is written. Rows are numbered as in a "
        "spreadsheet, the header being row 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV or XLSX file to import")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and report what would change, without writing anything",
        )
        add_user_option(parser)

    def handle(self, *args: Any, file: Path, dry_run: bool, **options: Any) -> None:
        user = acting_user(options["user"], "registry.import_zone")
        raw = read_file(file)
        summary = zones_import(raw=raw, dry_run=dry_run, user=user)
        report(self, summary, dry_run=dry_run, verbosity=options["verbosity"])


def read_file(path: Path) -> bytes:
    """The file's bytes, refusing a missing file or one over the size limit before reading."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise CommandError(_("%(path)s is not a file.") % {"path": path})
        if size > settings.IMPORT_MAX_BYTES:
            raise CommandError(
                _("%(path)s is %(size)s; the largest file accepted is %(max)s.")
                % {
                    "path": path,
                    "size": filesizeformat(size),
                    "max": filesizeformat(settings.IMPORT_MAX_BYTES),
                }
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise CommandError(_("There is no file %(path)s.") % {"path": path}) from None
    except OSError as error:
        raise CommandError(
            _("%(path)s cannot be read: %(error)s") % {"path": path, "error": error.strerror}
        ) from None


def report(
    command: BaseCommand,
    summary: ImportSummary,
    *,
    dry_run: bool,
    verbosity: int,
    label: str = "",
    show_notices: bool = True,
) -> None:
    """Print an import's notices and counts, or its errors and fail with exit status 1."""
    if show_notices and verbosity >= 1:
        for notice in summary.notices:
            command.stdout.write(command.style.WARNING(notice))
    if not summary.ok:
        for error in summary.errors:
            command.stderr.write(error)
        count = len(summary.errors)
        raise CommandError(
            ngettext(
                "%(count)s problem found: nothing was written.",
                "%(count)s problems found: nothing was written.",
                count,
            )
            % {"count": count}
        )
    if verbosity >= 1:
        command.stdout.write(f"{label}{summary.counts()}")
        if dry_run:
            command.stdout.write(_("dry run: nothing was written"))
