"""Peak memory of one process: Django started, or ``rankings_compute`` of a built register.

Run by ``python -m bench`` in a process of its own for each figure, so that each peak is that
of one thing: ``startup`` sets Django up and loads its URLs (what every process of the app
holds before its first request); ``compute`` recomputes the current cycle of the register
that the sweep built in ``SQLITE_PATH``, from scratch. Prints one line of JSON: the peak
resident memory in MB (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")


def peak_mb() -> float:
    # Linux reports kB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["startup", "compute"])
    parser.add_argument("--year", type=int, default=2023)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (loads every view module, as a first request does)
    if args.what == "compute":
        from evaluations.models import Cycle, CycleStatus, Evaluation
        from evaluations.services import rankings_compute

        # The sweep published the cycle when it was done with it: open it again.
        Cycle.objects.filter(year=args.year).update(status=CycleStatus.OPEN)
        cycle = Cycle.objects.get(year=args.year)
        Evaluation.objects.filter(cycle=cycle).update(total=None, rank=None, grade=None)
        before = peak_mb()
        rankings_compute(cycle=cycle)
        json.dump({"before_mb": before, "peak_mb": peak_mb()}, sys.stdout)
    else:
        json.dump({"peak_mb": peak_mb()}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
