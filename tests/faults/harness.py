"""Run a process on a copy of a database, kill it with SIGKILL part-way, and read what is left.

A ``Database`` is one engine's side of the harness: a SQLite file or a PostgreSQL database,
copied from a template for every run (a file copy through SQLite's backup API; ``CREATE
DATABASE ... TEMPLATE`` on PostgreSQL). ``fingerprint`` reads what a user would count on the
pages with plain SQL, not through the models under test: counts, totals, history records,
each cycle's status and its recommendations, pending uploads.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
from django.conf import settings

PROJECT = Path(settings.BASE_DIR)
# What a run may take at most before the harness gives up on it (the shared machine is slow).
RUN_TIMEOUT = 240

# Plain SQL over both engines: what must be as before or as after, never between.
FINGERPRINT_SQL: dict[str, str] = {
    "batches": "SELECT COUNT(*) FROM registry_batch",
    "batch history": "SELECT COUNT(*) FROM registry_historicalbatch",
    "zones": "SELECT COUNT(*) FROM registry_zone",
    "zone history": "SELECT COUNT(*) FROM registry_historicalzone",
    "zones by status": (
        "SELECT status, COUNT(*) FROM registry_zone GROUP BY status ORDER BY status"
    ),
    "pending imports": "SELECT COUNT(*) FROM registry_pendingimport",
    "cycles": "SELECT year, status FROM evaluations_cycle ORDER BY year",
    "evaluations by status": (
        "SELECT c.year, e.status, COUNT(*) FROM evaluations_evaluation e"
        " JOIN evaluations_cycle c ON c.id = e.cycle_id GROUP BY c.year, e.status"
        " ORDER BY c.year, e.status"
    ),
    "totals, ranks, grades": (
        "SELECT c.year, COUNT(e.total), SUM(e.total), COUNT(e.rank), SUM(e.rank),"
        " SUM(e.grade) FROM evaluations_evaluation e"
        " JOIN evaluations_cycle c ON c.id = e.cycle_id GROUP BY c.year ORDER BY c.year"
    ),
    "evaluation history": "SELECT COUNT(*) FROM evaluations_historicalevaluation",
    "scores": "SELECT COUNT(*), SUM(value) FROM evaluations_score",
    "score history": "SELECT COUNT(*) FROM evaluations_historicalscore",
    "recommendations": (
        "SELECT c.year, d.recommendation, COUNT(*) FROM evaluations_decision d"
        " JOIN evaluations_cycle c ON c.id = d.cycle_id GROUP BY c.year, d.recommendation"
        " ORDER BY c.year, d.recommendation"
    ),
    "notifications": "SELECT COUNT(*) FROM evaluations_notification",
    "scopes": (
        "SELECT (SELECT COUNT(*) FROM registry_zonereporter),"
        " (SELECT COUNT(*) FROM registry_provincereviewer)"
    ),
}


def _plain(value: Any) -> Any:
    """Numbers as text with no trailing zeros, so SQLite's floats and PostgreSQL's decimals of
    one state compare equal."""
    if isinstance(value, (int, str)) or value is None:
        return value
    return f"{float(value):.4f}"


@dataclass
class Database:
    """One engine's copies: ``name`` is a file path (SQLite) or a database name (PostgreSQL)."""

    vendor: str
    url: str  # the PostgreSQL server's URL without a database name, or "" for SQLite
    folder: Path

    def location(self, label: str) -> str:
        if self.vendor == "sqlite":
            return str(self.folder / f"{label}.sqlite3")
        return f"{self.prefix}_{label}"

    @property
    def prefix(self) -> str:
        return f"{dj_database_url.parse(self.url)['NAME']}_faults"

    def environment(self, label: str) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in {"DATABASE_URL", "SQLITE_PATH", "DJANGO_SETTINGS_MODULE"}
        }
        env["DJANGO_SETTINGS_MODULE"] = "zonetracker.test_settings"
        env["PYTHONPATH"] = str(PROJECT)
        if self.vendor == "sqlite":
            env["SQLITE_PATH"] = self.location(label)
        else:
            env["DATABASE_URL"] = self._url_of(self.location(label))
        return env

    def _url_of(self, name: str) -> str:
        base = self.url.rsplit("/", 1)[0]
        return f"{base}/{name}"

    @contextmanager
    def _server(self) -> Iterator[psycopg.Connection]:
        config = dj_database_url.parse(self.url)
        with psycopg.connect(
            dbname="postgres",
            host=config["HOST"] or None,
            port=config["PORT"] or None,
            user=config["USER"] or None,
            password=config["PASSWORD"] or None,
            autocommit=True,
            connect_timeout=10,
        ) as server:
            yield server

    def create_empty(self, label: str) -> None:
        self.drop(label)
        if self.vendor == "postgresql":
            with self._server() as server:
                server.execute(f'CREATE DATABASE "{self.location(label)}"')

    def copy(self, source: str, label: str) -> None:
        """``label`` becomes a copy of ``source``, whatever it held before."""
        self.drop(label)
        if self.vendor == "sqlite":
            with (
                sqlite3.connect(self.location(source)) as original,
                sqlite3.connect(self.location(label)) as duplicate,
            ):
                original.backup(duplicate)
            return
        with self._server() as server:
            server.execute(
                f'CREATE DATABASE "{self.location(label)}" TEMPLATE "{self.location(source)}"'
            )

    def drop(self, label: str) -> None:
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(self.location(label) + suffix).unlink(missing_ok=True)
            return
        with self._server() as server:
            server.execute(f'DROP DATABASE IF EXISTS "{self.location(label)}" WITH (FORCE)')

    def fingerprint(self, label: str) -> dict[str, Any]:
        """What the database holds, by ``FINGERPRINT_SQL``; opening a SQLite file that a killed
        process left mid-transaction rolls its journal back, as the next process would."""
        if self.vendor == "sqlite":
            connection = sqlite3.connect(self.location(label))
        else:
            config = dj_database_url.parse(self._url_of(self.location(label)))
            connection = psycopg.connect(
                dbname=config["NAME"],
                host=config["HOST"] or None,
                port=config["PORT"] or None,
                user=config["USER"] or None,
                password=config["PASSWORD"] or None,
            )
        try:
            cursor = connection.cursor()
            found = {}
            for name, sql in FINGERPRINT_SQL.items():
                cursor.execute(sql)
                found[name] = [tuple(_plain(v) for v in row) for row in cursor.fetchall()]
            return found
        finally:
            connection.close()


@dataclass(frozen=True)
class Outcome:
    """How one run ended: its exit status (None when killed), output, and the time it took from
    READY to its end or to the kill."""

    status: int | None
    seconds: float
    output: str


def prepare(database: Database, label: str, workload: str, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.faults.drive", "prepare", workload, *args],
        cwd=PROJECT,
        env=database.environment(label),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT * 2,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def run(
    database: Database, label: str, command: list[str], *, kill_after: float | None = None
) -> Outcome:
    """Run ``command`` (a ``drive run`` line, or any process that prints READY first) on the
    copy ``label``; with ``kill_after``, SIGKILL its whole process group that many seconds
    after READY, as a deploy's supervisor kills a service (pg_dump, a child, dies with it)."""
    process = subprocess.Popen(
        command,
        cwd=PROJECT,
        env=database.environment(label),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    started = time.monotonic()
    if first.strip() != "READY":
        process.wait(RUN_TIMEOUT)
        raise AssertionError(f"the process did not start: {first}{process.stdout.read()}")
    if kill_after is not None:
        try:
            process.wait(kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(RUN_TIMEOUT)
            elapsed = time.monotonic() - started
            return Outcome(status=None, seconds=elapsed, output=process.stdout.read())
    try:
        process.wait(RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    elapsed = time.monotonic() - started
    return Outcome(status=process.returncode, seconds=elapsed, output=process.stdout.read())
