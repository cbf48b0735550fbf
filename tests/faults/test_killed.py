"""Every import, publication and backup killed with SIGKILL part-way: as before or as after.

For each workload of ``WORKLOADS`` the harness builds its starting point once, runs it to the
end on a copy to learn its normal time and what "after" looks like, then on fresh copies kills
it (SIGKILL to its process group) at fractions of that time. What is left must equal the
state before or the state after, never something between; running it again must end as a
normal run does; nothing (a pending upload, a partial backup) may stand in its way. On the
suite's own engine: SQLite files, or databases beside the suite's on its PostgreSQL server.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from registry.importing import COLUMN_NAMES
from tests.faults.harness import PROJECT, Database, Outcome, prepare, run

pytestmark = pytest.mark.faults

# Big enough that a kill lands in the middle of the work (2,400 scores, 3,000 zones), small
# enough that the whole table runs in a minute or two per engine.
ZONES = 1_000
NEW_ZONES = 3_000
FRACTIONS = (0.1, 0.3, 0.7)
DRIVE = [sys.executable, "-m", "tests.faults.drive", "run"]


def batch_file(rows: int) -> bytes:
    """A batch file of ``rows`` new zones in three new batches (DESIGN §5)."""
    provinces = [
        line["code"]
        for line in csv.DictReader(
            (PROJECT / "fixtures" / "provinces.csv").read_text(encoding="utf-8").splitlines()
        )
    ]
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES[:7])
    for n in range(rows):
        number = 8 + n * 3 // rows
        writer.writerow(
            [
                number,
                f"2024-0{number - 7}-15",
                f"故障测试〔2024〕{number}号",
                f"故障试验区{n:05d}",
                f"Fault Zone {n:05d}",
                provinces[n % len(provinces)],
                "city",
            ]
        )
    return text.getvalue().encode("utf-8")


@dataclass(frozen=True)
class Workload:
    """One command as the harness drives it.

    ``command(folder, label)`` is the process line; ``prepared`` says whether ``drive prepare``
    builds its starting point; ``writes`` is False for a command that must leave the database
    as it found it; ``done_status`` is the exit status of running it again once it finished
    (1 where the command refuses to repeat itself with a message, as publishing twice does);
    ``check`` looks at what the run left outside the database.
    """

    name: str
    command: Callable[[Path, str], list[str]]
    prepared: bool = False
    writes: bool = True
    done_status: int = 0
    check: Callable[[Path, str, Outcome], str] | None = None
    files: dict[str, Callable[[], bytes]] = field(default_factory=dict)


def backup_check(folder: Path, label: str, outcome: Outcome) -> str:
    """A finished backup is whole (it restores: SQLite opens it, pg_restore lists it); a killed
    one leaves no file under the backup's name, at most its hidden partial file, which the
    next run removes with a message."""
    written = [p for p in folder.iterdir() if p.name.startswith(f"backup-{label}")]
    partial = list(folder.glob(".*.partial"))
    if label.endswith("-again"):
        assert not partial, "the next backup left the partial file in place"
    if outcome.status is None and not written:
        return "no backup file" + (", a hidden partial one" if partial else "")
    assert len(written) == 1, written
    if written[0].suffix == ".sqlite3":
        import sqlite3

        with sqlite3.connect(written[0]) as copy:
            assert copy.execute("SELECT COUNT(*) FROM registry_zone").fetchone()[0] >= ZONES
    else:
        listing = subprocess.run(
            ["pg_restore", "--list", str(written[0])], capture_output=True, text=True, check=False
        )
        assert listing.returncode == 0, listing.stderr
        assert "TABLE DATA public registry_zone" in listing.stdout
    return "whole backup file"


def results_file(zones: int) -> bytes:
    """A results file of 2021 (DESIGN §5) for the register's zones approved by its cut-off
    (bench.data's first five batches): grades in rank order, a total for most, a rank for
    every one."""
    eligible = [n for n in range(1, zones + 1) if n % 7 < 5]
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["zone", "grade", "rank", "total"])
    for place, n in enumerate(eligible, start=1):
        grade = 1 + 4 * (place - 1) // len(eligible)
        total = "" if place % 10 == 0 else f"{95 - 60 * place / len(eligible):.2f}"
        writer.writerow([f"synthetic-zone-{n:05d}", grade, place, total])
    return text.getvalue().encode("utf-8")


def _backup_command(folder: Path, label: str) -> list[str]:
    suffix = "sqlite3" if connection_vendor() == "sqlite" else "dump"
    return [*DRIVE, "backup", "--output", str(folder / f"backup-{label}.{suffix}")]


WORKLOADS = [
    Workload(
        "import_zones",
        lambda folder, label: [*DRIVE, "import_zones", str(folder / "zones.csv")],
        files={"zones.csv": lambda: batch_file(NEW_ZONES)},
    ),
    Workload(
        "import_scores",
        lambda folder, label: [*DRIVE, "import_scores", "2023", str(folder / "scores.csv")],
        prepared=True,
    ),
    Workload("compute_rankings", lambda folder, label: [*DRIVE, "compute_rankings", "2023"]),
    Workload(
        "publish_cycle",
        lambda folder, label: [*DRIVE, "publish_cycle", "2023"],
        prepared=True,
        done_status=1,
    ),
    Workload("backup", _backup_command, writes=False, check=backup_check),
    Workload(
        "admin_confirm",
        lambda folder, label: [*DRIVE, "admin_confirm", str(folder / "confirm.json")],
        prepared=True,
        done_status=1,
        files={"zones.csv": lambda: batch_file(NEW_ZONES // 3)},
    ),
    Workload(
        "import_results",
        lambda folder, label: [*DRIVE, "import_results", "2021", str(folder / "results.csv")],
        # Once imported, the year exists: a second import is refused with a message.
        done_status=1,
        files={"results.csv": lambda: results_file(ZONES)},
    ),
]


def connection_vendor() -> str:
    return settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1].replace("sqlite3", "sqlite")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """The suite's engine, with the base register built once: ``ZONES`` zones, 2022 published
    and 2023 scored and approved (bench.data's register)."""
    vendor = connection_vendor()
    url = os.environ.get("DATABASE_URL", "") if vendor == "postgresql" else ""
    database = Database(vendor=vendor, url=url, folder=tmp_path_factory.mktemp("faults"))
    database.create_empty("base")
    prepare(database, "base", "base", str(database.folder), str(ZONES))
    yield database
    for label in ("base", "before", "run"):
        database.drop(label)


def differences(found: dict, expected: dict) -> dict:
    return {name: (found[name], expected[name]) for name in found if found[name] != expected[name]}


REPORT = (
    Path(os.environ.get("ZONETRACKER_FAULTS_REPORT", ""))
    if os.environ.get("ZONETRACKER_FAULTS_REPORT")
    else None
)


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_a_killed_run_leaves_the_state_before_or_after_and_runs_again(
    database: Database, workload: Workload
):
    folder = database.folder / workload.name
    folder.mkdir()
    for name, content in workload.files.items():
        (folder / name).write_bytes(content())
    database.copy("base", "before")
    if workload.prepared:
        prepare(database, "before", workload.name, str(folder))
    before = database.fingerprint("before")

    database.copy("before", "run")
    normal = run(database, "run", workload.command(folder, "normal"))
    assert normal.status == 0, normal.output
    after = database.fingerprint("run")
    if workload.check:
        workload.check(folder, "normal", normal)
    if workload.writes:
        assert after != before
    else:
        assert after == before

    lines = [f"{workload.name} {database.vendor}: normal run {normal.seconds:.2f} s"]
    killed = 0
    for fraction in FRACTIONS:
        label = f"kill{int(fraction * 100)}"
        database.copy("before", "run")
        outcome = run(
            database, "run", workload.command(folder, label), kill_after=fraction * normal.seconds
        )
        left = database.fingerprint("run")
        assert left in (before, after), (
            f"killed at {outcome.seconds:.2f} s, the data is neither as before nor as after: "
            f"{differences(left, before)}"
        )
        state = "before" if left == before else "after"
        if workload.writes and before == after:
            state = "unchanged"
        extra = workload.check(folder, label, outcome) if workload.check else ""
        killed += outcome.status is None

        again = run(database, "run", workload.command(folder, f"{label}-again"))
        expected_status = workload.done_status if state == "after" and workload.writes else 0
        assert again.status == expected_status, again.output
        assert database.fingerprint("run") == after, "running again did not end as a normal run"
        if workload.check:
            workload.check(folder, f"{label}-again", again)
        lines.append(
            f"  {'killed' if outcome.status is None else 'finished'} at {outcome.seconds:.2f} s"
            f" ({fraction:.0%}): as {state}{'; ' + extra if extra else ''};"
            f" again: exit {again.status} in {again.seconds:.2f} s, as after"
            f"{'; ' + again.output.strip().splitlines()[-1] if again.status else ''}"
            f"{'; ' + again.output.strip().splitlines()[0] if 'Removed' in again.output else ''}"
        )
    print("\n".join(lines))
    if REPORT:
        with REPORT.open("a", encoding="utf-8") as report:
            report.write(json.dumps({"lines": lines}) + "\n")
    assert killed >= 2, "the run ended before most kills: make the workload bigger"
