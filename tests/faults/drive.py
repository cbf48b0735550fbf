"""The processes the fault tests kill: ``python -m tests.faults.drive STEP WORKLOAD [ARGS]``.

``prepare`` builds a workload's starting point on the database the environment names (once,
then copied for every run); ``run`` sets Django up, prints ``READY`` and then does exactly what
``manage.py`` does with the workload's command, so that a kill timed from ``READY`` lands in
the command's own work rather than in Python's start-up. The admin's confirmation is posted
through Django's test client, the whole request (middleware, admin view, import) in this
process.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import django


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zonetracker.test_settings")
    django.setup()


ADMIN = "faults-admin"
YEAR = "2023"


def prepare(workload: str, folder: Path, size: int) -> None:
    from django.contrib.auth.models import User
    from django.core.management import call_command

    if workload == "base":
        from bench.data import register_build
        from tests.factories import PASSWORD

        call_command("migrate", verbosity=0)
        # bench's synthetic register: 2022 published, 2023 scored and approved but unranked.
        register_build(size=size)
        User.objects.create_superuser(ADMIN, "", PASSWORD)
    elif workload == "import_scores":
        _scores_taken_out(folder / "scores.csv")
    elif workload == "publish_cycle":
        from evaluations.models import Cycle
        from evaluations.services import rankings_compute

        rankings_compute(cycle=Cycle.objects.get(year=int(YEAR)))
    elif workload == "admin_confirm":
        _previewed(folder / "zones.csv", folder / "confirm.json")
    elif workload == "import_scopes":
        _reporters(folder / "scopes.csv")


def _scores_taken_out(path: Path, zones: int = 150) -> None:
    """The scores of ``zones`` zones of the open cycle written to a file and removed, their
    evaluations back to draft: importing the file puts them back."""
    import csv

    from evaluations.models import Cycle, EvaluationStatus, Score

    cycle = Cycle.objects.get(year=int(YEAR))
    evaluations = cycle.evaluations.filter(
        pk__in=list(cycle.evaluations.order_by("pk").values_list("pk", flat=True)[:zones])
    )
    scores = Score.objects.filter(evaluation__in=evaluations)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["zone", "indicator", "value"])
        for slug, code, value in scores.values_list(
            "evaluation__zone__slug", "indicator__code", "value"
        ).order_by("pk"):
            writer.writerow([slug, code, value])
    scores.delete()
    evaluations.update(
        status=EvaluationStatus.DRAFT, submitted_by=None, submitted_at=None, approved_at=None
    )


def _reporters(path: Path) -> None:
    """A zone reporter for each zone, written to a scopes file that gives them their zone."""
    from django.contrib.auth.models import Group, User

    from registry.models import Zone
    from zonetracker.permissions import ZONE_REPORTER

    group = Group.objects.get(name=ZONE_REPORTER)
    slugs = list(Zone.objects.order_by("pk").values_list("slug", flat=True))
    users = User.objects.bulk_create([User(username=f"reporter-{n}") for n in range(len(slugs))])
    group.user_set.add(*users)
    lines = ["user,zone"] + [
        f"{user.username},{slug}" for user, slug in zip(users, slugs, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _database_restarted_at() -> list[int]:
    """With ``ZONETRACKER_FAULTS_RESTART`` ("VERSION CLUSTER QUERY"), the PostgreSQL cluster
    is restarted (fast: every connection cut) just before the command's QUERY-th query, as a
    restart that lands in the middle of its work; the counter is returned either way."""
    import subprocess

    from django.db import connection

    spec = os.environ.get("ZONETRACKER_FAULTS_RESTART", "")
    version, cluster, at = spec.split() if spec else ("", "", "0")
    count = [0]

    def hook(execute, sql, params, many, context):
        count[0] += 1
        if count[0] == int(at):
            subprocess.run(
                [
                    *("pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart"),
                    *("--", "-m", "fast"),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        return execute(sql, params, many, context)

    connection.execute_wrappers.append(hook)
    return count


def _previewed(batch_file: Path, confirm: Path) -> None:
    """Upload and preview ``batch_file`` in the admin; keep the confirm form's fields."""
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()  # so that the response carries its template context
    client = Client()
    client.force_login(User.objects.get(username=ADMIN))
    response = client.post(
        reverse("admin:registry_zone_import"),
        {
            "import_file": SimpleUploadedFile("zones.csv", batch_file.read_bytes()),
            "format": "0",
        },
    )
    form = response.context["confirm_form"]
    confirm.write_text(json.dumps({**form.initial}, default=str))


def run(workload: str, args: list[str]) -> int:
    print("READY", flush=True)
    if workload == "admin_confirm":
        from django.contrib.auth.models import User
        from django.test import Client
        from django.urls import reverse

        client = Client()
        client.force_login(User.objects.get(username=ADMIN))
        fields = json.loads(Path(args[0]).read_text())
        response = client.post(reverse("admin:registry_zone_process_import"), fields)
        # A confirmed import redirects to the list of zones; a page of 200 explains a refusal.
        if response.status_code == 302:
            return 0
        page = response.content.decode()
        found = re.search(r'<ul class="(?:errorlist|messagelist)[^"]*">(.*?)</ul>', page, re.S)
        print(re.sub(r"<[^>]+>|\s+", " ", found.group(1) if found else page[-500:]).strip())
        return 1
    from django.core.management import execute_from_command_line

    queries = _database_restarted_at()
    try:
        # Django's system checks are skipped: they are start-up, not the command's work.
        execute_from_command_line(["manage.py", workload, "--skip-checks", *args])
    except SystemExit as exit:
        return int(exit.code or 0)
    finally:
        if os.environ.get("ZONETRACKER_FAULTS_QUERIES"):
            print(f"QUERIES {queries[0]}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    step, workload, *args = argv
    _setup()
    if step == "prepare":
        prepare(workload, Path(args[0]), int(args[1]) if len(args) > 1 else 0)
        return 0
    return run(workload, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
