"""Admin for cycles, frameworks and evaluations: Administrators' tools, with history."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin

from evaluations.forms import ValueField
from evaluations.models import (
    Cycle,
    CycleStatus,
    Evaluation,
    Evidence,
    Grade,
    Indicator,
    Score,
    ValidationRule,
)
from evaluations.past_results import RESULTS_FORMAT, results_import
from evaluations.selectors import evaluations_past_entry
from evaluations.services import (
    copies_default_framework,
    cycle_open,
    cycle_publish,
    evaluation_assign,
    indicator_add,
    indicator_remove,
    previous_cycle,
    rankings_refresh,
)
from registry.importing import DatabaseTmpStorage, pending_import_claim, pending_import_is_waiting
from zonetracker import permissions
from zonetracker.punctuation import enumeration, sentences
from zonetracker.tables import TableFileError, read_table


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """History is evidence: it can be read in the admin but never reverted.

    A bulk action's selection comes back from the browser (the changelist's checkboxes, an
    action's confirmation page): one that does not name rows of this model is refused with
    a message, not an error page.
    """

    def response_action(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        selected = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        if not all(_is_primary_key(self.model, value) for value in selected):
            self.message_user(
                request,
                _("The selection was not valid; nothing was changed. Choose the items again."),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        extra_context = {**(extra_context or {}), "revert_disabled": True}
        return super().history_form_view(request, object_id, version_id, extra_context)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _is_primary_key(model: type, value: str) -> bool:
    """Whether ``value`` could be a primary key of ``model`` (a number the column holds)."""
    pk = model._meta.pk
    try:
        pk.run_validators(pk.to_python(value))
    except ValidationError:
        return False
    return True


class IndicatorInline(admin.TabularInline):
    model = Indicator
    fields = ["position", "code", "name_en", "name_zh", "dimension", "kind", "weight"]
    extra = 0
    show_change_link = True
    ordering = ["position", "code"]

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        # A tabular inline heads its columns once and labels none of its boxes: each box
        # names its column itself, for screen readers and voice control.
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            formfield.widget.attrs.setdefault("aria-label", str(db_field.verbose_name))
        return formfield

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        # Where evaluations are submitted or approved, an indicator is added through
        # Indicators › Add, which says first which of them return to their reviewers.
        return (
            obj is not None
            and obj.status in {CycleStatus.PREPARING, CycleStatus.OPEN}
            and not evaluations_past_entry(obj)
            and super().has_add_permission(request, obj)
        )

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class OpenCycleForm(forms.ModelForm):
    """Opening a cycle from the admin: a year and, optionally, a cut-off date."""

    class Meta:
        model = Cycle
        fields = ["year", "cutoff"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cutoff"].required = False
        self.fields["cutoff"].help_text = _(
            "Zones approved on or before this date are evaluated. Leave it empty for the "
            "31 December before the evaluated year."
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("year") and not cleaned.get("cutoff"):
            cleaned["cutoff"] = Cycle.default_cutoff(cleaned["year"])
            self.instance.cutoff = cleaned["cutoff"]
        return cleaned


class ResultsUploadForm(forms.Form):
    """Cycles › Import past results: the year and its results file."""

    year = forms.IntegerField(label=gettext_lazy("evaluated year"), min_value=2015, max_value=2100)
    import_file = forms.FileField(label=gettext_lazy("results file (CSV or XLSX)"))

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


class ResultsConfirmForm(forms.Form):
    """The hidden form that confirms a previewed results file, waiting in the database."""

    year = forms.IntegerField(min_value=2015, max_value=2100, widget=forms.HiddenInput())
    pending = forms.CharField(max_length=64, widget=forms.HiddenInput())


@admin.register(Cycle)
class CycleAdmin(ReadOnlyHistoryAdmin):
    list_display = ["year", "status", "imported", "cutoff", "evaluation_count", "published_at"]
    list_filter = ["status", "imported"]
    inlines = [IndicatorInline]
    actions = ["publish"]
    fieldsets = [
        (None, {"fields": ["year", "cutoff", "status", "entry_deadline", "approval_deadline"]}),
        (
            gettext_lazy("Policy"),
            {
                "fields": [
                    "grade1_size",
                    "grade2_threshold",
                    "grade3_threshold",
                    "adjustment_cap",
                    "exit_rule",
                    "failing_grade",
                    "exit_bottom",
                    "exit_after",
                    "exit_within",
                    "rationale_public",
                ]
            },
        ),
        (gettext_lazy("Publication"), {"fields": ["published_at", "published_by"]}),
    ]

    change_list_template = "admin/evaluations/cycle/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cycle]:
        return super().get_queryset(request).annotate(evaluation_total=Count("evaluations"))

    def get_urls(self):
        return [
            path(
                "import-results/",
                self.admin_site.admin_view(self.import_results_view),
                name="evaluations_cycle_import_results",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import_results": request.user.has_perm("evaluations.import_results"),
        }
        return super().changelist_view(request, extra_context)

    # --- past results ---------------------------------------------------------------------

    def import_results_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a year's past results, preview what they would write, then confirm.

        The same check and writer as ``import_results`` (``results_import``): the upload is
        checked in full (a dry run) and waits in the database (``DatabaseTmpStorage``) for its
        uploader's confirmation, which checks it again and writes it, all or nothing.
        """
        if not request.user.has_perm("evaluations.import_results"):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import past results"),
            "opts": self.model._meta,
            "grades": [(grade.value, grade.label) for grade in Grade],
        }
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm_results(request, context)
        form = ResultsUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["import_file"].read()
            year = form.cleaned_data["year"]
            try:
                table = read_table(raw, table=RESULTS_FORMAT)
                check, summary = results_import(
                    year=year, table=table, by=request.user, dry_run=True
                )
            except TableFileError as error:
                check, summary = None, None
                for problem in error.problems:
                    form.add_error("import_file", problem)
            if summary is not None and summary.ok:
                storage = DatabaseTmpStorage()
                storage.save(raw)
                pending_import_claim(name=storage.name, user=request.user)
                context["confirm_form"] = ResultsConfirmForm(
                    initial={"year": year, "pending": storage.name}
                )
                context["rows"] = check.rows
                context["year"] = year
            context["summary"] = summary
        context["form"] = form
        return TemplateResponse(request, "admin/evaluations/cycle/import_results.html", context)

    def _confirm_results(self, request: HttpRequest, context: dict) -> HttpResponse:
        confirm = ResultsConfirmForm(request.POST)
        gone = _(
            "This upload is no longer waiting for confirmation: it was imported already, or it "
            "expired. Upload the file again."
        )
        context["form"] = ResultsUploadForm()
        if not confirm.is_valid() or not pending_import_is_waiting(
            name=confirm.cleaned_data["pending"], user=request.user
        ):
            context["failure"] = [gone]
            return TemplateResponse(request, "admin/evaluations/cycle/import_results.html", context)
        storage = DatabaseTmpStorage(name=confirm.cleaned_data["pending"], read_mode="rb")
        year = confirm.cleaned_data["year"]
        try:
            table = read_table(storage.read(), table=RESULTS_FORMAT)
            _check, summary = results_import(year=year, table=table, by=request.user)
            problems = summary.errors
        except TableFileError as error:
            problems = error.problems
        if problems:
            context["failure"] = problems
            return TemplateResponse(request, "admin/evaluations/cycle/import_results.html", context)
        storage.remove()
        self.message_user(
            request,
            _(
                "The results of %(year)s were imported as a published cycle: grades as "
                "published; no scores kept."
            )
            % {"year": year},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:evaluations_cycle_changelist"))

    @admin.display(description=gettext_lazy("evaluations"), ordering="evaluation_total")
    def evaluation_count(self, cycle: Cycle) -> int:
        return cycle.evaluation_total

    def get_readonly_fields(self, request: HttpRequest, obj: Cycle | None = None) -> list[str]:
        # A published cycle is frozen with the weights and policy it was computed with;
        # publication itself goes through publish_cycle, never a form field.
        if obj is not None and obj.is_published:
            return [f.name for f in Cycle._meta.fields]
        readonly = ["published_at", "published_by"]
        if obj is not None:
            readonly.append("year")
        return readonly

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            kwargs["choices"] = [
                (value, label)
                for value, label in CycleStatus.choices
                if value != CycleStatus.PUBLISHED
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    @admin.action(
        description=gettext_lazy("Publish the selected cycles (all evaluations approved)"),
        permissions=["publish"],
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[Cycle]) -> HttpResponse | None:
        """Ask first, on a page that says what publishing does; publish on its confirming POST."""
        if "confirm" not in request.POST:
            context = {
                **self.admin_site.each_context(request),
                "title": _("Publish cycles?"),
                "opts": self.model._meta,
                "cycles": queryset.order_by("year"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/evaluations/cycle/publish_confirmation.html", context
            )
        for cycle in queryset.order_by("year"):
            try:
                decisions = cycle_publish(cycle=cycle, by=request.user)
            except ValidationError as error:
                self.message_user(
                    request,
                    _("%(cycle)s was not published: %(reason)s")
                    % {"cycle": cycle, "reason": sentences(error.messages)},
                    messages.ERROR,
                )
                continue
            self.message_user(
                request,
                _("%(cycle)s is published; %(count)s recommendations await a decision.")
                % {"cycle": cycle, "count": len(decisions)},
                messages.SUCCESS,
            )
        return None

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("evaluations.publish_cycle")

    def get_form(self, request: HttpRequest, obj: Cycle | None = None, **kwargs):
        if obj is None:
            kwargs["form"] = OpenCycleForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Cycle | None = None):
        if obj is None:
            return [(None, {"fields": ["year", "cutoff"]})]
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request: HttpRequest, obj: Cycle | None):
        return self.inlines if obj is not None else []

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not Indicator:
            super().save_formset(request, form, formset, change)
            return
        for indicator in formset.save(commit=False):
            if indicator.pk is None:
                returned = indicator_add(indicator=indicator, by=request.user)
                _report_returned(self, request, indicator, returned)
            else:
                indicator._history_user = request.user
                indicator.save()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("evaluations.open_cycle")

    def has_change_permission(self, request: HttpRequest, obj: Cycle | None = None) -> bool:
        # A published cycle is read, never changed: its policy, its framework inline.
        if obj is not None and obj.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Cycle, form, change: bool) -> None:
        if change:
            obj._history_user = request.user
            super().save_model(request, obj, form, change)
            # The policy (and the weights of its framework inline, saved in the same request)
            # decide the grades: the provisional rankings follow them once it commits.
            rankings_refresh(obj)
            return
        # Adding a cycle means opening it: framework, policy and evaluations come with it.
        opened = cycle_open(year=obj.year, cutoff=obj.cutoff, by=request.user)
        obj.pk = opened.pk
        obj.refresh_from_db()
        previous = previous_cycle(obj.year)
        if previous is not None and copies_default_framework(previous):
            self.message_user(
                request,
                _(
                    "The cycle of %(year)s holds imported results (grades only, no "
                    "framework): the default framework was copied."
                )
                % {"year": previous.year},
                messages.INFO,
            )


def _report_returned(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    indicator: Indicator,
    returned: list[Evaluation],
) -> None:
    if returned:
        model_admin.message_user(
            request,
            ngettext(
                "%(indicator)s was added; %(count)s evaluation returned to its reviewer: "
                "%(zones)s.",
                "%(indicator)s was added; %(count)s evaluations returned to their reviewers: "
                "%(zones)s.",
                len(returned),
            )
            % {
                "indicator": indicator,
                "count": len(returned),
                "zones": enumeration(str(e.zone) for e in returned),
            },
            messages.WARNING,
        )


class IndicatorAdminForm(forms.ModelForm):
    """An indicator of the default framework or of a cycle that is not published.

    Adding one to a cycle whose evaluations are submitted or approved sends those back to
    their reviewers (``indicator_add``): the form names them and asks for a confirmation
    before anything is saved.
    """

    confirm_return = forms.BooleanField(
        required=False,
        label=gettext_lazy("Return the submitted and approved evaluations"),
        help_text=gettext_lazy(
            "Adding an indicator to a cycle returns every submitted or approved evaluation of "
            "it to its reviewer, with the reason, so that the new indicator's value is entered "
            "and approved before publication."
        ),
    )

    # No Meta: the admin builds the form's fields from the model, whatever fields it has.

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "cycle" in self.fields:
            self.fields["cycle"].queryset = Cycle.objects.exclude(status=CycleStatus.PUBLISHED)

    def clean(self) -> dict:
        cleaned = super().clean()
        cycle = cleaned.get("cycle")
        if self.instance.pk is not None or cycle is None or cleaned.get("confirm_return"):
            return cleaned
        returned = evaluations_past_entry(cycle)
        if returned:
            self.add_error(
                "confirm_return",
                ngettext(
                    "%(count)s evaluation of %(year)s is submitted or approved and will return "
                    "to its reviewer: %(zones)s. Tick the box to add the indicator anyway.",
                    "%(count)s evaluations of %(year)s are submitted or approved and will "
                    "return to their reviewers: %(zones)s. Tick the box to add the indicator "
                    "anyway.",
                    len(returned),
                )
                % {
                    "count": len(returned),
                    "year": cycle.year,
                    "zones": enumeration(str(e.zone) for e in returned),
                },
            )
        return cleaned


@admin.register(Indicator)
class IndicatorAdmin(ReadOnlyHistoryAdmin):
    form = IndicatorAdminForm
    list_display = ["code", "name_en", "name_zh", "dimension", "kind", "weight", "cycle"]
    list_filter = ["cycle", "dimension", "kind"]
    list_select_related = ["cycle"]
    search_fields = ["code", "name_en", "name_zh"]
    ordering = ["cycle", "position", "code"]

    def has_change_permission(self, request: HttpRequest, obj: Indicator | None = None) -> bool:
        if obj is not None and obj.cycle is not None and obj.cycle.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Indicator | None = None):
        return ["cycle"] if obj is not None else []

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        # A bound is a value a score may take: read and refused as the entry form does.
        if db_field.name in {"min_value", "max_value"}:
            kwargs["form_class"] = ValueField
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Indicator | None = None) -> list[str]:
        fields = super().get_fields(request, obj)
        if obj is not None:
            return [name for name in fields if name != "confirm_return"]
        return [*[name for name in fields if name != "confirm_return"], "confirm_return"]

    def save_model(self, request: HttpRequest, obj: Indicator, form, change: bool) -> None:
        if change:
            obj._history_user = request.user
            super().save_model(request, obj, form, change)
            # Weights and ranges decide the totals: the provisional rankings follow them.
            rankings_refresh(obj.cycle)
            return
        returned = indicator_add(indicator=obj, by=request.user)
        _report_returned(self, request, obj, returned)

    # Removing an indicator: one at a time, on its delete page, which lists the values that
    # go with it and the evaluations that return to their reviewers (``indicator_remove``).

    def has_delete_permission(self, request: HttpRequest, obj: Indicator | None = None) -> bool:
        if (
            obj is not None
            and obj.cycle is not None
            and obj.cycle.status
            not in {
                CycleStatus.PREPARING,
                CycleStatus.OPEN,
            }
        ):
            return False
        return request.user.has_perm("evaluations.delete_indicator")

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_deleted_objects(self, objs, request: HttpRequest):
        # The scores go with the indicator (indicator_remove deletes them with history),
        # so they are listed, not reported as protected.
        indicators = list(objs)
        scores = Score.objects.filter(indicator__in=indicators).count()
        listed = [str(indicator) for indicator in indicators]
        if scores:
            listed.append(
                ngettext(
                    "%(count)s value entered for it",
                    "%(count)s values entered for it",
                    scores,
                )
                % {"count": scores}
            )
        counts = {Indicator._meta.verbose_name_plural: len(indicators)}
        if scores:
            counts[Score._meta.verbose_name_plural] = scores
        return listed, counts, set(), []

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None):
        indicator = self.get_object(request, object_id)
        returning = (
            evaluations_past_entry(indicator.cycle)
            if indicator is not None and indicator.cycle is not None
            else []
        )
        extra_context = {**(extra_context or {}), "returning": returning}
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request: HttpRequest, obj: Indicator) -> None:
        returned = indicator_remove(indicator=obj, by=request.user)
        if returned:
            self.message_user(
                request,
                ngettext(
                    "%(count)s evaluation returned to its reviewer: %(zones)s.",
                    "%(count)s evaluations returned to their reviewers: %(zones)s.",
                    len(returned),
                )
                % {"count": len(returned), "zones": enumeration(str(e.zone) for e in returned)},
                messages.WARNING,
            )


class ScoreInline(admin.TabularInline):
    model = Score
    fields = [
        "indicator",
        "reported_value",
        "value",
        "verification_reason",
        "flag_reason",
        "note",
        "entered_by",
        "entered_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["indicator__position", "indicator__code"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Score]:
        return super().get_queryset(request).select_related("indicator", "entered_by")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class EvaluationAdminForm(forms.ModelForm):
    """Assigning one evaluation to a reviewer, through ``evaluation_assign`` like the action.

    The service holds the rules (an Administrator assigns, a reviewer receives, a published
    cycle is frozen). Assignment changes no score: it neither moves the version an editor
    holds nor makes the Administrator one of the evaluation's editors.
    """

    # Set by EvaluationAdmin.get_form to the user who posts the form.
    assigned_by: AbstractBaseUser | None = None

    class Meta:
        model = Evaluation
        fields = ["reviewer"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "reviewer" in self.fields:
            self.fields["reviewer"].queryset = permissions.reviewers()

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors or self.instance.pk is None or self.assigned_by is None:
            return cleaned
        if "reviewer" not in self.changed_data:
            return cleaned
        # The admin's change view runs in one transaction, so the assignment made here and
        # the change message logged afterwards commit together.
        try:
            evaluation_assign(
                evaluations=Evaluation.objects.filter(pk=self.instance.pk),
                reviewer=cleaned.get("reviewer"),
                by=self.assigned_by,
            )
        except PermissionDenied as refusal:
            raise ValidationError(str(refusal)) from None
        return cleaned


class AssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), label=gettext_lazy("Reviewer")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = permissions.reviewers()


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyHistoryAdmin):
    form = EvaluationAdminForm
    list_display = ["zone", "cycle", "reviewer", "status", "total", "rank", "grade"]
    list_filter = [
        "cycle",
        "status",
        "reviewer",
        "zone__province__region",
        "zone__province",
        "zone__batch",
    ]
    list_select_related = ["zone", "cycle", "reviewer"]
    search_fields = ["zone__name_en", "zone__name_zh"]
    inlines = [ScoreInline]
    actions = ["assign_to_reviewer"]
    fields = [
        "cycle",
        "zone",
        "reviewer",
        "status",
        "total",
        "rank",
        "grade",
        "last_edited_by",
        "submitted_by",
        "submitted_at",
        "approved_by",
        "approved_at",
        "return_reason",
        "reported_by",
        "reported_at",
        "forwarded_by",
        "forwarded_at",
        "verified_by",
        "verified_at",
    ]
    # Only the reviewer is edited here; scores and states change through the services.
    readonly_fields = [name for name in fields if name != "reviewer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Evaluation | None = None) -> bool:
        if obj is not None and obj.cycle.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def get_form(self, request: HttpRequest, obj: Evaluation | None = None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"assigned_by": request.user})

    def save_model(self, request: HttpRequest, obj: Evaluation, form, change: bool) -> None:
        """Nothing to save: the form's validation assigned the reviewer through the service."""

    @admin.action(
        description=gettext_lazy("Assign the selected evaluations to a reviewer"),
        permissions=["assign"],
    )
    def assign_to_reviewer(
        self, request: HttpRequest, queryset: QuerySet[Evaluation]
    ) -> HttpResponse | None:
        form = AssignForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                count = evaluation_assign(
                    evaluations=queryset, reviewer=form.cleaned_data["reviewer"], by=request.user
                )
            except (ValidationError, PermissionDenied) as error:
                message = (
                    sentences(error.messages) if isinstance(error, ValidationError) else str(error)
                )
                self.message_user(request, message, messages.ERROR)
                return None
            self.message_user(
                request,
                _("%(count)s evaluations assigned to %(reviewer)s.")
                % {"count": count, "reviewer": form.cleaned_data["reviewer"].get_username()},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign evaluations to a reviewer"),
            "opts": self.model._meta,
            "form": form,
            "evaluations": queryset.select_related("zone", "cycle"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/evaluations/assign.html", context)

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("evaluations.assign_evaluation")


@admin.register(Score)
class ScoreAdmin(ReadOnlyHistoryAdmin):
    """Scores are entered on the evaluation page; here they can be read with their history."""

    list_display = ["evaluation", "indicator", "value", "entered_by", "entered_at"]
    list_filter = ["evaluation__cycle", "indicator__code"]
    list_select_related = ["evaluation__zone", "evaluation__cycle", "indicator", "entered_by"]
    search_fields = ["evaluation__zone__name_en", "evaluation__zone__name_zh"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ValidationRule)
class ValidationRuleAdmin(ReadOnlyHistoryAdmin):
    """Cross-indicator rules a zone's report must meet, e.g. ``EXPORTS <= TRADE``."""

    list_display = ["expression", "cycle", "message_en", "message_zh"]
    list_filter = ["cycle"]
    list_select_related = ["cycle"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("evaluations.delete_validationrule") and (
            obj is None or not obj.cycle.is_frozen
        )


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    """Evidence files are added on the report page and never deleted; here they are read."""

    list_display = ["name", "evaluation", "indicator", "kind", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["evaluation__cycle", "kind"]
    list_select_related = ["evaluation__zone", "evaluation__cycle", "indicator", "uploaded_by"]
    search_fields = ["name", "evaluation__zone__name_en", "evaluation__zone__name_zh"]
    readonly_fields = [
        "evaluation",
        "indicator",
        "name",
        "kind",
        "size",
        "uploaded_by",
        "uploaded_at",
        "replaced_by",
        "replaced_at",
    ]
    exclude = ["file"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
