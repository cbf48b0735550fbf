"""The default indicator framework (fixtures/framework.csv): its format, check and loading."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from evaluations.models import Indicator
from evaluations.values import value_from_text, value_problem
from zonetracker.tables import RowProblems, Table, TableFileError, TableFormat, read_table

DEFAULT_FRAMEWORK = Path(settings.BASE_DIR) / "fixtures" / "framework.csv"

_YES = {"yes", "true", "1"}
_NO = {"no", "false", "0", ""}
_TEXT = ["code", "dimension", "kind", "name_zh", "name_en", "unit_zh", "unit_en"]
_TEXT_OPTIONAL = ["help_zh", "help_en"]
_DECIMALS = ["weight", "max_points"]
_BOUNDS = ["min_value", "max_value"]
_FLAGS = ["higher_is_better", "log_scale"]

FRAMEWORK_FORMAT = TableFormat.declare(
    "code 代码, dimension 维度, kind 类型, name_zh 中文名称, name_en 英文名称, weight 权重, "
    "max_points? 满分, unit_zh? 单位, unit_en? 英文单位, min_value? 最小值, max_value? 最大值, "
    "higher_is_better? 越高越好, log_scale? 对数, help_zh? 说明, help_en? 英文说明",
    rows=pgettext_lazy("rows of a table file", "indicators"),
    name=pgettext_lazy("kind of table file", "framework"),
)


@dataclass(frozen=True)
class LoadCounts:
    new: int
    updated: int
    unchanged: int
    kept: int = 0


def _decimal(raw: str) -> Decimal | None:
    """A number as ``import_scores`` reads one (no commas)."""
    if raw == "":
        return None
    try:
        return value_from_text(raw)
    except ValueError:
        raise ValueError(_("%(value)r is not a number") % {"value": raw}) from None


def _bound(raw: str) -> Decimal | None:
    """A lowest or highest valid value: a number the score column can hold, as a score must."""
    value = _decimal(raw)
    problem = None if value is None else value_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _flag(raw: str) -> bool:
    value = raw.lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(_("expected yes or no, got %(value)r") % {"value": raw})


def framework_check(table: Table) -> tuple[list[Indicator], list[str]]:
    """Unsaved default-framework indicators in file order, and the file's problems (pure)."""
    problems = RowProblems(table, FRAMEWORK_FORMAT.column_names)
    indicators = []
    first_row: dict[str, int] = {}
    for position, (number, row) in enumerate(table.numbered_rows(), start=1):
        fields: dict[str, object] = {
            name: str(row.get(name) or "") for name in _TEXT + _TEXT_OPTIONAL
        }
        parsers = [(n, _decimal) for n in _DECIMALS] + [(n, _bound) for n in _BOUNDS]
        for name, parse in parsers + [(n, _flag) for n in _FLAGS]:
            try:
                fields[name] = parse(str(row.get(name) or ""))
            except ValueError as error:
                problems.add(number, name, str(error))
        if number in problems:
            continue
        indicator = Indicator(cycle=None, position=position * 10, **fields)
        try:
            indicator.full_clean(exclude=["cycle"], validate_unique=False)
        except ValidationError as error:
            for column, messages in error.message_dict.items():
                for message in messages:
                    problems.add(number, column, message)
            continue
        if indicator.code in first_row:
            problems.add(
                number,
                "code",
                _("the code %(code)s is also on row %(row)s.")
                % {"code": indicator.code, "row": first_row[indicator.code]},
            )
            continue
        first_row[indicator.code] = number
        indicators.append(indicator)
    return indicators, problems.messages()


def read_framework(path: Path = DEFAULT_FRAMEWORK) -> list[Indicator]:
    """Unsaved default-framework indicators, validated, in file order.

    Raises ``ValidationError`` naming every problem (row and column) of the file.
    """
    try:
        table = read_table(path.read_bytes(), table=FRAMEWORK_FORMAT)
    except TableFileError as error:
        raise ValidationError(error.problems) from None
    indicators, problems = framework_check(table)
    if problems:
        raise ValidationError(problems)
    return indicators


def framework_write(
    indicators: list[Indicator], stored: Mapping[str, Indicator], *, reset: bool
) -> LoadCounts:
    """Save checked indicators against the stored default framework (by code).

    An indicator that an Administrator has edited is kept as edited ("kept") unless ``reset``
    asks for the file's version.
    """
    counts = {"new": 0, "updated": 0, "unchanged": 0, "kept": 0}
    fields = [*_TEXT, *_TEXT_OPTIONAL, *_DECIMALS, *_BOUNDS, *_FLAGS, "position"]
    with transaction.atomic():
        for indicator in indicators:
            existing = stored.get(indicator.code)
            if existing is None:
                indicator.save()
                counts["new"] += 1
                continue
            changed = [f for f in fields if getattr(existing, f) != getattr(indicator, f)]
            if changed and not reset:
                counts["kept"] += 1
            elif changed:
                for name in changed:
                    setattr(existing, name, getattr(indicator, name))
                existing.save()
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return LoadCounts(**counts)


def framework_load(path: Path = DEFAULT_FRAMEWORK, *, reset: bool = False) -> LoadCounts:
    """Load the default framework (idempotent): indicators missing from it are added."""
    indicators = read_framework(path)
    with transaction.atomic():
        stored = {i.code: i for i in Indicator.objects.default_framework()}
        return framework_write(indicators, stored, reset=reset)
