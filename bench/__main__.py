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

# Labels of the pages, in the order of the table (bench.sweep measures them).
PING = "/bench/ping/"
PROVISIONAL = "/cycles/<year>/rankings/ (provisional)"
PUBLISHED = "/cycles/<year>/rankings/ (published)"
PAGES = [
    "/zones/",
    PROVISIONAL,
    PUBLISHED,
    "/cycles/<year>/evaluations/",
    "/cycles/<year>/decisions/",
    "/zones/<slug>/",
    "/api/v1/cycles/<year>/results/",
    "/api/v1/zones/",
    "/cycles/<year>/what-if/",
    "/cycles/<year>/report/",
]

# The targets (limits) that the table says are met or missed.
RANKINGS_MS_AT_2000 = 100
GROWTH_LIMIT = 1.5
COMPUTE_SECONDS_AT_10000 = 1.0
IMPORT_RATIO = 3.0
MEMORY_RATIO = 2.0
PUBLISHED_THROUGHPUT_RATIO = 1 / 3
PROVISIONAL_PER_SECOND = 50


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
    parser.add_argument("--repetitions", type=int, default=5, help="timed runs of each figure")
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--serve-size", type=int, default=2_000)
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    parser.add_argument("--no-serve", action="store_true", help="skip the PostgreSQL part")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    started = time.monotonic()

    memory: dict[str, float] = {}
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
        memory["startup"] = run_json(
            ["-m", "bench.memory", "startup"], env=sqlite_env(template), timeout=120
        )["peak_mb"]
        sweep = []
        for size in sizes:
            progress(f"{size:,} zones: building, ranking, requesting the pages")
            database = Path(folder) / f"zones-{size}.sqlite3"
            shutil.copyfile(template, database)
            sweep.append(
                run_json(
                    ["-m", "bench.sweep", f"--size={size}", f"--repetitions={args.repetitions}"],
                    env=sqlite_env(database),
                    timeout=1800,
                )
            )
            if size == max(sizes):
                memory["compute"] = run_json(
                    ["-m", "bench.memory", "compute"], env=sqlite_env(database), timeout=600
                )["peak_mb"]
                memory["compute_size"] = size
            for leftover in Path(folder).glob(f"zones-{size}.sqlite3*"):
                leftover.unlink()
        progress(f"importing a {args.import_rows:,}-row batch file, by command and in the admin")
        imports = run_json(
            [
                "-m",
                "bench.imports",
                f"--template={template}",
                f"--rows={args.import_rows}",
                f"--repetitions={args.repetitions}",
            ],
            env=sqlite_env(Path(folder) / "import.sqlite3"),
            timeout=1800,
        )
        memory["import"] = run_json(
            [
                "-m",
                "bench.imports",
                f"--template={template}",
                f"--rows={args.import_rows}",
                "--memory-only",
            ],
            env=sqlite_env(Path(folder) / "import-memory.sqlite3"),
            timeout=600,
        )["peak_mb"]
    serve = None
    if not args.no_serve:
        progress(f"PostgreSQL: gunicorn under load on {args.serve_size:,} zones; compute_rankings")
        serve = run_json(
            [
                "-m",
                "bench.serve",
                f"--size={args.serve_size}",
                f"--port={args.port}",
                f"--compute-size={max(sizes)}",
            ],
            env={**os.environ},
            timeout=1800,
        )
    print(report(sweep, imports, serve, memory, elapsed=time.monotonic() - started))


# --- the table -------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report(
    sweep: list[dict],
    imports: dict,
    serve: dict | None,
    memory: dict[str, float],
    *,
    elapsed: float,
) -> str:
    lines = [
        f"zonetracker bench, {datetime.datetime.now():%Y-%m-%d %H:%M}: Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cores; {elapsed:.0f} s in all",
        "",
    ]
    sizes = [run["size"] for run in sweep]
    first, last = sweep[0], sweep[-1]
    head = f"{'':<40}{'':<16}" + "".join(f"{f'{size:,} zones':>14}" for size in sizes)
    lines += [head, "-" * len(head)]

    def row(label: str, unit: str, cells: list[str], note: str = "") -> None:
        lines.append(
            f"{label:<40}{unit:<16}" + "".join(f"{cell:>14}" for cell in cells) + f"   {note}"
        )

    row(
        "compute_rankings",
        "seconds",
        [f"{run['compute']['seconds']:.2f}" for run in sweep],
        "SQLite",
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
    measured = [page for page in PAGES if all(page in run["pages"] for run in sweep)]
    for page in measured:
        queries = [run["pages"][page]["queries"] for run in sweep]
        same = "same at every size" if len(set(queries)) == 1 else "NOT the same at every size"
        row(page, "SQL queries", [str(n) for n in queries], same)
        ms = [run["pages"][page]["ms"] for run in sweep]
        row("", "median ms", [f"{value:.0f}" for value in ms])
        row(
            "",
            "× /bench/ping/",
            [f"{run['pages'][page]['ms'] / run['pages'][page]['ping_ms']:.0f}" for run in sweep],
            "(the trivial view, same client, same stretch of the run = 1)",
        )
        row(
            "",
            f"× at {sizes[0]:,}",
            [f"{value / ms[0]:.2f}" for value in ms],
            f"(growth with the register; {sizes[-1] / sizes[0]:.0f}× the zones)",
        )
        row("", "kB of HTML", [f"{run['pages'][page]['bytes'] / 1024:.0f}" for run in sweep])
    lines.append("")
    lines.append(
        f"Import of a {imports['rows']:,}-row batch file ({imports['bytes'] / 1e6:.1f} MB CSV), "
        f"against a plain Zone.objects.bulk_create of the same rows "
        f"({imports['bulk_create_seconds']:.2f} s):"
    )
    lines.append(
        f"    import_zones (registry.importing.zones_import): {imports['import_seconds']:.2f} s "
        f"= {imports['import_ratio']:.2f} ×; the same file again, all unchanged: "
        f"{imports['reimport_seconds']:.2f} s = {imports['reimport_ratio']:.2f} ×"
    )
    lines.append(
        f"    the admin, upload and preview {imports['admin_preview_seconds']:.2f} s + confirm "
        f"{imports['admin_confirm_seconds']:.2f} s = {imports['admin_ratio']:.2f} ×"
    )
    lines.append("")
    lines.append(
        f"Peak memory (ru_maxrss): Django started {memory['startup']:.0f} MB; "
        f"compute_rankings at {memory['compute_size']:,} {memory['compute']:.0f} MB; "
        f"import of {imports['rows']:,} rows {memory['import']:.0f} MB"
    )
    lines.append("")
    loads = None
    if serve is None:
        lines.append("PostgreSQL part: not run (--no-serve).")
    elif "skipped" in serve:
        lines.append(f"PostgreSQL part: skipped, {serve['skipped']}")
    else:
        loads = serve["loads"]
        lines.append(
            f"Served by gunicorn ({serve['workers']} workers, PostgreSQL, {serve['size']:,} "
            f"zones, database {serve['database']}, cache: {serve.get('cache', 'memory')}), "
            f"{serve['connections']} connections, "
            f"medians of {serve['runs']} runs of {serve['requests']} requests:"
        )
        words = {
            "ping": "/bench/ping/",
            "published": "published rankings (cached)",
            "provisional": "provisional rankings (built)",
        }
        for label, load in loads.items():
            lines.append(
                f"    {words[label]}: {load['per_second']:,.1f} requests/s = "
                f"{load['ratio']:.3f} × /bench/ping/ ({load['failures']} failed)"
            )
        notes.update(serve["notes"])
        if "compute" in serve:
            lines.append(
                f"    compute_rankings at {serve['compute']['size']:,} zones: "
                f"{serve['compute']['compute']['seconds']:.2f} s"
            )
    lines.append("")

    # --- every target, met or missed ---------------------------------------------------------
    targets: list[tuple[str, str, bool | None]] = []
    for page in measured:
        queries = {run["pages"][page]["queries"] for run in sweep}
        targets.append(
            (f"{page}: same queries at every size", f"{sorted(queries)}", len(queries) == 1)
        )
        growth = last["pages"][page]["ms"] / first["pages"][page]["ms"]
        targets.append(
            (
                f"{page}: at {sizes[-1]:,} ≤ {GROWTH_LIMIT}× its time at {sizes[0]:,}",
                f"{growth:.2f}×",
                growth <= GROWTH_LIMIT,
            )
        )
    for page in PAGES:
        if page not in measured:
            targets.append((f"{page}: measured", "does not exist in this version", None))
    at_2000 = next((run for run in sweep if run["size"] == 2_000), None)
    if at_2000:
        for page in (PROVISIONAL, PUBLISHED):
            ms = at_2000["pages"][page]["ms"]
            targets.append(
                (
                    f"{page} at 2,000 zones ≤ {RANKINGS_MS_AT_2000} ms",
                    f"{ms:.0f} ms",
                    ms <= RANKINGS_MS_AT_2000,
                )
            )
    compute = last["compute"]["seconds"]
    targets.append(
        (
            f"compute_rankings at {sizes[-1]:,} < {COMPUTE_SECONDS_AT_10000:.0f} s, SQLite",
            f"{compute:.2f} s",
            compute < COMPUTE_SECONDS_AT_10000,
        )
    )
    if serve and "compute" in serve:
        seconds = serve["compute"]["compute"]["seconds"]
        targets.append(
            (
                f"compute_rankings at {serve['compute']['size']:,} < "
                f"{COMPUTE_SECONDS_AT_10000:.0f} s, PostgreSQL",
                f"{seconds:.2f} s",
                seconds < COMPUTE_SECONDS_AT_10000,
            )
        )
    if loads:
        ratio = loads["published"]["ratio"]
        targets.append(
            (
                "published rankings under gunicorn ≥ 1/3 of /bench/ping/'s throughput",
                f"{ratio:.3f}×",
                ratio >= PUBLISHED_THROUGHPUT_RATIO,
            )
        )
        per_second = loads["provisional"]["per_second"]
        targets.append(
            (
                f"provisional rankings under load ≥ {PROVISIONAL_PER_SECOND} requests/s",
                f"{per_second:.1f}/s",
                per_second >= PROVISIONAL_PER_SECOND,
            )
        )
    targets.append(
        (
            f"admin import (upload, preview, confirm) ≤ {IMPORT_RATIO:.0f}× bulk_create",
            f"{imports['admin_ratio']:.2f}×",
            imports["admin_ratio"] <= IMPORT_RATIO,
        )
    )
    targets.append(
        (
            f"import_zones ≤ {IMPORT_RATIO:.0f}× bulk_create",
            f"{imports['import_ratio']:.2f}×",
            imports["import_ratio"] <= IMPORT_RATIO,
        )
    )
    for what, label in (("import", "import of 10,000 rows"), ("compute", "compute_rankings")):
        ratio = memory[what] / memory["startup"]
        targets.append(
            (
                f"peak memory of {label} ≤ {MEMORY_RATIO:.0f}× Django's start-up",
                f"{ratio:.2f}×",
                ratio <= MEMORY_RATIO,
            )
        )
    width = max(len(name) for name, _value, _met in targets)
    lines.append("Targets:")
    for name, value, met in targets:
        status = "not measured" if met is None else verdict(met)
        lines.append(f"    {name:<{width}}  {value:>16}  {status}")
    for note in sorted(notes):
        lines.append(f"Note: {note}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
