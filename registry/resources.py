"""The batch file of zones (DESIGN §5): one django-import-export resource for import and export.

The admin's import and export pages, ``manage.py import_zones`` and ``manage.py load_register``
all go through ``ZoneResource``; ``zones_import()`` is the one call the commands make.

Rules of the format, and the decisions taken where DESIGN leaves room:

- The zone is matched on ``name_zh``; ``name_en``, ``province`` and ``kind`` are updated.
- A zone never moves to another batch. A batch that does not exist yet is created from the
  file; one that exists must agree with the file on its approval date and document number.
  An empty ``document_no`` means "not stated" and agrees with anything; a stated number
  must equal the stored one, and a batch stored without one is not filled in by an import
  (batches are not edited by imports; set it in the admin).
- An empty ``kind`` likewise means "not stated": it leaves an existing zone's kind alone.
- All or nothing: every row is checked (each value, then the rows against each other and
  against the register) before anything is written, every problem is reported with its row
  and column, and any problem rolls the whole import back, whoever calls the resource.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import tablib
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import exceptions, resources, widgets
from import_export.fields import Field
from import_export.resources import Diff
from import_export.results import Result, RowResult
from import_export.utils import atomic_if_using_transaction

from registry.importing import (
    COLUMN_NAMES,
    BatchDataset,
    BatchFileError,
    ImportSummary,
    dataset_from_rows,
    escape_formula,
    read_batch_file,
    summarise_result,
)
from registry.models import Batch, Province, Zone, ZoneKind
from zonetracker.bulk import history_copy, rows_update

# PositiveSmallIntegerField's upper bound on every database Django supports.
MAX_BATCH_NUMBER = 32767

# --- values --------------------------------------------------------------------------------------


def parse_batch_number(value: object) -> int:
    """A batch number: a whole number from 1. Raises ``ValueError`` with the reason."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError(_("The batch number is missing."))
    # Only ASCII digits: int() would also take "１", "+1" or "1_0".
    if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
        raise ValueError(
            _("“%(value)s” is not a batch number; batches are numbered 1, 2, 3 and so on.")
            % {"value": text}
        )
    if int(text) > MAX_BATCH_NUMBER:
        raise ValueError(_("Batch number %(value)s is too large.") % {"value": text})
    return int(text)


_DATE_DASHED = re.compile(
    r"(?P<year>[0-9]{4})(?P<sep>[-/])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
)
_DATE_CHINESE = re.compile(
    r"(?P<year>[0-9]{4})\s*年\s*(?P<month>[0-9]{1,2})\s*月\s*(?P<day>[0-9]{1,2})\s*日"
)
_DATE_AMBIGUOUS = re.compile(r"[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}")


def parse_approval_date(value: object) -> datetime.date:
    """A date written YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日, or a spreadsheet date cell.

    Day-first or month-first forms such as 01/02/2025 are refused rather than guessed.
    """
    if isinstance(value, datetime.datetime):
        if value.time() != datetime.time(0):
            raise ValueError(
                _("“%(value)s” has a time of day; give the date only.")
                % {"value": value.isoformat(sep=" ")}
            )
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError(_("The approval date is missing."))
    match = _DATE_DASHED.fullmatch(text) or _DATE_CHINESE.fullmatch(text)
    if match is None:
        if _DATE_AMBIGUOUS.fullmatch(text):
            raise ValueError(
                _(
                    "“%(value)s” is ambiguous: day and month could be either way round. "
                    "Write dates as YYYY-MM-DD."
                )
                % {"value": text}
            )
        raise ValueError(
            _("“%(value)s” is not a date; write YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日.")
            % {"value": text}
        )
    try:
        return datetime.date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        raise ValueError(_("“%(value)s” is not a real date.") % {"value": text}) from None


def _kind_key(text: str) -> str:
    return " ".join(re.split(r"[\s_\-]+", text.strip().casefold()))


_KINDS = {_kind_key(kind.value): kind.value for kind in ZoneKind}


def parse_kind(value: object) -> str:
    """A zone kind (city, prefecture, county-level city, new area, region), or "" if blank."""
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    kind = _KINDS.get(_kind_key(text))
    if kind is None:
        raise ValueError(
            _("Unknown kind “%(value)s”; use one of: %(kinds)s.")
            % {"value": text, "kinds": ", ".join(ZoneKind.values)}
        )
    return kind


_ZH_SUFFIX = re.compile(r"(?:壮族|回族|维吾尔)?自治区$|省$|市$")
_EN_SUFFIX = re.compile(
    r"\s+(?:(?:zhuang|hui|uyghur|uygur|uighur)\s+)?autonomous\s+region$"
    r"|\s+province$|\s+municipality$|\s+city$"
)
# Other names in current use, by GB/T 2260 code.
_PROVINCE_ALIASES = {"xizang": "54", "nei mongol": "15", "inner mongolia": "15"}


def _province_key(text: str) -> str:
    key = " ".join(text.split()).casefold()
    if re.fullmatch(r"[0-9]{2}(?:0000)?", key):
        return key[:2]
    key = _ZH_SUFFIX.sub("", key) if re.search(r"[\u4e00-\u9fff]", key) else key
    return _EN_SUFFIX.sub("", key)


class ProvinceLookup:
    """Provinces by code, Chinese or English name, with or without 省/市/自治区 and the like.

    Built with one query and then asked once per row, instead of one query per row.
    """

    def __init__(self, provinces: Iterable[Province]) -> None:
        self._by_key: dict[str, Province | None] = {}
        by_code: dict[str, Province] = {}
        for province in provinces:
            by_code[province.code] = province
            for key in {
                province.code,
                _province_key(province.name_zh),
                _province_key(province.name_en),
            }:
                # Two provinces sharing a key make that key useless rather than a guess.
                known = self._by_key.get(key, province)
                self._by_key[key] = province if known == province else None
        for alias, code in _PROVINCE_ALIASES.items():
            if code in by_code:
                self._by_key.setdefault(alias, by_code[code])

    @classmethod
    def from_database(cls) -> ProvinceLookup:
        return cls(Province.objects.all())

    def resolve(self, value: object) -> Province:
        text = "" if value is None else str(value).strip()
        if not text:
            raise ValueError(_("The province is missing."))
        key = _province_key(text)
        province = self._by_key.get(key)
        if province is None and key in self._by_key:
            raise ValueError(
                _("“%(value)s” could be more than one province; give its code.") % {"value": text}
            )
        if province is None:
            raise ValueError(
                _(
                    "Unknown province “%(value)s”; give its code (such as 33), "
                    "or its Chinese or English name."
                )
                % {"value": text}
            )
        return province


# --- widgets -------------------------------------------------------------------------------------
# On import a widget raises ValueError for a bad value, which django-import-export reports as a
# validation error of that column; any other exception would be shown as a traceback.


class TextWidget(widgets.CharWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value).strip()


class BatchWidget(widgets.Widget):
    """The zone's batch, written as its number."""

    def __init__(self) -> None:
        super().__init__()
        # Filled by ZoneResource.before_import with the file's batches, new ones included.
        self.batches: dict[int, Batch] = {}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Batch:
        number = parse_batch_number(value)
        batch = self.batches.get(number) or Batch.objects.filter(number=number).first()
        if batch is None:
            raise ValueError(_("Batch %(number)s does not exist.") % {"number": number})
        return batch

    def render(self, value: Batch | None, obj: Any = None, **kwargs: Any) -> int | str:
        if value is None:
            return ""
        return value.number if kwargs.get("force_native_type") else str(value.number)


class ApprovalDateWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> datetime.date:
        return parse_approval_date(value)

    def render(
        self, value: datetime.date | None, obj: Any = None, **kwargs: Any
    ) -> datetime.date | str:
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else value.isoformat()


class ProvinceWidget(widgets.Widget):
    """The zone's province; exported as its Chinese name, as in fixtures/zones.csv."""

    def __init__(self) -> None:
        super().__init__()
        self.lookup: ProvinceLookup | None = None

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Province:
        if self.lookup is None:
            self.lookup = ProvinceLookup.from_database()
        return self.lookup.resolve(value)

    def render(self, value: Province | None, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else value.name_zh


class KindWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        # None for a blank cell: with saves_null_values=False the zone keeps its kind.
        return parse_kind(value) or None

    def render(self, value: str | None, obj: Any = None, **kwargs: Any) -> str:
        return value or ""


# --- checking a whole file ---------------------------------------------------------------------


@dataclass
class _Row:
    index: int  # django-import-export's row number: 1 for the first data row
    number: int  # the spreadsheet row
    batch: int | None
    approved_on: datetime.date | None
    document_no: str
    name_zh: str
    name_en: str
    province: Province | None = None
    # None when the file does not state a kind (no such column, or a blank cell).
    kind: str | None = None


@dataclass
class _NewBatch:
    number: int
    approved_on: datetime.date
    approved_on_row: int
    document_no: str = ""
    document_no_row: int = 0


# The most characters each text column of the file may hold, as the database stores them.
_TEXT_LIMITS = {
    "name_zh": Zone._meta.get_field("name_zh").max_length,
    "name_en": Zone._meta.get_field("name_en").max_length,
    "document_no": Batch._meta.get_field("document_no").max_length,
}


class _FileCheck:
    """Every problem of every row, found before anything is written.

    Values are checked one by one, then rows against each other (a zone twice, an English
    name twice, rows of a new batch that disagree) and against the register (a batch that
    disagrees, a zone in another batch, an English name taken by another zone), with a
    fixed number of queries whatever the file's length.
    """

    def __init__(self, dataset: BatchDataset, provinces: ProvinceLookup) -> None:
        self.dataset = dataset
        self.provinces = provinces
        self.problems: dict[int, dict[str, list[str]]] = {}
        self.rows: list[_Row] = []
        self.stored_batches: dict[int, Batch] = {}
        self.new_batches: dict[int, _NewBatch] = {}
        self.stored_zones: dict[str, Zone] = {}
        self._parsed: dict[tuple[str, object], tuple[Any, str]] = {}
        self.done = False

    def run(self) -> None:
        for index, values in enumerate(self.dataset.dict, start=1):
            self.rows.append(self._check_values(index, values))
        numbers = {row.batch for row in self.rows if row.batch is not None}
        self.stored_batches = {b.number: b for b in Batch.objects.filter(number__in=numbers)}
        self._check_duplicates()
        self._check_batches()
        self._check_register()
        self.done = True

    def add(self, row: _Row | int, column: str, message: str) -> None:
        index = row if isinstance(row, int) else row.index
        self.problems.setdefault(index, {}).setdefault(column, []).append(message)

    def _check_values(self, index: int, values: dict[str, Any]) -> _Row:
        def parsed(column: str, parse: Callable[[object], Any]) -> Any:
            value = values.get(column)
            # A file repeats its batches, dates, provinces and kinds on row after row: each
            # distinct cell is parsed once per import, its result or its problem kept.
            key = (column, value)
            outcome = self._parsed.get(key)
            if outcome is None:
                try:
                    outcome = self._parsed[key] = (parse(value), "")
                except ValueError as error:
                    outcome = self._parsed[key] = (None, str(error))
            if outcome[1]:
                self.add(index, column, outcome[1])
            return outcome[0]

        row = _Row(
            index=index,
            number=self.dataset.row_numbers[index - 1],
            batch=parsed("batch", parse_batch_number),
            approved_on=parsed("approved_on", parse_approval_date),
            document_no=str(values.get("document_no") or ""),
            name_zh=str(values.get("name_zh") or ""),
            name_en=str(values.get("name_en") or ""),
        )
        row.province = parsed("province", self.provinces.resolve)
        if "kind" in values:
            row.kind = parsed("kind", parse_kind) or None
        for column, limit in _TEXT_LIMITS.items():
            text = getattr(row, column)
            if not text and column != "document_no":
                self.add(index, column, _("The name is missing."))
            # Checked here because SQLite would store a longer text that PostgreSQL refuses.
            if len(text) > limit:
                self.add(
                    index,
                    column,
                    _("“%(value)s” has %(length)s characters; at most %(limit)s are allowed.")
                    % {"value": text, "length": len(text), "limit": limit},
                )
        return row

    def _check_duplicates(self) -> None:
        first_zh: dict[str, _Row] = {}
        first_en: dict[str, _Row] = {}
        for row in self.rows:
            if row.name_zh in first_zh:
                self.add(
                    row,
                    "name_zh",
                    _("“%(name)s” is also on row %(row)s; a zone may appear only once.")
                    % {"name": row.name_zh, "row": first_zh[row.name_zh].number},
                )
            elif row.name_zh:
                first_zh[row.name_zh] = row
            if row.name_en in first_en and first_en[row.name_en].name_zh != row.name_zh:
                self.add(
                    row,
                    "name_en",
                    _("“%(name)s” is also the English name of %(other)s on row %(row)s.")
                    % {
                        "name": row.name_en,
                        "other": first_en[row.name_en].name_zh,
                        "row": first_en[row.name_en].number,
                    },
                )
            elif row.name_en:
                first_en.setdefault(row.name_en, row)

    def _check_batches(self) -> None:
        for row in self.rows:
            if row.batch is None:
                continue
            stored = self.stored_batches.get(row.batch)
            if stored is not None:
                self._check_against_stored(row, stored)
            else:
                self._check_against_new(row)

    def _check_against_stored(self, row: _Row, stored: Batch) -> None:
        if row.approved_on is not None and row.approved_on != stored.approved_on:
            self.add(
                row,
                "approved_on",
                _("Batch %(number)s was approved on %(stored)s, not %(given)s.")
                % {
                    "number": stored.number,
                    "stored": stored.approved_on.isoformat(),
                    "given": row.approved_on.isoformat(),
                },
            )
        if row.document_no and row.document_no != stored.document_no:
            if stored.document_no:
                message = _("Batch %(number)s has document number %(stored)s, not %(given)s.") % {
                    "number": stored.number,
                    "stored": stored.document_no,
                    "given": row.document_no,
                }
            else:
                message = _(
                    "Batch %(number)s is stored without a document number; leave this cell "
                    "empty, or set the number on the batch in the admin first."
                ) % {"number": stored.number}
            self.add(row, "document_no", message)

    def _check_against_new(self, row: _Row) -> None:
        # The first row stating a value sets it for the new batch; later rows must agree.
        new = self.new_batches.get(row.batch)
        if new is None:
            if row.approved_on is None:
                return
            new = self.new_batches[row.batch] = _NewBatch(row.batch, row.approved_on, row.number)
        elif row.approved_on is not None and row.approved_on != new.approved_on:
            self.add(
                row,
                "approved_on",
                _("Batch %(number)s is dated %(first)s on row %(row)s, not %(given)s.")
                % {
                    "number": new.number,
                    "first": new.approved_on.isoformat(),
                    "row": new.approved_on_row,
                    "given": row.approved_on.isoformat(),
                },
            )
        if row.document_no:
            if not new.document_no:
                new.document_no, new.document_no_row = row.document_no, row.number
            elif row.document_no != new.document_no:
                self.add(
                    row,
                    "document_no",
                    _(
                        "Batch %(number)s has document number %(first)s on row %(row)s, "
                        "not %(given)s."
                    )
                    % {
                        "number": new.number,
                        "first": new.document_no,
                        "row": new.document_no_row,
                        "given": row.document_no,
                    },
                )

    def _check_register(self) -> None:
        names_zh = {row.name_zh for row in self.rows if row.name_zh}
        names_en = {row.name_en for row in self.rows if row.name_en}
        # Whole zones, with what their diff shows: the import updates these very instances.
        self.stored_zones = {
            zone.name_zh: zone
            for zone in Zone.objects.select_related("batch", "province").filter(
                name_zh__in=names_zh
            )
        }
        batch_of = {name: zone.batch.number for name, zone in self.stored_zones.items()}
        holder_of = dict(
            Zone.objects.filter(name_en__in=names_en).values_list("name_en", "name_zh")
        )
        for row in self.rows:
            stored_batch = batch_of.get(row.name_zh)
            if row.batch is not None and stored_batch is not None and stored_batch != row.batch:
                self.add(
                    row,
                    "batch",
                    _("%(name)s belongs to batch %(stored)s; a zone never moves to another batch.")
                    % {"name": row.name_zh, "stored": stored_batch},
                )
            holder = holder_of.get(row.name_en)
            if holder is not None and holder != row.name_zh:
                self.add(
                    row,
                    "name_en",
                    _("“%(name)s” is already the English name of %(other)s.")
                    % {"name": row.name_en, "other": holder},
                )


# --- writing ---------------------------------------------------------------------------------

# Rows per INSERT or UPDATE statement of an import (SQLite lowers it to fit its own limit).
WRITE_BATCH_SIZE = 1000

# Zone fields an import never sets, so never validates (see ZoneResource.validate_instance).
_NOT_VALIDATED = frozenset({"id", "slug", "batch", "province", "status", "status_changed_on"})


def assign_slugs(zones: Sequence[Zone]) -> None:
    """Give new zones the slugs ``Zone.save`` would give them one by one, with one query.

    The rule is the model's: the English name slugified, ``-2``, ``-3`` ... when taken. All
    slugs are read at once (a few thousand short strings at most) instead of one query per
    candidate slug; the unique constraint still refuses a slug taken meanwhile.
    """
    if not zones:
        return
    taken = set(Zone.objects.order_by().values_list("slug", flat=True))
    for zone in zones:
        if zone.slug:
            continue
        base = slugify(zone.name_en)[:100] or "zone"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        zone.slug = slug
        taken.add(slug)


class ZoneRowResult(RowResult):
    """A row's result whose HTML diff and zone name are worked out only when they are read.

    django-import-export draws every row's diff as the row is imported, which costs more than
    the import itself; only the admin's preview shows them, and the commands never do.
    """

    def __init__(self) -> None:
        self._diff: list[str] | None = None
        self._diff_source: tuple[ZoneResource, Zone | None, Zone] | None = None
        self._object_repr: str | None = None
        self._described: Zone | None = None
        super().__init__()

    def add_instance_info(self, instance: Zone | None) -> None:
        # The zone's name in the active language, for the admin's log, also when read.
        if instance is not None:
            self.object_id = instance.pk
            self._described = instance

    @property
    def object_repr(self) -> str | None:
        if self._object_repr is None and self._described is not None:
            self._object_repr = str(self._described)
        return self._object_repr

    @object_repr.setter
    def object_repr(self, value: str | None) -> None:
        self._object_repr = value

    def defer_diff(self, resource: ZoneResource, original: Zone | None, instance: Zone) -> None:
        """Draw the diff of ``original`` (None for a new zone) and ``instance`` when asked."""
        self._diff_source = (resource, original, instance)

    @property
    def diff(self) -> list[str] | None:
        if self._diff is None and self._diff_source is not None:
            resource, original, instance = self._diff_source
            new = original is None
            drawn = Diff(resource, resource.init_instance() if new else original, new)
            drawn.compare_with(resource, instance)
            self._diff = drawn.as_html()
        return self._diff

    @diff.setter
    def diff(self, value: list[str] | None) -> None:
        self._diff = value


# --- the resource ----------------------------------------------------------------------------


class ZoneResource(resources.ModelResource):
    """Zones with their batch, one row each, in the columns of the batch file format."""

    batch = Field(attribute="batch", column_name="batch", widget=BatchWidget())
    approved_on = Field(
        attribute="batch__approved_on",
        column_name="approved_on",
        widget=ApprovalDateWidget(),
        readonly=True,
    )
    document_no = Field(
        attribute="batch__document_no",
        column_name="document_no",
        widget=TextWidget(),
        readonly=True,
    )
    name_zh = Field(attribute="name_zh", column_name="name_zh", widget=TextWidget())
    name_en = Field(attribute="name_en", column_name="name_en", widget=TextWidget())
    province = Field(attribute="province", column_name="province", widget=ProvinceWidget())
    kind = Field(attribute="kind", column_name="kind", widget=KindWidget(), saves_null_values=False)

    class Meta:
        model = Zone
        name = gettext_lazy("Batch file of zones")
        fields = COLUMN_NAMES
        import_order = COLUMN_NAMES
        export_order = COLUMN_NAMES
        import_id_fields = ["name_zh"]
        skip_unchanged = True
        report_skipped = True
        # Without it Django's field validation (lengths, choices) never runs.
        clean_model_instances = True
        use_transactions = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._check: _FileCheck | None = None
        self._notices: list[str] = []

    def get_queryset(self):
        return Zone.objects.with_related().order_by("batch__number", "name_en")

    def import_data(
        self,
        dataset: tablib.Dataset,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs: Any,
    ) -> Result:
        """Import all rows or none: transactions and roll-back are not the caller's choice.

        A dataset not read by ``read_batch_file`` (built in code) gets the same checks first,
        and raises ``BatchFileError`` when its header is unusable.
        """
        if not isinstance(dataset, BatchDataset):
            rows = [dataset.headers or [], *dataset]
            dataset = dataset_from_rows(enumerate(rows, start=1), strict_width=False)
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )

    def before_import(self, dataset: BatchDataset, **kwargs: Any) -> None:
        self._notices = []
        provinces = ProvinceLookup.from_database()
        self.fields["province"].widget.lookup = provinces
        self._check = _FileCheck(dataset, provinces)
        self._check.run()
        batches = dict(self._check.stored_batches)
        # New batches are created now, inside the import's transaction: a dry run or any bad
        # row rolls them back with the zones.
        for new in self._check.new_batches.values():
            batches[new.number] = Batch.objects.create(
                number=new.number, approved_on=new.approved_on, document_no=new.document_no
            )
            self._notices.append(
                _("Batch %(number)s is new: approved on %(date)s, document number %(doc)s.")
                % {
                    "number": new.number,
                    "date": new.approved_on.isoformat(),
                    "doc": new.document_no or _("not stated"),
                }
            )
        self.fields["batch"].widget.batches = batches

    def get_row_result_class(self) -> type[RowResult]:
        return ZoneRowResult

    def import_data_inner(
        self,
        dataset: BatchDataset,
        dry_run: bool,
        raise_errors: bool,
        using_transactions: bool,
        collect_failed_rows: bool,
        **kwargs: Any,
    ) -> Result:
        """Import the whole file at once, reporting every row as django-import-export does.

        django-import-export's own loop takes each row on its own: a query for the slug, an
        insert or update and another for its history record, a deep copy and an HTML diff,
        about 1.5 ms a row. Here ``before_import`` has checked every row already, so the
        rows are classified (new, updated, unchanged, invalid) in memory and written with one
        bulk insert and one bulk update, each with its history records; the preview's diff
        is drawn only when a page shows it. Nothing is written when any row is invalid.
        """
        result = self.get_result_class()()
        result.diff_headers = self.get_diff_headers()
        result.total_rows = len(dataset)
        if collect_failed_rows:
            result.add_dataset_headers(dataset.headers)
        database = self.get_db_connection_name()
        keep_instances = self._meta.store_instance or kwargs.get(
            "retain_instance_in_row_result", False
        )
        started = False
        self._check = None
        try:
            with atomic_if_using_transaction(using_transactions, using=database):
                self.before_import(dataset, **kwargs)
            started = True
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        # When the file was checked but the import could not start (a new batch refused by
        # the database), the rows' own problems are still reported with the error.
        if started or (self._check is not None and self._check.done):
            pending = self._classify_rows(
                dataset,
                result,
                collect_failed_rows=collect_failed_rows,
                raise_errors=raise_errors,
                keep_instances=keep_instances,
                problems_only=not started,
            )
            if pending and not result.has_validation_errors() and not result.has_errors():
                self._write_rows(
                    pending,
                    result,
                    write=using_transactions or not dry_run,
                    raise_errors=raise_errors,
                    keep_instances=keep_instances,
                    user=kwargs.get("user"),
                )
        try:
            with atomic_if_using_transaction(using_transactions, using=database):
                self.after_import(dataset, result, **kwargs)
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        return result

    def _classify_rows(
        self,
        dataset: BatchDataset,
        result: Result,
        *,
        collect_failed_rows: bool,
        raise_errors: bool,
        keep_instances: bool,
        problems_only: bool = False,
    ) -> list[tuple[ZoneRowResult, Zone]]:
        """Each row's result, from the file check; the new and changed zones to write.

        With ``problems_only``, only the rows that the check found wrong are reported.
        """
        check = self._check
        batches = self.fields["batch"].widget.batches
        pending: list[tuple[ZoneRowResult, Zone]] = []
        for row in check.rows:
            row_result = ZoneRowResult()
            problems = check.problems.get(row.index)
            if problems_only and not problems:
                continue
            if problems:
                row_result.import_type = RowResult.IMPORT_TYPE_INVALID
                row_result.validation_error = ValidationError(problems)
                self._report_invalid(result, row, row_result, dataset, collect_failed_rows)
                if raise_errors:
                    raise exceptions.ImportError(row_result.validation_error, number=row.index)
                continue
            zone = check.stored_zones.get(row.name_zh)
            if zone is None:
                zone = Zone(
                    name_zh=row.name_zh,
                    name_en=row.name_en,
                    province=row.province,
                    batch=batches[row.batch],
                    kind=row.kind or "",
                )
                row_result.import_type = RowResult.IMPORT_TYPE_NEW
                row_result.defer_diff(self, None, zone)
            else:
                original = copy.copy(zone)
                changed = False
                for name, value in (
                    ("name_en", row.name_en),
                    ("province", row.province),
                    ("kind", row.kind),
                ):
                    # A kind the file does not state leaves the zone's kind alone.
                    if value is not None and getattr(zone, name) != value:
                        setattr(zone, name, value)
                        changed = True
                row_result.defer_diff(self, original, zone)
                if not changed:
                    row_result.import_type = RowResult.IMPORT_TYPE_SKIP
                    row_result.add_instance_info(zone)
                    if keep_instances:
                        row_result.instance = zone
                    result.increment_row_result_total(row_result)
                    if self._meta.report_skipped:
                        result.append_row_result(row_result)
                    continue
                row_result.import_type = RowResult.IMPORT_TYPE_UPDATE
                row_result.original = original
            try:
                self.validate_instance(zone)
            except ValidationError as error:
                row_result.import_type = RowResult.IMPORT_TYPE_INVALID
                row_result.validation_error = error
                self._report_invalid(result, row, row_result, dataset, collect_failed_rows)
                if raise_errors:
                    raise exceptions.ImportError(error, number=row.index) from None
                continue
            result.increment_row_result_total(row_result)
            result.append_row_result(row_result)
            pending.append((row_result, zone))
        return pending

    def _report_invalid(
        self,
        result: Result,
        row: _Row,
        row_result: ZoneRowResult,
        dataset: BatchDataset,
        collect_failed_rows: bool,
    ) -> None:
        values = dict(zip(dataset.headers, dataset[row.index - 1], strict=True))
        result.increment_row_result_total(row_result)
        result.append_invalid_row(row.index, values, row_result.validation_error)
        if collect_failed_rows:
            result.append_failed_row(values, row_result.validation_error)
        result.append_row_result(row_result)

    def _write_rows(
        self,
        pending: list[tuple[ZoneRowResult, Zone]],
        result: Result,
        *,
        write: bool,
        raise_errors: bool,
        keep_instances: bool,
        user: AbstractBaseUser | None,
    ) -> None:
        """Insert the new zones and update the changed ones, with their history, in bulk."""
        new = [zone for row_result, zone in pending if row_result.is_new()]
        changed = [zone for row_result, zone in pending if row_result.is_update()]
        if write:
            # A real user or none: the history records the importer (the admin passes its
            # request's user, the commands nobody).
            history_user = user if getattr(user, "is_authenticated", False) else None
            # One import, one moment: every record of it carries the same date.
            history_date = timezone.now()
            try:
                # A savepoint, so that a refused insert (two imports racing for one slug)
                # leaves the connection usable for the report and the roll-back.
                with transaction.atomic(using=self.get_db_connection_name()):
                    assign_slugs(new)
                    Zone.objects.bulk_create(new, batch_size=WRITE_BATCH_SIZE)
                    rows_update(changed, ["name_en", "province", "kind"])
                    # simple-history's records, copied by the database from the rows just
                    # written: building them in Python cost more than the zones themselves.
                    for zones, update in ((new, False), (changed, True)):
                        history_copy(
                            zones,
                            Zone,
                            update=update,
                            default_user=history_user,
                            default_change_reason=None,
                            default_date=history_date,
                        )
            except Exception as error:
                self.handle_import_error(result, error, raise_errors)
                return
        for row_result, zone in pending:
            row_result.add_instance_info(zone)
            if keep_instances:
                row_result.instance = zone

    def validate_instance(
        self,
        instance: Zone,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        """Django's own validation of what a file sets (lengths, choices): a second net.

        Only the fields an import writes are validated; the others are not the file's doing
        and would cost a query or more a row: the slug (made on save), the batch and the
        province (they come from this import's own lookups) and uniqueness (_FileCheck checked
        the names of the whole file at once; the database constraints remain).
        """
        errors = dict(import_validation_errors or {})
        exclude = {*errors, *_NOT_VALIDATED}
        try:
            instance.full_clean(exclude=exclude, validate_unique=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def after_import(self, dataset: BatchDataset, result: Result, **kwargs: Any) -> None:
        # django-import-export counts data rows from 1; users see spreadsheet rows.
        numbers = dataset.row_numbers
        for invalid in result.invalid_rows:
            invalid.number = numbers[invalid.number - 1]
        for error_row in result.error_rows:
            error_row.number = numbers[error_row.number - 1]
            for error in error_row.errors:
                error.number = error_row.number
        result.column_labels = dict(dataset.column_labels)
        result.notices = [*dataset.notices, *self._notices]
        super().after_import(dataset, result, **kwargs)

    def export_field(self, field: Field, instance: Zone, **kwargs: Any) -> Any:
        # django-import-export's own escaping strips one "=" and nothing else (and would change
        # the data); an apostrophe in front is the OWASP advice, and the import removes it.
        return escape_formula(super().export_field(field, instance, **kwargs))


def zones_import(
    *,
    raw: bytes,
    filename: str = "",
    dry_run: bool = False,
    user: AbstractBaseUser | None = None,
) -> ImportSummary:
    """Import a batch file's bytes, all or nothing; what the commands call."""
    try:
        dataset = read_batch_file(raw)
    except BatchFileError as error:
        return ImportSummary(errors=error.problems)
    result = ZoneResource().import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        file_name=filename,
        user=user,
    )
    return summarise_result(result)
