"""``manage.py load_register``: load the provinces and zones shipped in fixtures/ (idempotent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from registry.importing import provinces_import, zones_import
from registry.management.commands.import_zones import read_file, report


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
            provinces = provinces_import(raw=read_file(folder / "provinces.csv"))
            report(self, provinces, dry_run=False, verbosity=verbosity, label=_("provinces: "))
            summary = zones_import(raw=read_file(folder / "zones.csv"))
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
