"""``manage.py import_scopes FILE [--dry-run]``: give zone reporters and provincial reviewers
their zones and provinces from a table file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from registry.management.commands.import_zones import read_file, report
from registry.scopes import scopes_import
from zonetracker.commands import DatabaseCommand, acting_user, add_user_option


class Command(DatabaseCommand):
    help = (
        "Assign scopes from a CSV or XLSX file with the columns user (用户名), zone (综试区: "
        "Chinese name, English name or slug) and province (省份: code or name); each row names "
        "a zone, a province, or both. Scopes are only added. All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV or XLSX file of scopes")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file without writing anything"
        )
        add_user_option(parser)

    def handle(self, *args: Any, file: Path, dry_run: bool, **options: Any) -> None:
        user = acting_user(options["user"], "registry.add_zonereporter")
        summary = scopes_import(raw=read_file(file), by=user, dry_run=dry_run)
        report(self, summary, dry_run=dry_run, verbosity=options["verbosity"])
