"""The batch file of zones and the provinces file: their formats, pure checks and bulk writers.

Reading the file is ``zonetracker.tables``'s; here a table's values become typed rows and
problems (``zones_check``, ``provinces_check``: no database, the register passed in as plain
lookups), and checked rows are written in bulk with their history (``zones_write``,
``provinces_write``). ``zones_import`` is the whole pipeline that ``import_zones``,
``load_register`` and the admin's import (through ``registry.resources.ZoneResource``) run.

Rules of the batch file (DESIGN §5), and the decisions taken where DESIGN leaves room:

- The zone is matched on ``name_zh``; ``name_en``, ``province`` and ``kind`` are updated.
- A zone never moves to another batch. A batch that does not exist yet is created from the
  file; one that exists must agree with the file on its approval date and document number.
  An empty ``document_no`` means "not stated" and agrees with anything; a stated number
  must equal the stored one, and a batch stored without one is not filled in by an import
  (batches are not edited by imports; set it in the admin).
- An empty ``kind`` likewise means "not stated": it leaves an existing zone's kind alone.
- All or nothing: every row is checked (each value, then the rows against each other and
  against the register) before anything is written, every problem is reported with its row
  and column, and any problem leaves the register as it was.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from import_export.tmp_storages import BaseStorage

from registry.models import Batch, PendingImport, Province, Zone, ZoneKind
from registry.signals import zones_written
from zonetracker.bulk import history_copy, rows_update
from zonetracker.cache import cache_read, cache_write
from zonetracker.punctuation import enumeration
from zonetracker.tables import (
    ImportSummary,
    RowProblems,
    Table,
    TableFileError,
    TableFormat,
    chinese_name_problem,
    excerpt,
    read_table,
)

BATCH_FORMAT = TableFormat.declare(
    "batch 批次, approved_on 批准日期, document_no? 文号, name_zh 中文名称, name_en 英文名称, "
    "province 省份, kind? 类型",
    keeps_dates=("approved_on",),
    rows=pgettext_lazy("rows of a table file", "zones"),
    name=pgettext_lazy("kind of table file", "batch"),
)
COLUMN_NAMES: tuple[str, ...] = BATCH_FORMAT.column_names

PROVINCE_FORMAT = TableFormat.declare(
    "code 代码, name_zh 中文名称, name_en 英文名称, region 地区",
    rows=pgettext_lazy("rows of a table file", "provinces"),
    name=pgettext_lazy("kind of table file", "province"),
)

# An uploaded file waiting for confirmation longer than this is abandoned.
PENDING_IMPORT_LIFETIME = datetime.timedelta(days=1)

# Rows per INSERT statement of an import (SQLite lowers it to fit its own limit).
WRITE_BATCH_SIZE = 1000

# Zone fields a file never sets, so never validates: the slug is made on save, the batch and
# province come from the import's own lookups, and the status is not the file's business.
_NOT_VALIDATED = frozenset({"id", "slug", "batch", "province", "status", "status_changed_on"})

# --- values --------------------------------------------------------------------------------------

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
            % {"value": text, "kinds": enumeration(ZoneKind.values)}
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


# --- checking a batch file ---------------------------------------------------------------------


@dataclass
class ZoneRow:
    """One row of a batch file, its values typed (None where a value is wrong)."""

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
class NewBatch:
    """A batch the file brings: the first row stating each value sets it."""

    number: int
    approved_on: datetime.date
    approved_on_row: int
    document_no: str = ""
    document_no_row: int = 0
    # The batch as it will be stored, once the whole file is checked; its new zones point to it.
    batch: Batch | None = None


@dataclass(frozen=True)
class ZoneChange:
    """What a good row does: ``zone`` as it will be, ``original`` as it is (None if new)."""

    row: ZoneRow
    zone: Zone
    original: Zone | None
    changed: bool

    @property
    def is_new(self) -> bool:
        return self.original is None


@dataclass(frozen=True)
class RegisterLookups:
    """What a batch file is checked against, read once: provinces, batches, zones, names."""

    provinces: ProvinceLookup
    batches: dict[int, Batch]
    zones: dict[str, Zone]  # by name_zh: the file's zones already in the register
    english_names: dict[str, str]  # name_en → name_zh of the zone holding it


def register_lookups(table: Table) -> RegisterLookups:
    """The part of the register a batch file touches, in four queries whatever its length."""
    names_zh = {str(name) for name in table["name_zh"]} - {""}
    names_en = {str(name) for name in table["name_en"]} - {""}
    return RegisterLookups(
        provinces=ProvinceLookup(Province.objects.all()),
        batches={batch.number: batch for batch in Batch.objects.all()},
        zones={
            zone.name_zh: zone
            for zone in Zone.objects.select_related("batch", "province").filter(
                name_zh__in=names_zh
            )
        },
        english_names=dict(
            Zone.objects.filter(name_en__in=names_en).values_list("name_en", "name_zh")
        ),
    )


@dataclass
class ZoneCheck:
    """The outcome of checking a batch file: its rows, their problems, what they would change."""

    table: Table
    rows: list[ZoneRow] = field(default_factory=list)
    problems: RowProblems | None = None
    new_batches: dict[int, NewBatch] = field(default_factory=dict)
    changes: list[ZoneChange] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def notices(self) -> list[str]:
        """The file's notices, then one for each batch the import creates."""
        return [
            *self.table.notices,
            *(
                _("Batch %(number)s is new: approved on %(date)s, document number %(doc)s.")
                % {
                    "number": new.number,
                    "date": new.approved_on.isoformat(),
                    "doc": new.document_no or _("not stated"),
                }
                for new in self.new_batches.values()
            ),
        ]

    def summary(self, errors: Sequence[str] = ()) -> ImportSummary:
        if errors or not self.ok:
            return ImportSummary(
                errors=list(errors) or self.problems.messages(), notices=self.notices()
            )
        return ImportSummary(
            new=sum(change.is_new for change in self.changes),
            updated=sum(change.changed and not change.is_new for change in self.changes),
            unchanged=sum(not change.changed for change in self.changes),
            notices=self.notices(),
        )


def zones_check(table: Table, register: RegisterLookups) -> ZoneCheck:
    """Check every row of a batch file against each other and ``register``; write nothing.

    Values are checked one by one, then rows against each other (a zone twice, an English
    name twice, rows of a new batch that disagree) and against the register (a batch that
    disagrees, a zone in another batch, an English name taken by another zone), then each
    new or changed zone by Django's own field validation (lengths, choices).
    """
    return _ZoneFileCheck(table, register).run()


# The most characters each text column of the file may hold, as the database stores them.
_TEXT_LIMITS = {
    "name_zh": Zone._meta.get_field("name_zh").max_length,
    "name_en": Zone._meta.get_field("name_en").max_length,
    "document_no": Batch._meta.get_field("document_no").max_length,
}


class _ZoneFileCheck:
    def __init__(self, table: Table, register: RegisterLookups) -> None:
        self.register = register
        self.stored_batches = register.batches
        self.result = ZoneCheck(table=table, problems=RowProblems(table, COLUMN_NAMES))
        self.new_batches = self.result.new_batches
        self.rows = self.result.rows
        self._parsed: dict[tuple[str, object], tuple[Any, str]] = {}

    def run(self) -> ZoneCheck:
        for number, values in self.result.table.numbered_rows():
            self.rows.append(self._check_values(number, values))
        self._check_duplicates()
        self._check_batches()
        self._check_register()
        self._plan_changes()
        return self.result

    def add(self, row: ZoneRow | int, column: str, message: str) -> None:
        self.result.problems.add(row if isinstance(row, int) else row.number, column, message)

    def _check_values(self, number: int, values: dict[str, Any]) -> ZoneRow:
        def parsed(column: str, parse) -> Any:
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
                self.add(number, column, outcome[1])
            return outcome[0]

        row = ZoneRow(
            number=number,
            batch=parsed("batch", parse_batch_number),
            approved_on=parsed("approved_on", parse_approval_date),
            document_no=str(values.get("document_no") or ""),
            name_zh=str(values.get("name_zh") or ""),
            name_en=str(values.get("name_en") or ""),
        )
        row.province = parsed("province", self.register.provinces.resolve)
        if "kind" in values:
            row.kind = parsed("kind", parse_kind) or None
        if row.name_zh:
            problem = chinese_name_problem(row.name_zh)
            if problem:
                self.add(number, "name_zh", problem)
        for column, limit in _TEXT_LIMITS.items():
            text = getattr(row, column)
            if not text and column != "document_no":
                self.add(number, column, _("The name is missing."))
            # Checked here because SQLite would store a longer text that PostgreSQL refuses.
            if len(text) > limit:
                self.add(
                    number,
                    column,
                    _("“%(value)s” has %(length)s characters; at most %(limit)s are allowed.")
                    % {"value": excerpt(text), "length": len(text), "limit": limit},
                )
        return row

    def _check_duplicates(self) -> None:
        first_zh: dict[str, ZoneRow] = {}
        first_en: dict[str, ZoneRow] = {}
        for row in self.rows:
            if row.name_zh in first_zh:
                self.add(
                    row,
                    "name_zh",
                    _("“%(name)s” is also on row %(row)s; a zone may appear only once.")
                    % {"name": excerpt(row.name_zh), "row": first_zh[row.name_zh].number},
                )
            elif row.name_zh:
                first_zh[row.name_zh] = row
            if row.name_en in first_en and first_en[row.name_en].name_zh != row.name_zh:
                self.add(
                    row,
                    "name_en",
                    _("“%(name)s” is also the English name of %(other)s on row %(row)s.")
                    % {
                        "name": excerpt(row.name_en),
                        "other": excerpt(first_en[row.name_en].name_zh),
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

    def _check_against_stored(self, row: ZoneRow, stored: Batch) -> None:
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

    def _check_against_new(self, row: ZoneRow) -> None:
        # The first row stating a value sets it for the new batch; later rows must agree.
        new = self.new_batches.get(row.batch)
        if new is None:
            if row.approved_on is None:
                return
            new = self.new_batches[row.batch] = NewBatch(row.batch, row.approved_on, row.number)
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
        batch_of = {name: zone.batch.number for name, zone in self.register.zones.items()}
        for row in self.rows:
            stored_batch = batch_of.get(row.name_zh)
            if row.batch is not None and stored_batch is not None and stored_batch != row.batch:
                self.add(
                    row,
                    "batch",
                    _("%(name)s belongs to batch %(stored)s; a zone never moves to another batch.")
                    % {"name": row.name_zh, "stored": stored_batch},
                )
            holder = self.register.english_names.get(row.name_en)
            if holder is not None and holder != row.name_zh:
                self.add(
                    row,
                    "name_en",
                    _("“%(name)s” is already the English name of %(other)s.")
                    % {"name": row.name_en, "other": holder},
                )

    def _plan_changes(self) -> None:
        """Each good row's zone as it will be, checked by Django's own field validation."""
        for new in self.new_batches.values():
            new.batch = Batch(
                number=new.number, approved_on=new.approved_on, document_no=new.document_no
            )
        batches = {**self.stored_batches, **{n: new.batch for n, new in self.new_batches.items()}}
        for row in self.rows:
            if row.number in self.result.problems:
                continue
            stored = self.register.zones.get(row.name_zh)
            if stored is None:
                zone = Zone(
                    name_zh=row.name_zh,
                    name_en=row.name_en,
                    province=row.province,
                    batch=batches[row.batch],
                    kind=row.kind or "",
                )
                original, changed = None, True
            else:
                # The register's own instance is left as read: the preview compares with it.
                zone, original = copy.copy(stored), stored
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
            if changed:
                try:
                    validate_zone(zone)
                except ValidationError as error:
                    for column, messages in error.message_dict.items():
                        for message in messages:
                            self.add(row, column, message)
                    continue
            self.result.changes.append(ZoneChange(row, zone, original, changed))
        if self.result.problems:
            self.result.changes.clear()


def validate_zone(zone: Zone) -> None:
    """Django's field validation of what a file sets (lengths, choices): a second net.

    Only the fields a file writes are validated; uniqueness was checked for the whole file
    at once, and the database constraints remain.
    """
    zone.full_clean(exclude=_NOT_VALIDATED, validate_unique=False)


# --- writing zones -----------------------------------------------------------------------------


def zones_write(*, check: ZoneCheck, user: AbstractBaseUser | None = None) -> None:
    """Write a checked batch file: its new batches, new zones and changed zones, with history.

    Runs in one transaction with the check that produced ``check`` (``zones_import`` does
    both): the zones are inserted with one bulk insert and updated with one prepared
    UPDATE, and their history records are copied by the database from the rows written.
    """
    if not check.ok:
        raise ValueError("a batch file with problems is never written")
    # A real user or none: the history records the importer (the admin passes its
    # request's user, the commands nobody).
    history_user = user if getattr(user, "is_authenticated", False) else None
    # One import, one moment: every record of it carries the same date.
    history_date = timezone.now()
    with transaction.atomic():
        for new in check.new_batches.values():
            # Saved as the very instance the new zones point to, which gives them its id.
            new.batch._history_user = history_user
            new.batch.save()
        new_zones = [change.zone for change in check.changes if change.is_new]
        changed = [change.zone for change in check.changes if change.changed and change.original]
        assign_slugs(new_zones)
        Zone.objects.bulk_create(new_zones, batch_size=WRITE_BATCH_SIZE)
        rows_update(changed, ["name_en", "province", "kind"])
        # simple-history's records, copied by the database from the rows just written:
        # building them in Python cost more than the zones themselves.
        for zones, update in ((new_zones, False), (changed, True)):
            history_copy(
                zones,
                Zone,
                update=update,
                default_user=history_user,
                default_change_reason=None,
                default_date=history_date,
            )
        if new_zones or changed or check.new_batches:
            zones_written.send(sender=Zone, zones=[*new_zones, *changed])


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


def zones_import_table(
    table: Table,
    *,
    dry_run: bool = False,
    user: AbstractBaseUser | None = None,
    pending: str = "",
) -> tuple[ZoneCheck, ImportSummary]:
    """Check a read batch file against the register and, when every row is good, write it.

    The check and the write share one transaction, so the register cannot change between
    them; a dry run, or any problem, writes nothing. ``pending`` names a stored upload (the
    admin's preview, then its confirmation): the preview keeps its check, and the
    confirmation writes that check when the register has not changed since, instead of
    checking the file again.
    """
    with transaction.atomic():
        check = pending_check_take(pending) if pending and not dry_run else None
        if check is None:
            check = zones_check(table, register_lookups(table))
        if not check.ok or dry_run:
            if pending and check.ok:
                pending_check_keep(pending, check)
            return check, check.summary()
        try:
            # A savepoint, so that a refused write (two imports racing for one slug) leaves
            # the connection usable for the report.
            with transaction.atomic():
                zones_write(check=check, user=user)
        except (OperationalError, InterfaceError):
            raise  # the database went away: the caller's 503 page or one-line command error
        except DatabaseError as error:
            message = _("The zones could not be saved (%(error)s); nothing was written.") % {
                "error": error
            }
            transaction.set_rollback(True)
            return check, check.summary(errors=[message])
    return check, check.summary()


def register_version() -> tuple[int | None, ...]:
    """The latest history record of zones, batches and provinces, in one query: every
    change to the register writes one, so an equal version means an unchanged register."""
    tables = [model.history.model._meta.db_table for model in (Zone, Batch, Province)]
    latest = [
        f"(SELECT MAX(history_id) FROM {connection.ops.quote_name(table)})" for table in tables
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(latest)}")
        return tuple(cursor.fetchone())


def _pending_check_key(name: str) -> str:
    return f"zonetracker:checked-import:{name}"


# The checks kept by this process, latest last: a confirmation served by the process that
# showed the preview finds its check here without unpickling it.
_KEPT_HERE = 4
_kept_checks: dict[str, tuple[tuple[int | None, ...], ZoneCheck]] = {}


def pending_check_keep(name: str, check: ZoneCheck) -> None:
    """Keep the check of the stored upload ``name`` with the register's version: in this
    process, and in a shared cache (Redis) for a confirmation that another process serves.
    A confirmation that finds it nowhere checks the file again."""
    kept = (register_version(), check)
    _kept_checks[name] = kept
    while len(_kept_checks) > _KEPT_HERE:
        del _kept_checks[next(iter(_kept_checks))]
    if not isinstance(caches["default"], LocMemCache):
        cache_write(
            _pending_check_key(name), kept, timeout=int(PENDING_IMPORT_LIFETIME.total_seconds())
        )


def _pending_kept(name: str) -> tuple[tuple[int | None, ...], ZoneCheck] | None:
    return _kept_checks.get(name) or cache_read(_pending_check_key(name))


def pending_table(name: str) -> Table | None:
    """The file of the stored upload ``name`` as the preview read it, if its check is kept."""
    kept = _pending_kept(name)
    return kept[1].table if kept else None


def pending_check_take(name: str) -> ZoneCheck | None:
    """The kept check of ``name`` if the register is as it was then, otherwise None; either
    way it is kept no longer."""
    kept = _pending_kept(name)
    _kept_checks.pop(name, None)
    if kept is None or kept[0] != register_version():
        return None
    return kept[1]


def zones_import(
    *, raw: bytes, dry_run: bool = False, user: AbstractBaseUser | None = None
) -> ImportSummary:
    """Import a batch file's bytes, all or nothing (``import_zones``, ``load_register``)."""
    try:
        table = read_table(raw, table=BATCH_FORMAT)
    except TableFileError as error:
        return ImportSummary(errors=error.problems)
    return zones_import_table(table, dry_run=dry_run, user=user)[1]


# --- provinces ---------------------------------------------------------------------------------


@dataclass
class ProvinceCheck:
    """The provinces of a file: new ones, changed ones (stored instances, updated), the rest."""

    new: list[Province] = field(default_factory=list)
    changed: list[Province] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


_PROVINCE_FIELDS = ("name_zh", "name_en", "region")


def provinces_check(table: Table, stored: dict[str, Province]) -> ProvinceCheck:
    """Check a provinces file against the stored provinces (by code); write nothing."""
    problems = RowProblems(table, PROVINCE_FORMAT.column_names)
    check = ProvinceCheck()
    seen: dict[str, int] = {}
    for number, values in table.numbered_rows():
        code = str(values["code"])
        if code in seen:
            problems.add(
                number,
                "code",
                _("Province %(code)s is also on row %(row)s.") % {"code": code, "row": seen[code]},
            )
            continue
        seen[code] = number
        province = copy.copy(stored[code]) if code in stored else Province(code=code)
        if province.pk and all(getattr(province, f) == values[f] for f in _PROVINCE_FIELDS):
            check.unchanged += 1
            continue
        for name in _PROVINCE_FIELDS:
            setattr(province, name, values[name])
        try:
            province.full_clean(exclude=None if province.pk is None else ["code"])
        except ValidationError as error:
            for column, messages in error.message_dict.items():
                for message in messages:
                    problems.add(number, column, message)
            continue
        (check.changed if province.pk else check.new).append(province)
    check.errors = problems.messages()
    return check


def provinces_write(*, check: ProvinceCheck) -> None:
    """Insert the new provinces and update the changed ones, with their history."""
    with transaction.atomic():
        Province.objects.bulk_create(check.new)
        rows_update(check.changed, _PROVINCE_FIELDS)
        history_copy(check.new, Province, update=False, default_change_reason=None)
        history_copy(check.changed, Province, update=True, default_change_reason=None)


def provinces_import(*, raw: bytes) -> ImportSummary:
    """Create or update the provinces of a ``code,name_zh,name_en,region`` file by code.

    A province that already matches is not written again, so that loading the same file
    twice adds no history records. All or nothing, like every import.
    """
    try:
        table = read_table(raw, table=PROVINCE_FORMAT)
    except TableFileError as error:
        return ImportSummary(errors=error.problems)
    with transaction.atomic():
        check = provinces_check(table, {p.code: p for p in Province.objects.all()})
        if check.errors:
            return ImportSummary(errors=check.errors, notices=table.notices)
        provinces_write(check=check)
    return ImportSummary(
        new=len(check.new),
        updated=len(check.changed),
        unchanged=check.unchanged,
        notices=table.notices,
    )


# --- uploads waiting for confirmation ----------------------------------------------------------


class PendingImportMissing(TableFileError):
    """The upload a confirmation refers to is gone (already imported, or expired)."""


class DatabaseTmpStorage(BaseStorage):
    """django-import-export's temporary storage, kept in ``PendingImport`` rows.

    The default storage writes to a temporary folder on the local disk, which breaks as soon
    as the preview and the confirmation are served by different app processes or hosts.
    """

    def save(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        PendingImport.objects.filter(
            created_at__lt=timezone.now() - PENDING_IMPORT_LIFETIME
        ).delete()
        pending = PendingImport(data=data)
        if self.name:
            pending.name = self.name
        pending.save()
        self.name = pending.name

    def read(self) -> bytes | str:
        pending = PendingImport.objects.filter(name=self.name or "").first()
        if pending is None:
            raise PendingImportMissing(
                _(
                    "This upload is no longer waiting for confirmation: it was imported "
                    "already, or it expired. Upload the file again."
                )
            )
        data = bytes(pending.data)
        if "b" in self.read_mode:
            return data
        return data.decode(self.encoding or "utf-8-sig")

    def remove(self) -> None:
        PendingImport.objects.filter(name=self.name or "").delete()


def pending_import_claim(*, name: str, user: AbstractBaseUser) -> None:
    """Record ``user`` as the one who uploaded the pending import ``name``, if nobody is yet.

    django-import-export stores an upload before its reader knows the request; the admin
    claims it for its user right after.
    """
    PendingImport.objects.filter(name=name, uploaded_by=None).update(uploaded_by=user)


def pending_import_is_waiting(*, name: str, user: AbstractBaseUser) -> bool:
    """Whether ``name`` is an upload of ``user``'s still waiting for confirmation."""
    return PendingImport.objects.filter(name=name, uploaded_by=user).exists()
