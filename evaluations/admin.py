"""Admin for cycles, frameworks and evaluations: Administrators' tools, with history."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from evaluations.models import Cycle, CycleStatus, Evaluation, Indicator, Score
from evaluations.services import cycle_open, cycle_publish, evaluation_assign
from zonetracker import permissions


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """History is evidence: it can be read in the admin but never reverted."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        extra_context = {**(extra_context or {}), "revert_disabled": True}
        return super().history_form_view(request, object_id, version_id, extra_context)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class IndicatorInline(admin.TabularInline):
    model = Indicator
    fields = ["position", "code", "name_en", "name_zh", "dimension", "kind", "weight"]
    extra = 0
    show_change_link = True
    ordering = ["position", "code"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is not None and not obj.is_published and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_published:
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


@admin.register(Cycle)
class CycleAdmin(ReadOnlyHistoryAdmin):
    list_display = ["year", "status", "cutoff", "evaluation_count", "published_at"]
    list_filter = ["status"]
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
                    "failing_grade",
                    "exit_after",
                ]
            },
        ),
        (gettext_lazy("Publication"), {"fields": ["published_at", "published_by"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cycle]:
        return super().get_queryset(request).annotate(evaluation_total=Count("evaluations"))

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
    def publish(self, request: HttpRequest, queryset: QuerySet[Cycle]) -> None:
        for cycle in queryset.order_by("year"):
            try:
                decisions = cycle_publish(cycle=cycle, by=request.user)
            except ValidationError as error:
                self.message_user(
                    request,
                    _("%(cycle)s was not published: %(reason)s")
                    % {"cycle": cycle, "reason": " ".join(error.messages)},
                    messages.ERROR,
                )
                continue
            self.message_user(
                request,
                _("%(cycle)s is published; %(count)s recommendations await a decision.")
                % {"cycle": cycle, "count": len(decisions)},
                messages.SUCCESS,
            )

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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("evaluations.open_cycle")

    def save_model(self, request: HttpRequest, obj: Cycle, form, change: bool) -> None:
        if change:
            obj._history_user = request.user
            super().save_model(request, obj, form, change)
            return
        # Adding a cycle means opening it: framework, policy and evaluations come with it.
        opened = cycle_open(year=obj.year, cutoff=obj.cutoff, by=request.user)
        obj.pk = opened.pk
        obj.refresh_from_db()


@admin.register(Indicator)
class IndicatorAdmin(ReadOnlyHistoryAdmin):
    list_display = ["code", "name_en", "name_zh", "dimension", "kind", "weight", "cycle"]
    list_filter = ["cycle", "dimension", "kind"]
    list_select_related = ["cycle"]
    search_fields = ["code", "name_en", "name_zh"]
    ordering = ["cycle", "position", "code"]

    def has_change_permission(self, request: HttpRequest, obj: Indicator | None = None) -> bool:
        if obj is not None and obj.cycle is not None and obj.cycle.is_published:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Indicator | None = None):
        return ["cycle"] if obj is not None else []


class ScoreInline(admin.TabularInline):
    model = Score
    fields = ["indicator", "value", "note", "entered_by", "entered_at"]
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
    ]
    # Only the reviewer is edited here; scores and states change through the services.
    readonly_fields = [name for name in fields if name != "reviewer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

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
                    " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
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
