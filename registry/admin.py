"""The register in the admin: provinces, batches and zones, their history, and batch import/export.

Nothing of the register is deleted (an exited zone keeps its history), history is read-only,
and the zones' import and export go through ``registry.resources.ZoneResource``.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.admin import ImportExportMixin
from import_export.forms import ConfirmImportForm, ExportForm, ImportForm
from import_export.results import Result
from simple_history.admin import SimpleHistoryAdmin

from registry.importing import (
    DatabaseTmpStorage,
    pending_import_claim,
    pending_import_is_waiting,
    pending_table,
)
from registry.models import Batch, Province, ProvinceReviewer, Zone, ZoneReporter
from registry.resources import BATCH_FORMATS, BatchXLSX, ZoneResource
from registry.scopes import may_assign_scopes, scopes_import_checked
from zonetracker.tables import ImportSummary, TableFileError

logger = logging.getLogger(__name__)


class ReadOnlyHistoryMixin:
    """simple-history's history pages, without its "revert to this version" form.

    History is the record of who changed what; changes are made on the object itself.
    """

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Hiding the Revert button is not enough: the view would still save a POST.
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class NeverDeleteMixin:
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Province)
class ProvinceAdmin(NeverDeleteMixin, ReadOnlyHistoryMixin, SimpleHistoryAdmin):
    list_display = ("code", "name_zh", "name_en", "region", "zone_count")
    list_filter = ("region",)
    search_fields = ("code", "name_zh", "name_en")
    ordering = ("code",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Province]:
        return super().get_queryset(request).annotate(zone_count=Count("zones"))

    @admin.display(description=gettext_lazy("zones"), ordering="zone_count")
    def zone_count(self, province: Province) -> int:
        return province.zone_count


@admin.register(Batch)
class BatchAdmin(NeverDeleteMixin, ReadOnlyHistoryMixin, SimpleHistoryAdmin):
    list_display = ("number", "approved_on", "document_no", "zone_count")
    search_fields = ("document_no", "notes")
    date_hierarchy = "approved_on"
    ordering = ("number",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Batch]:
        return super().get_queryset(request).with_zone_counts()

    @admin.display(description=gettext_lazy("zones"), ordering="zone_count")
    def zone_count(self, batch: Batch) -> int:
        return batch.zone_count


class BatchImportForm(ImportForm):
    """The import form, refusing an oversized upload before anything reads it.

    django-import-export reads the whole upload into memory, and Django only bounds the
    memory of uploads, not their size.
    """

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; the largest file accepted is %(max)s.")
                % {
                    "size": filesizeformat(upload.size),
                    "max": filesizeformat(settings.IMPORT_MAX_BYTES),
                }
            )
        return upload


class BatchConfirmImportForm(ConfirmImportForm):
    """The hidden form that confirms a previewed import, checked as any other input.

    Its fields come back from the browser: the format and resource must be ones the admin
    offers, and the stored upload must be this user's and still waiting.
    """

    format = forms.TypedChoiceField(
        choices=[(str(i), str(i)) for i in range(len(BATCH_FORMATS))],
        coerce=int,
        widget=forms.HiddenInput(),
    )
    resource = forms.ChoiceField(
        choices=[("", ""), ("0", "0")], required=False, widget=forms.HiddenInput()
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_import_file_name(self) -> str:
        name = super().clean_import_file_name()
        if self.user is not None and not pending_import_is_waiting(name=name, user=self.user):
            raise forms.ValidationError(PENDING_IMPORT_GONE)
        return name

    def problems(self) -> list[str]:
        """One message for a refused confirmation, whichever field was wrong."""
        if self.errors == {"import_file_name": [str(PENDING_IMPORT_GONE)]}:
            return [str(PENDING_IMPORT_GONE)]
        return [
            _(
                "The confirmation of this import is incomplete or was changed; nothing was "
                "imported. Upload the file again."
            )
        ]


PENDING_IMPORT_GONE = gettext_lazy(
    "This upload is no longer waiting for confirmation: it was imported already, or it "
    "expired. Upload the file again."
)


@admin.register(Zone)
class ZoneAdmin(NeverDeleteMixin, ReadOnlyHistoryMixin, ImportExportMixin, SimpleHistoryAdmin):
    list_display = (
        "name_en",
        "name_zh",
        "province",
        "region",
        "batch_number",
        "kind",
        "status",
        "status_changed_on",
    )
    list_filter = ("province__region", "batch", "status", "kind", "province")
    list_select_related = ("province", "batch")
    search_fields = ("name_zh", "name_en")
    ordering = ("batch__number", "name_en")
    readonly_fields = ("slug",)

    resource_classes = [ZoneResource]
    import_formats = BATCH_FORMATS
    export_formats = BATCH_FORMATS
    import_form_class = BatchImportForm
    confirm_form_class = BatchConfirmImportForm
    # Columns are not selectable: an export is a batch file the import reads back unchanged.
    export_form_class = ExportForm
    import_template_name = "admin/registry/zone/import.html"
    import_error_display = ("message",)

    def get_readonly_fields(self, request: HttpRequest, obj: Zone | None = None) -> tuple:
        # A zone never moves to another batch, in the admin as in imports.
        if obj is not None:
            return (*self.readonly_fields, "batch")
        return self.readonly_fields

    @admin.display(description=gettext_lazy("region"), ordering="province__region")
    def region(self, zone: Zone) -> str:
        return zone.province.get_region_display()

    @admin.display(description=gettext_lazy("batch"), ordering="batch__number")
    def batch_number(self, zone: Zone) -> int:
        return zone.batch.number

    # --- import ---------------------------------------------------------------------------

    def add_data_read_fail_error_to_form(self, form: forms.Form, e: Exception) -> None:
        if isinstance(e, TableFileError):
            for problem in e.problems:
                form.add_error("import_file", problem)
            return
        logger.exception("Unexpected error while reading an uploaded batch file")
        form.add_error("import_file", _("The file could not be read."))

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None)
        if context is None:
            return response
        if context.get("result") is not None:
            context["summary"] = context["result"].summary
        upload = request.FILES.get("import_file")
        name = getattr(upload, "tmp_storage_name", None)
        if request.method == "POST" and name:
            if "confirm_form" in context:
                pending_import_claim(name=name, user=request.user)
            else:
                # The upload was stored before it was read; nothing will confirm it now.
                DatabaseTmpStorage(name=name).remove()
        return response

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        """The stored upload's name goes to the import: the preview keeps its check under it,
        and the confirmation writes that check instead of checking the file again."""
        data_kwargs = super().get_import_data_kwargs(**kwargs)
        form = kwargs.get("form")
        cleaned = getattr(form, "cleaned_data", {})
        upload = cleaned.get("import_file")
        pending = getattr(upload, "tmp_storage_name", None) or cleaned.get("import_file_name")
        if pending:
            data_kwargs["pending"] = pending
        return data_kwargs

    def generate_log_entries(self, result: Result, request: HttpRequest) -> None:
        """One entry in the admin's log per import, with its counts: every zone it wrote has
        its own history record with the importer, and ten thousand log entries would cost
        as much as the import."""
        counts = result.summary.counts() if result.summary else ""
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type_id=ContentType.objects.get_for_model(Zone).pk,
            object_id=None,
            object_repr=_("Batch file of zones")[:200],
            action_flag=ADDITION,
            change_message=_("Imported: %(counts)s.") % {"counts": counts},
        )

    def get_confirm_form_kwargs(
        self, request: HttpRequest, import_form: forms.Form | None = None
    ) -> dict[str, Any]:
        return {**super().get_confirm_form_kwargs(request, import_form), "user": request.user}

    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        # Checked before django-import-export's require_POST, so that a user without the
        # permission learns nothing more than "forbidden", whatever the method.
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            # The confirm form comes back from the browser and may have been changed: a
            # refused one is said on the import page, not answered with an error page.
            confirm_form = self.create_confirm_form(request)
            if not confirm_form.is_valid():
                return self.render_import_failure(
                    request, ImportSummary(errors=confirm_form.problems())
                )
            # The file as the preview read it, when its check is kept: not read again.
            name = confirm_form.cleaned_data["import_file_name"]
            table = pending_table(name)
            if table is not None:
                # As below: the import, the removal of its upload and the log commit together.
                with transaction.atomic():
                    result = self.process_dataset(table, confirm_form, request, **kwargs)
                    DatabaseTmpStorage(name=name).remove()
                    return self.process_result(result, request)
        try:
            # The import, the removal of its pending upload and the admin's log of it commit
            # together: a process killed in between leaves the upload waiting and the
            # register as it was, never the zones imported with their upload still pending.
            with transaction.atomic():
                return super().process_import(request, **kwargs)
        except TableFileError as error:
            # The stored upload is gone (confirmed twice, or expired) or no longer readable.
            return self.render_import_failure(request, ImportSummary(errors=error.problems))

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        # The register may have changed since the preview; the confirmation's own import
        # was rolled back then, and saying "Import finished" would be a lie.
        if result.has_errors() or result.has_validation_errors():
            return self.render_import_failure(request, result.summary, result=result)
        return super().process_result(result, request)

    def add_success_message(self, result: Result, request: HttpRequest) -> None:
        messages.success(
            request,
            _("Import finished: %(counts)s.") % {"counts": result.summary.counts()},
        )

    def render_import_failure(
        self, request: HttpRequest, summary: ImportSummary, *, result: Result | None = None
    ) -> TemplateResponse:
        """The import page with a fresh form and the errors of a failed confirmation."""
        form = self.get_import_form_class(request)(
            self.get_import_formats(), self.get_import_resource_classes(request)
        )
        resource = ZoneResource()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import"),
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
            "result": result,
            "summary": summary,
            "import_error_display": self.import_error_display,
            "fields_list": [
                (
                    resource.get_display_name(),
                    [f.column_name for f in resource.get_user_visible_fields()],
                )
            ],
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    # --- export ---------------------------------------------------------------------------

    def get_export_data(
        self, file_format: Any, request: HttpRequest, queryset: QuerySet[Zone], **kwargs: Any
    ) -> bytes:
        if not self.has_export_permission(request):
            raise PermissionDenied
        # django-import-export keeps numbers and dates typed only for its own XLSX class.
        dataset = self.get_data_for_export(
            request,
            queryset,
            force_native_type=isinstance(file_format, BatchXLSX),
            **kwargs,
        )
        return file_format.export_data(dataset)

    def get_export_filename(self, request: HttpRequest, queryset: QuerySet, file_format) -> str:
        date = timezone.localdate().isoformat()
        return f"zones-{date}.{file_format.get_extension()}"


class ScopesUploadForm(forms.Form):
    """Zone reporters › Import scopes: the scope file."""

    import_file = forms.FileField(label=gettext_lazy("scope file (CSV or XLSX)"))

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; the largest file accepted is %(max)s.")
                % {
                    "size": filesizeformat(upload.size),
                    "max": filesizeformat(settings.IMPORT_MAX_BYTES),
                }
            )
        return upload


class ScopesConfirmForm(forms.Form):
    """The hidden form that confirms a previewed scope file, waiting in the database."""

    pending = forms.CharField(max_length=64, widget=forms.HiddenInput())


@admin.register(ZoneReporter)
class ZoneReporterAdmin(ReadOnlyHistoryMixin, SimpleHistoryAdmin):
    """Who reports which zone's figures: the scope of each Zone reporter."""

    list_display = ("user", "zone")
    list_filter = ("zone__province",)
    list_select_related = ("user", "zone")
    search_fields = ("user__username", "zone__name_zh", "zone__name_en")
    autocomplete_fields = ("user", "zone")
    change_list_template = "admin/registry/zonereporter/change_list.html"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_scopes_view),
                name="registry_zonereporter_import_scopes",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import_scopes": may_assign_scopes(request.user),
        }
        return super().changelist_view(request, extra_context)

    def import_scopes_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a scope file, preview its rows (or its problems by row), then confirm.

        The same check and writer as ``import_scopes`` (``registry.scopes``): the upload is
        checked in full (a dry run) and waits in the database (``DatabaseTmpStorage``) for its
        uploader's confirmation, which checks it again and writes it, all or nothing.
        """
        if not may_assign_scopes(request.user):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import scopes"),
            "opts": self.model._meta,
        }
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm_scopes(request, context)
        form = ScopesUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["import_file"].read()
            check, summary = scopes_import_checked(raw=raw, by=request.user, dry_run=True)
            if summary.ok:
                storage = DatabaseTmpStorage()
                storage.save(raw)
                pending_import_claim(name=storage.name, user=request.user)
                context["confirm_form"] = ScopesConfirmForm(initial={"pending": storage.name})
                context["rows"] = check.rows if check is not None else []
            context["summary"] = summary
        context["form"] = form
        return TemplateResponse(request, "admin/registry/zonereporter/import_scopes.html", context)

    def _confirm_scopes(self, request: HttpRequest, context: dict) -> HttpResponse:
        confirm = ScopesConfirmForm(request.POST)
        context["form"] = ScopesUploadForm()
        if not confirm.is_valid() or not pending_import_is_waiting(
            name=confirm.cleaned_data["pending"], user=request.user
        ):
            context["failure"] = [
                _(
                    "This upload is no longer waiting for confirmation: it was imported "
                    "already, or it expired. Upload the file again."
                )
            ]
            return TemplateResponse(
                request, "admin/registry/zonereporter/import_scopes.html", context
            )
        storage = DatabaseTmpStorage(name=confirm.cleaned_data["pending"], read_mode="rb")
        _check, summary = scopes_import_checked(raw=storage.read(), by=request.user)
        if not summary.ok:
            context["failure"] = summary.errors
            return TemplateResponse(
                request, "admin/registry/zonereporter/import_scopes.html", context
            )
        storage.remove()
        self.message_user(
            request,
            _("The scope file was imported: %(counts)s.") % {"counts": summary.counts()},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:registry_zonereporter_changelist"))


@admin.register(ProvinceReviewer)
class ProvinceReviewerAdmin(ReadOnlyHistoryMixin, SimpleHistoryAdmin):
    """Who pre-reviews which province's reports: the scope of each Provincial reviewer."""

    list_display = ("user", "province")
    list_filter = ("province",)
    list_select_related = ("user", "province")
    search_fields = ("user__username", "province__name_zh", "province__name_en")
    autocomplete_fields = ("user", "province")
