"""One size of the sweep: build a register, time ``rankings_compute`` and the pages.

Run by ``python -m bench`` once per size, each time on a fresh database, and prints one line
of JSON. ``--build-only`` builds and ranks the register and prints what a load test needs (a
session cookie, the URLs) instead of measuring.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from bench.data import (  # noqa: E402
    BenchRegister,
    cycle_publish_quickly,
    register_build,
    session_cookie,
)
from evaluations.models import Evaluation, Score  # noqa: E402
from evaluations.services import rankings_compute  # noqa: E402

# The pages measured, by label: the provisional rankings are timed while the current cycle
# is open, the others once it is published (the rankings then come from the cache).
PROVISIONAL = "/cycles/<year>/rankings/ (provisional)"
PUBLISHED = "/cycles/<year>/rankings/ (published)"


def page_urls(register: BenchRegister) -> tuple[dict[str, str], list[str]]:
    """The pages measured once the current cycle is published, by label, and notes on those
    that do not exist (yet)."""
    year = register.current.year
    urls = {
        "/bench/ping/": reverse("bench_ping"),
        "/zones/": reverse("registry:zone_list"),
        PUBLISHED: reverse("evaluations:cycle_rankings", args=[year]),
        "/cycles/<year>/evaluations/": reverse("evaluations:cycle_evaluations", args=[year]),
        "/cycles/<year>/decisions/": reverse("evaluations:cycle_decisions", args=[year]),
        "/zones/<slug>/": reverse("registry:zone_detail", args=[register.zone_slug]),
    }
    notes = []
    for label, name in OPTIONAL_PAGES.items():
        try:
            urls[label] = reverse(name, args=[year])
        except NoReverseMatch:
            notes.append(f"{label} does not exist in this version: not measured.")
    for label, name in OPTIONAL_LISTS.items():
        try:
            urls[label] = reverse(name)
        except NoReverseMatch:
            notes.append(f"{label} does not exist in this version: not measured.")
    return urls, notes


# Pages that other parts of zonetracker add; measured when they exist.
OPTIONAL_PAGES = {
    "/api/v1/cycles/<year>/results/": "api:cycle_results",
    "/cycles/<year>/what-if/": "evaluations:cycle_what_if",
    "/cycles/<year>/report/": "evaluations:annual_report",
}
# The same, without the year in their address.
OPTIONAL_LISTS = {
    "/api/v1/zones/": "api:zone_list",
}


def seconds_of(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def compute_timings(register: BenchRegister, repetitions: int) -> dict[str, float]:
    """``rankings_compute`` of the current cycle from scratch (every evaluation changes),
    median of ``repetitions``.

    The reference is a plain read of the same scores, the least any ranking must do.
    """
    cycle = register.current
    runs = []
    for _ in range(repetitions):
        Evaluation.objects.filter(cycle=cycle).update(total=None, rank=None, grade=None)
        runs.append(seconds_of(lambda: rankings_compute(cycle=cycle)))
    reads = [
        seconds_of(
            lambda: list(
                Score.objects.filter(evaluation__cycle=cycle).values_list(
                    "evaluation_id", "indicator_id", "value"
                )
            )
        )
        for _ in range(repetitions)
    ]
    return {"seconds": statistics.median(runs), "read_seconds": statistics.median(reads)}


def page_timings(
    register: BenchRegister, urls: dict[str, str], repetitions: int
) -> dict[str, dict[str, float]]:
    """Queries and median time of each page, through Django's test client."""
    client = Client()
    client.force_login(register.approver)
    pages: dict[str, dict[str, float]] = {}
    for label, url in urls.items():
        response = client.get(url)  # also warms caches, as a running server has them warm
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}, not 200")
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        # Counted now: the next request empties the log that the context reads from.
        query_count = len(queries)
        times = [seconds_of(lambda url=url: client.get(url)) for _ in range(repetitions)]
        pages[label] = {
            "queries": query_count,
            "ms": statistics.median(times) * 1000,
            "bytes": len(response.content),
        }
    return pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--compute-only", action="store_true", help="time rankings_compute only, not the pages"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    register = register_build(size=args.size)
    built = time.perf_counter() - started
    if args.build_only:
        # The current cycle ranked but left open: its rankings are provisional, built for
        # each request; the previous cycle's are published, and cached.
        rankings_compute(cycle=register.current)
        report = {
            "size": args.size,
            "setup_seconds": built,
            "cookie": session_cookie(register.approver),
            "urls": {
                "ping": reverse("bench_ping"),
                "published": reverse("evaluations:cycle_rankings", args=[register.previous.year]),
                "provisional": reverse("evaluations:cycle_rankings", args=[register.current.year]),
            },
            "notes": [],
        }
    elif args.compute_only:
        report = {
            "size": args.size,
            "setup_seconds": built,
            "compute": compute_timings(register, args.repetitions),
        }
    else:
        compute = compute_timings(register, args.repetitions)
        year = register.current.year
        provisional = {
            "/bench/ping/": reverse("bench_ping"),
            PROVISIONAL: reverse("evaluations:cycle_rankings", args=[year]),
        }
        pages = page_timings(register, provisional, args.repetitions)
        # The other pages show the current cycle published: movement, decisions, the cache.
        cycle_publish_quickly(register.current, register.approver)
        urls, notes = page_urls(register)
        later = page_timings(register, urls, args.repetitions)
        # Each page is compared with the trivial view timed in the same stretch of the run.
        pages[PROVISIONAL]["ping_ms"] = pages["/bench/ping/"]["ms"]
        for page in later.values():
            page["ping_ms"] = later["/bench/ping/"]["ms"]
        pages.update(later)
        report = {
            "size": args.size,
            "setup_seconds": built,
            "compute": compute,
            "pages": pages,
            "notes": notes,
        }
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
