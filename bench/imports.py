"""The import of a 10,000-row batch file, against a plain bulk_create of the same rows.

Run by ``python -m bench`` with ``SQLITE_PATH`` pointing at a scratch file and ``--template``
at a migrated, empty database: every timing starts from a fresh copy of it. Prints one line
of JSON.

The import goes through ``registry.importing.zones_import``, what ``manage.py import_zones``
and ``load_register`` call: reading the CSV, checking every row, writing zones and batches
with their history. The reference is the least a loader could do with the same rows already
parsed: build the ``Zone`` objects (slug included) and ``Zone.objects.bulk_create`` them, with
no check and no history.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.text import slugify  # noqa: E402

from registry.importing import (  # noqa: E402
    COLUMN_NAMES,
    provinces_import,
    zones_import,
)
from registry.models import Batch, Province, Zone  # noqa: E402

# Batches of the file: new to the register, so the import creates them as well.
FIRST_BATCH = 8
ZONES_PER_BATCH = 2_000
ADMIN_USERNAME = "bench-administrator"


def batch_file(rows: int) -> tuple[bytes, list[tuple]]:
    """A batch file of ``rows`` new zones (CSV, UTF-8) and the same rows as plain tuples."""
    provinces = list(Province.objects.order_by("code").values_list("code", "name_zh"))
    records = []
    for n in range(rows):
        number = FIRST_BATCH + n // ZONES_PER_BATCH
        code, province = provinces[n % len(provinces)]
        records.append(
            (
                number,
                f"2023-{number - FIRST_BATCH + 1:02d}-15",
                f"合成文号〔2023〕{number}号",
                f"导入试验区{n:05d}",
                f"Imported Zone {n:05d}",
                province,
                "city",
                code,
            )
        )
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    writer.writerows(record[:7] for record in records)
    return text.getvalue().encode("utf-8"), records


def fresh_database(template: Path) -> None:
    """Start again from the template: migrated, then the 31 provinces."""
    connection.close()
    target = Path(settings.DATABASES["default"]["NAME"])
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)
    provinces_import(raw=(settings.BASE_DIR / "fixtures" / "provinces.csv").read_bytes())


def plain_bulk_create(records: list[tuple]) -> float:
    """Seconds to bulk_create the rows, their batches and provinces looked up beforehand."""
    province_ids = dict(Province.objects.values_list("code", "pk"))
    batch_ids = {
        number: Batch.objects.create(number=number, approved_on=approved_on).pk
        for number, approved_on in {(r[0], r[1]) for r in records}
    }
    started = time.perf_counter()
    with transaction.atomic():
        Zone.objects.bulk_create(
            [
                Zone(
                    name_zh=name_zh,
                    name_en=name_en,
                    slug=slugify(name_en),
                    province_id=province_ids[code],
                    batch_id=batch_ids[number],
                    kind=kind,
                )
                for number, _date, _doc, name_zh, name_en, _province, kind, code in records
            ],
            batch_size=1000,
        )
    return time.perf_counter() - started


def timed_import(raw: bytes, expected: tuple[int, int, int]) -> float:
    started = time.perf_counter()
    summary = zones_import(raw=raw)
    seconds = time.perf_counter() - started
    counts = (summary.new, summary.updated, summary.unchanged)
    if not summary.ok or counts != expected:
        raise SystemExit(f"the import did not do what was expected: {counts} {summary.errors[:5]}")
    return seconds


def admin_import(raw: bytes, rows: int) -> tuple[float, float]:
    """Seconds of the admin's upload with its preview, and of its confirmation, of ``raw``.

    Through Django's test client, as an administrator's browser sends them; the confirmation
    posts back the hidden fields of the preview's form.
    """
    user = User.objects.filter(username=ADMIN_USERNAME).first() or User.objects.create_superuser(
        ADMIN_USERNAME, email="", password=None
    )
    client = Client()
    client.force_login(user)
    upload = SimpleUploadedFile("zones.csv", raw, content_type="text/csv")
    started = time.perf_counter()
    preview = client.post(
        reverse("admin:registry_zone_import"),
        {"resource": "0", "format": "0", "import_file": upload},
    )
    previewed = time.perf_counter() - started
    page = preview.content.decode()
    if preview.status_code != 200 or "process_import" not in page:
        raise SystemExit(f"the admin's preview failed ({preview.status_code})")
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    started = time.perf_counter()
    confirmed = client.post(reverse("admin:registry_zone_process_import"), hidden)
    seconds = time.perf_counter() - started
    if confirmed.status_code != 302 or Zone.objects.count() < rows:
        raise SystemExit(f"the admin's confirmation failed ({confirmed.status_code})")
    return previewed, seconds


def peak_memory_mb() -> float:
    """The peak resident memory of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument(
        "--memory-only",
        action="store_true",
        help="import once and print the process's peak memory (run in a process of its own)",
    )
    args = parser.parse_args(argv)
    if args.memory_only:
        fresh_database(args.template)
        raw, _records = batch_file(args.rows)
        before = peak_memory_mb()
        timed_import(raw, (args.rows, 0, 0))
        json.dump({"before_mb": before, "peak_mb": peak_memory_mb()}, sys.stdout)
        sys.stdout.write("\n")
        return

    fresh_database(args.template)
    raw, records = batch_file(args.rows)
    plain, imports, reimports, previews, confirms = [], [], [], [], []
    for _ in range(args.repetitions):
        fresh_database(args.template)
        plain.append(plain_bulk_create(records))
        fresh_database(args.template)
        imports.append(timed_import(raw, (args.rows, 0, 0)))
        # The same file again: every row is checked and found unchanged; nothing is written.
        reimports.append(timed_import(raw, (0, 0, args.rows)))
        fresh_database(args.template)
        preview, confirm = admin_import(raw, args.rows)
        previews.append(preview)
        confirms.append(confirm)
    admin = [p + c for p, c in zip(previews, confirms, strict=True)]
    report = {
        "rows": args.rows,
        "bytes": len(raw),
        "bulk_create_seconds": statistics.median(plain),
        "import_seconds": statistics.median(imports),
        "reimport_seconds": statistics.median(reimports),
        # Ratios taken within each repetition, so that a slow moment affects both sides.
        "import_ratio": statistics.median(i / p for i, p in zip(imports, plain, strict=True)),
        "reimport_ratio": statistics.median(i / p for i, p in zip(reimports, plain, strict=True)),
        "admin_preview_seconds": statistics.median(previews),
        "admin_confirm_seconds": statistics.median(confirms),
        "admin_seconds": statistics.median(admin),
        "admin_ratio": statistics.median(a / p for a, p in zip(admin, plain, strict=True)),
    }
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
