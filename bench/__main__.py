"""``python -m bench`` (``make bench``): the whole benchmark, and its table.

Each part runs in a process of its own, on a database of its own: the size sweep on SQLite
files in a temporary folder (one fresh copy of a migrated database per size), the import on
another, the load test on a PostgreSQL database that it creates and drops. Nothing is left
behind: the folder is removed, gunicorn is stopped, the database dropped.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# The sizes of the sweep (bench.data.SIZES, not imported here: it needs Django set up).
SIZES = (165, 2_000, 10_000)

# Labels of the pages, in the order of the table.
PING = "/bench/ping/"
PAGES = ["/zones/", "/cycles/<year>/rankings/", "/cycles/<year>/evaluations/", "/zones/<slug>/"]


def run_json(command: list[str], *, env: dict[str, str], timeout: float) -> dict:
    """Run one part of the bench and read the JSON line it prints last."""
    done = subprocess.run(
        [sys.executable, *command],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-4000:]}{done.stdout[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def sqlite_env(path: Path) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "SQLITE_PATH": str(path)}
    env.pop("DATABASE_URL", None)
    return env


def progress(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sizes", default=",".join(str(size) for size in SIZES), help="zones, comma-separated"
    )
    parser.add_argument("--repetitions", type=int, default=5, help="requests timed per page")
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--serve-size", type=int, default=2_000)
    parser.add_argument("--serve-seconds", type=float, default=10)
    parser.add_argument("--no-serve", action="store_true", help="skip the gunicorn load test")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="zonetracker-bench-") as folder:
        template = Path(folder) / "migrated.sqlite3"
        progress("migrating a fresh SQLite database")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=PROJECT,
            env=sqlite_env(template),
            check=True,
            timeout=300,
        )
        sweep = []
        for size in sizes:
            progress(f"{size:,} zones: building, ranking, requesting the pages")
            database = Path(folder) / f"zones-{size}.sqlite3"
            shutil.copyfile(template, database)
            sweep.append(
                run_json(
                    ["-m", "bench.sweep", f"--size={size}", f"--repetitions={args.repetitions}"],
                    env=sqlite_env(database),
                    timeout=900,
                )
            )
            for leftover in Path(folder).glob(f"zones-{size}.sqlite3*"):
                leftover.unlink()
        progress(f"importing a {args.import_rows:,}-row batch file")
        imports = run_json(
            ["-m", "bench.imports", f"--template={template}", f"--rows={args.import_rows}"],
            env=sqlite_env(Path(folder) / "import.sqlite3"),
            timeout=600,
        )
    serve = None
    if not args.no_serve:
        progress(f"gunicorn on PostgreSQL, {args.serve_size:,} zones, under load")
        serve = run_json(
            [
                "-m",
                "bench.serve",
                f"--size={args.serve_size}",
                f"--seconds={args.serve_seconds}",
            ],
            env={**os.environ},
            timeout=900,
        )
    print(report(sweep, imports, serve, elapsed=time.monotonic() - started))


# --- the table -------------------------------------------------------------------------------


def report(sweep: list[dict], imports: dict, serve: dict | None, *, elapsed: float) -> str:
    lines = [
        f"zonetracker bench, {datetime.datetime.now():%Y-%m-%d %H:%M}: Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cores; {elapsed:.0f} s in all",
        "",
    ]
    sizes = [run["size"] for run in sweep]
    head = f"{'':<30}{'':<16}" + "".join(f"{f'{size:,} zones':>14}" for size in sizes)
    lines += [head, "-" * len(head)]

    def row(label: str, unit: str, cells: list[str], note: str = "") -> None:
        lines.append(
            f"{label:<30}{unit:<16}" + "".join(f"{cell:>14}" for cell in cells) + f"   {note}"
        )

    row(
        "compute_rankings",
        "seconds",
        [f"{run['compute']['seconds']:.2f}" for run in sweep],
        "target < 2 s at 10,000",
    )
    row(
        "",
        "× reading scores",
        [f"{run['compute']['seconds'] / run['compute']['read_seconds']:.1f}" for run in sweep],
        "(the plain read of the cycle's scores = 1)",
    )
    notes: set[str] = set()
    for run in sweep:
        notes.update(run["notes"])
    for page in PAGES:
        if not all(page in run["pages"] for run in sweep):
            continue
        queries = [run["pages"][page]["queries"] for run in sweep]
        same = "same at every size" if len(set(queries)) == 1 else "NOT the same at every size"
        row(page, "SQL queries", [str(n) for n in queries], same)
        ms = [run["pages"][page]["ms"] for run in sweep]
        target = ""
        if page == "/cycles/<year>/rankings/":
            target = "target < 300 ms at 2,000"
        row("", "median ms", [f"{value:.0f}" for value in ms], target)
        row(
            "",
            "× /bench/ping/",
            [f"{run['pages'][page]['ms'] / run['pages'][PING]['ms']:.0f}" for run in sweep],
            "(the trivial view, same client, same run = 1)",
        )
        row(
            "",
            f"× at {sizes[0]:,}",
            [f"{value / ms[0]:.1f}" for value in ms],
            f"(growth with the register; {sizes[-1] / sizes[0]:.0f}× the zones)",
        )
        row("", "kB of HTML", [f"{run['pages'][page]['bytes'] / 1024:.0f}" for run in sweep])
    lines.append("")
    lines.append(
        f"Import of a {imports['rows']:,}-row batch file ({imports['bytes'] / 1e6:.1f} MB CSV) "
        "through registry.importing.zones_import, as import_zones runs it:"
    )
    lines.append(
        f"    {imports['import_seconds']:.2f} s = {imports['import_ratio']:.1f} × a plain "
        f"Zone.objects.bulk_create of the same rows ({imports['bulk_create_seconds']:.2f} s)"
        "   target ≤ 3×"
    )
    lines.append(
        f"    the same file again, all unchanged: {imports['reimport_seconds']:.2f} s = "
        f"{imports['reimport_ratio']:.1f} ×"
    )
    lines.append("")
    if serve is None:
        lines.append("gunicorn load test: not run (--no-serve).")
    elif "skipped" in serve:
        lines.append(f"gunicorn load test: skipped, {serve['skipped']}")
    else:
        loads = serve["loads"]
        ping = loads["ping"]
        lines.append(
            f"Served by gunicorn ({serve['workers']} workers, PostgreSQL, {serve['size']:,} "
            f"zones), {serve['connections']} connections for {serve['seconds']:.0f} s "
            f"({ping['tool']}):"
        )
        lines.append(
            f"    /bench/ping/: {ping['per_second']:,.0f} requests/s ({ping['failures']} failed)"
        )
        if "rankings" in loads:
            rankings = loads["rankings"]
            lines.append(
                f"    /cycles/<year>/rankings/: {rankings['per_second']:,.1f} requests/s = "
                f"{rankings['per_second'] / ping['per_second']:.4f} × /bench/ping/ "
                f"({rankings['failures']} failed)"
            )
        notes.update(serve["notes"])
    for note in sorted(notes):
        lines.append(f"Note: {note}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
