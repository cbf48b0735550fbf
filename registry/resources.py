"""The batch file of zones (DESIGN §5) as a django-import-export resource, for the admin.

The admin's import (upload → preview → confirm) and export pages are django-import-export's;
``ZoneResource`` gives them the zones in the columns of the batch file. An import runs the
product's one pipeline (``registry.importing.zones_import_table``: pure check, then a bulk
write with history, in one transaction), the same as ``import_zones`` and ``load_register``,
and reports it through the library's ``Result`` and ``RowResult``, which its views and
templates read.
"""

from __future__ import annotations

import datetime
from typing import Any

import tablib
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy
from import_export import resources, widgets
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.resources import Diff
from import_export.results import Error, Result, RowResult

from registry.importing import BATCH_FORMAT, COLUMN_NAMES, ZoneChange, zones_import_table
from registry.models import Batch, Province, Zone
from zonetracker.tables import (
    CONTENT_TYPES,
    MAX_LISTED_PROBLEMS,
    Table,
    excerpt,
    read_table,
    table_bytes,
)

# --- widgets: how a zone's values are written in an export ---------------------------------------


class BatchWidget(widgets.Widget):
    """The zone's batch, written as its number."""

    def render(self, value: Batch | None, obj: Any = None, **kwargs: Any) -> int | str:
        if value is None:
            return ""
        return value.number if kwargs.get("force_native_type") else str(value.number)


class ApprovalDateWidget(widgets.Widget):
    def render(
        self, value: datetime.date | None, obj: Any = None, **kwargs: Any
    ) -> datetime.date | str:
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else value.isoformat()


class ProvinceWidget(widgets.Widget):
    """The zone's province; exported as its Chinese name, as in fixtures/zones.csv."""

    def render(self, value: Province | None, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else value.name_zh


class KindWidget(widgets.Widget):
    def render(self, value: str | None, obj: Any = None, **kwargs: Any) -> str:
        return value or ""


# --- file formats --------------------------------------------------------------------------------


class _BatchFileFormat(base_formats.TablibFormat):
    """Reads any table file through ``zonetracker.tables``, whatever format was chosen.

    django-import-export decodes a text upload with one fixed encoding (``utf-8-sig`` by
    default, ``IMPORT_EXPORT_...`` settings choose another, never several): it cannot read
    the GB18030 files Chinese Excel writes beside UTF-8 ones. ``is_binary()`` is True so that
    the admin hands over the upload's bytes untouched, and the product's reader detects.
    """

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: bytes | str, **kwargs: Any) -> Table:
        if isinstance(in_stream, str):
            in_stream = in_stream.encode("utf-8")
        return read_table(in_stream, table=BATCH_FORMAT)

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        # django-import-export's own escaping (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT) removes
        # one leading "=" and nothing else (not + - @ tab CR), changing the data, and turns
        # every cell into text; the product's one escaping puts an apostrophe in front (the
        # OWASP advice), which its imports remove, and leaves numbers and dates typed.
        return table_bytes(dataset, self.get_extension())


class BatchCSV(_BatchFileFormat):
    """CSV; exported as UTF-8 with a BOM so that Excel shows the Chinese names."""

    TABLIB_MODULE = "tablib.formats._csv"
    CONTENT_TYPE = CONTENT_TYPES["csv"]


class BatchXLSX(_BatchFileFormat):
    TABLIB_MODULE = "tablib.formats._xlsx"
    CONTENT_TYPE = CONTENT_TYPES["xlsx"]


BATCH_FORMATS = [BatchCSV, BatchXLSX]


# Rows the admin's preview shows, with their differences; the counts cover the whole file.
PREVIEW_ROWS = 100


# --- the resource --------------------------------------------------------------------------------


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
        widget=widgets.CharWidget(),
        readonly=True,
    )
    name_zh = Field(attribute="name_zh", column_name="name_zh", widget=widgets.CharWidget())
    name_en = Field(attribute="name_en", column_name="name_en", widget=widgets.CharWidget())
    province = Field(attribute="province", column_name="province", widget=ProvinceWidget())
    kind = Field(attribute="kind", column_name="kind", widget=KindWidget())

    class Meta:
        model = Zone
        name = gettext_lazy("Batch file of zones")
        fields = COLUMN_NAMES
        import_order = COLUMN_NAMES
        export_order = COLUMN_NAMES
        import_id_fields = ["name_zh"]

    def get_queryset(self):
        return Zone.objects.with_related().order_by("batch__number", "name_en")

    def import_data(
        self,
        dataset: Table,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs: Any,
    ) -> Result:
        """Import a read batch file all or nothing, and report it as django-import-export does.

        django-import-export's row loop (``import_row``) cleans, validates and saves one row
        at a time, each with its own queries, signals and HTML diff (about 1.5 ms a row), and
        offers no hook where rows are checked against each other and against the register
        before the first is saved. ``use_bulk`` batches the saves but with ``bulk_create``,
        which sends no signals, so simple-history writes no records; its own advice for bulk
        imports is to override ``import_data`` (django-import-export issue #403). So the
        product's pipeline does the import, and the library's ``Result`` reports it: rows
        numbered as spreadsheet rows, problems keyed by column, a diff for the preview.
        Transactions and roll-back on any problem are not the caller's choice.
        """
        check, summary = zones_import_table(
            dataset, dry_run=dry_run, user=kwargs.get("user"), pending=kwargs.get("pending", "")
        )
        result = self.get_result_class()()
        result.diff_headers = self.get_diff_headers()
        result.total_rows = len(dataset)
        # The admin shows the summary's words: counts, notices and "row N, column C" errors.
        result.summary = summary
        if check.ok and not summary.ok:
            result.append_base_error(Error(summary.errors[0]))
        keep_instance = kwargs.get("retain_instance_in_row_result", False)
        changes = {change.row.number: change for change in check.changes}
        by_row = check.problems.by_row
        listed_invalid = previewed = 0
        for number, values in dataset.numbered_rows():
            if number in by_row:
                row_result = self.get_row_result_class()()
                row_result.import_type = RowResult.IMPORT_TYPE_INVALID
                row_result.validation_error = ValidationError(by_row[number])
                result.increment_row_result_total(row_result)
                # The page lists the invalid rows with their values: as few, and as short, as
                # the summary's errors, so that a file of long bad cells makes a small page.
                if listed_invalid < MAX_LISTED_PROBLEMS:
                    listed_invalid += 1
                    shown = {
                        name: excerpt(value) if isinstance(value, str) else value
                        for name, value in values.items()
                    }
                    result.append_invalid_row(number, shown, row_result.validation_error)
                    result.append_row_result(row_result)
            elif number in changes:
                # The preview shows the first rows only, with their differences; the counts
                # cover every row. A confirmed import keeps every row's result (the admin's
                # log names each zone) and draws no differences.
                if dry_run and previewed >= PREVIEW_ROWS:
                    result.increment_row_result_total(self._row_type(changes[number]))
                    continue
                previewed += 1
                row_result = self._row_result(
                    changes[number], keep_instance, written=summary.ok and not dry_run, diff=dry_run
                )
                result.increment_row_result_total(row_result)
                result.append_row_result(row_result)
        return result

    def _row_type(self, change: ZoneChange) -> RowResult:
        row_result = self.get_row_result_class()()
        if change.is_new:
            row_result.import_type = RowResult.IMPORT_TYPE_NEW
        elif change.changed:
            row_result.import_type = RowResult.IMPORT_TYPE_UPDATE
            row_result.original = change.original
        else:
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
        return row_result

    def _row_result(
        self, change: ZoneChange, keep_instance: bool, *, written: bool, diff: bool
    ) -> RowResult:
        row_result = self._row_type(change)
        if diff:
            difference = Diff(self, change.original or Zone(), change.is_new)
            difference.compare_with(self, change.zone)
            row_result.diff = difference.as_html()
        if written or not change.is_new:
            row_result.add_instance_info(change.zone)
        if keep_instance:
            row_result.instance = change.zone
        return row_result
