"""``manage.py load_register``: load the provinces and zones shipped in fixtures/ (idempotent)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from registry.management.commands.import_zones import read_file, report
from registry.models import Province
from registry.resources import zones_import

PROVINCE_FIELDS = ("name_zh", "name_en", "region")


def fixtures_dir() -> Path:
    # The project's own fixtures/ folder: the register ships with the code, and nothing
    # outside the project is ever read.
    return Path(settings.BASE_DIR) / "fixtures"


class Command(BaseCommand):
    help = (
        "Load the real register shipped in fixtures/: the 31 provinces, then the zones "
        "through the same import as import_zones. Running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        folder = fixtures_dir()
        with transaction.atomic():
            created, updated, unchanged = load_provinces(read_file(folder / "provinces.csv"))
            if verbosity >= 1:
                self.stdout.write(
                    _("provinces: %(new)s new, %(updated)s updated, %(unchanged)s unchanged")
                    % {"new": created, "updated": updated, "unchanged": unchanged}
                )
            summary = zones_import(raw=read_file(folder / "zones.csv"), filename="zones.csv")
            # zones.csv carries a "confirmed" column for the register's maintainers; the
            # notice that it is ignored is noise here, so it shows from verbosity 2 only.
            report(
                self,
                summary,
                dry_run=False,
                verbosity=verbosity,
                label=_("zones: "),
                show_notices=verbosity >= 2,
            )


def load_provinces(raw: bytes) -> tuple[int, int, int]:
    """Create or update the provinces of a ``code,name_zh,name_en,region`` CSV by code.

    Like update_or_create, but a province that already matches is not saved again, so that
    running it twice adds no history records. Returns (created, updated, unchanged).
    """
    created = updated = unchanged = 0
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    existing = {province.code: province for province in Province.objects.all()}
    for line, row in enumerate(reader, start=2):
        values = {name: (row.get(name) or "").strip() for name in ("code", *PROVINCE_FIELDS)}
        province = existing.get(values["code"]) or Province(code=values["code"])
        if province.pk and all(getattr(province, f) == values[f] for f in PROVINCE_FIELDS):
            unchanged += 1
            continue
        for name in PROVINCE_FIELDS:
            setattr(province, name, values[name])
        try:
            province.full_clean(exclude=None if province.pk is None else ["code"])
        except ValidationError as error:
            raise CommandError(
                _("provinces.csv, row %(row)s: %(errors)s") % {"row": line, "errors": error}
            ) from None
        if province.pk is None:
            created += 1
        else:
            updated += 1
        province.save()
    return created, updated, unchanged
