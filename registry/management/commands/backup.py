"""Back up the whole database to a file: SQLite's online backup, or pg_dump for PostgreSQL."""

import errno
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from zonetracker.commands import DatabaseCommand

# The ending of the hidden file a backup is written into before it is complete.
PARTIAL = ".partial"


class Command(DatabaseCommand):
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
        if output.exists():
            raise CommandError(f"{output} exists already; choose another file.")
        self._remove_unfinished(output.parent)
        # Written under a hidden name and linked into place once whole: a run killed part-way
        # (a deploy, the disk filling up) never leaves a file that looks like a backup.
        partial = output.with_name(f".{output.name}.{os.getpid()}{PARTIAL}")
        # Created here, empty and private, before anything is written into it (O_EXCL).
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        previous_umask = os.umask(0o077)
        try:
            if vendor == "sqlite":
                self._sqlite(partial)
            else:
                self._postgresql(partial)
            partial.chmod(0o600)
            # A link, unlike a rename, fails rather than overwrite a file made meanwhile (by a
            # backup started at the same time).
            os.link(partial, output)
        except FileExistsError:
            raise CommandError(f"{output} exists already; choose another file.") from None
        except (OSError, sqlite3.Error) as error:
            raise CommandError(_failure(error, output)) from None
        finally:
            _remove_with_journal(partial)
            os.umask(previous_umask)
        self.stdout.write(f"Backup written to {output} ({output.stat().st_size} bytes).")

    def _remove_unfinished(self, folder: Path) -> None:
        """Remove what a backup killed part-way left in ``folder``, saying so; a backup still
        running (its process alive) is left alone."""
        for left in folder.glob(f".*{PARTIAL}"):
            pid = left.name.removesuffix(PARTIAL).rsplit(".", 1)[-1]
            if pid.isdigit() and _running(int(pid)):
                continue
            _remove_with_journal(left)
            self.stderr.write(f"Removed {left}, the unfinished file of an interrupted backup.")

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
            if "No space left on device" in result.stderr:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            said = "; ".join(line.strip() for line in result.stderr.splitlines() if line.strip())
            raise CommandError(f"pg_dump failed: {said}")


def _remove_with_journal(path: Path) -> None:
    """Remove ``path`` and what SQLite may leave beside a database it could not finish writing
    (its rollback journal, or a write-ahead log and its index)."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _failure(error: OSError | sqlite3.Error, output: Path) -> str:
    """What an operator reads when the backup could not be written; nothing was left."""
    code = getattr(error, "sqlite_errorcode", None)
    full = getattr(error, "errno", None) == errno.ENOSPC or code == sqlite3.SQLITE_FULL
    if full:
        return (
            f"The backup did not fit: no space left on the disk of {output.parent}. Nothing "
            "was kept; free some space (or choose another --output) and run it again. The "
            "database is unchanged."
        )
    return f"The backup could not be written to {output}: {error}. Nothing was kept."
