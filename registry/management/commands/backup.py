"""Back up the whole database to a file: SQLite's online backup, or pg_dump for PostgreSQL."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the database while the app keeps running. SQLite: a "
        "database file made with SQLite's online backup API. PostgreSQL: a pg_dump archive "
        "(custom format). See the README's 'Backups' section for restoring."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="File to write (default: backups/zonetracker-<time>.sqlite3 or .dump).",
        )

    def handle(self, *args, **options) -> None:
        vendor = connection.vendor
        if vendor not in {"sqlite", "postgresql"}:
            raise CommandError(f"Backups of {vendor} databases are not supported.")
        suffix = "sqlite3" if vendor == "sqlite" else "dump"
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        output = options["output"] or Path(settings.BASE_DIR) / "backups" / (
            f"zonetracker-{stamp}.{suffix}"
        )
        # A backup holds password hashes and sessions: only the owner may read it, and only
        # the owner may list the folder of backups that zonetracker keeps.
        if options["output"] is None:
            output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            output.parent.chmod(0o700)
        elif not output.parent.exists():
            output.parent.mkdir(mode=0o700, parents=True)
        try:
            # Created here, empty and private, before anything is written into it (O_EXCL: an
            # existing file is never overwritten, even by a backup started at the same time).
            os.close(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise CommandError(f"{output} exists already; choose another file.") from None
        previous_umask = os.umask(0o077)
        try:
            if vendor == "sqlite":
                self._sqlite(output)
            else:
                self._postgresql(output)
        except BaseException:
            output.unlink(missing_ok=True)
            raise
        finally:
            os.umask(previous_umask)
        output.chmod(0o600)
        self.stdout.write(f"Backup written to {output} ({output.stat().st_size} bytes).")

    def _sqlite(self, output: Path) -> None:
        connection.ensure_connection()
        target = sqlite3.connect(output)
        try:
            # Copies page by page while other connections go on writing (WAL included).
            connection.connection.backup(target)
        finally:
            target.close()

    def _postgresql(self, output: Path) -> None:
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise CommandError(
                "pg_dump is not installed (Debian: apt-get install postgresql-client)."
            )
        database = connection.settings_dict
        env = {**os.environ}
        if database.get("PASSWORD"):
            env["PGPASSWORD"] = database["PASSWORD"]
        command = [pg_dump, "--format=custom", "--no-owner", "--file", str(output)]
        for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
            if database.get(key):
                command += [flag, str(database[key])]
        command.append(database["NAME"])
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
