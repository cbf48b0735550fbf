"""The default indicator framework shipped in fixtures/framework.csv, and its loading."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from evaluations.models import Indicator

DEFAULT_FRAMEWORK = Path(settings.BASE_DIR) / "fixtures" / "framework.csv"

_YES = {"yes", "true", "1"}
_NO = {"no", "false", "0", ""}
_TEXT = ["code", "dimension", "kind", "name_zh", "name_en", "unit_zh", "unit_en"]
_TEXT_OPTIONAL = ["help_zh", "help_en"]
_DECIMALS = ["weight", "max_points", "min_value", "max_value"]
_FLAGS = ["higher_is_better", "log_scale"]


@dataclass(frozen=True)
class LoadCounts:
    new: int
    updated: int
    unchanged: int
    kept: int = 0


def _decimal(raw: str, column: str, row: int) -> Decimal | None:
    if raw.strip() == "":
        return None
    try:
        return Decimal(raw.strip())
    except InvalidOperation:
        raise ValidationError(
            _("row %(row)s, column %(column)s: %(value)r is not a number")
            % {"row": row, "column": column, "value": raw}
        ) from None


def _flag(raw: str, column: str, row: int) -> bool:
    value = raw.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValidationError(
        _("row %(row)s, column %(column)s: expected yes or no, got %(value)r")
        % {"row": row, "column": column, "value": raw}
    )


def read_framework(path: Path = DEFAULT_FRAMEWORK) -> list[Indicator]:
    """Unsaved default-framework indicators, validated, in file order."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    indicators = []
    for position, row in enumerate(rows, start=1):
        line = position + 1  # the header is row 1
        fields: dict = {name: (row.get(name) or "").strip() for name in _TEXT + _TEXT_OPTIONAL}
        fields |= {name: _decimal(row.get(name) or "", name, line) for name in _DECIMALS}
        fields |= {name: _flag(row.get(name) or "", name, line) for name in _FLAGS}
        indicator = Indicator(cycle=None, position=position * 10, **fields)
        try:
            indicator.full_clean(exclude=["cycle"], validate_unique=False)
        except ValidationError as error:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            raise ValidationError(
                _("row %(row)s: %(problems)s") % {"row": line, "problems": problems}
            ) from None
        indicators.append(indicator)
    codes = [i.code for i in indicators]
    if len(codes) != len(set(codes)):
        raise ValidationError(_("The framework lists an indicator code twice."))
    return indicators


def framework_load(path: Path = DEFAULT_FRAMEWORK, *, reset: bool = False) -> LoadCounts:
    """Load the default framework (idempotent): indicators missing from it are added.

    An indicator that an Administrator has edited is kept as edited ("kept") unless ``reset``
    asks for the file's version.
    """
    indicators = read_framework(path)
    counts = {"new": 0, "updated": 0, "unchanged": 0, "kept": 0}
    fields = [*_TEXT, *_TEXT_OPTIONAL, *_DECIMALS, *_FLAGS, "position"]
    with transaction.atomic():
        existing = {i.code: i for i in Indicator.objects.default_framework()}
        for indicator in indicators:
            stored = existing.get(indicator.code)
            if stored is None:
                indicator.save()
                counts["new"] += 1
                continue
            changed = [f for f in fields if getattr(stored, f) != getattr(indicator, f)]
            if changed and not reset:
                counts["kept"] += 1
            elif changed:
                for name in changed:
                    setattr(stored, name, getattr(indicator, name))
                stored.save()
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return LoadCounts(**counts)
