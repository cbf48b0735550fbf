"""Cycles, indicators, evaluations, scores and decisions."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.models import HistoricalRecords

from evaluations.values import (
    VALUE_DECIMAL_PLACES,
    VALUE_MAX_DIGITS,
    value_problem,
)
from registry.models import Zone, in_active_language


class CycleStatus(models.TextChoices):
    PREPARING = "preparing", _("preparing")
    OPEN = "open", _("open for entry")
    IN_REVIEW = "in_review", _("in review")
    PUBLISHED = "published", _("published")


class Grade(models.IntegerChoices):
    """The four official grades, best first."""

    NOTABLE = 1, _("notable results")
    GOOD = 2, _("good results")
    INITIAL = 3, _("initial results")
    STARTING = 4, _("still at the starting stage")

    @classmethod
    def label_of(cls, grade: int | None) -> str:
        """The grade's name; empty where there is no grade (an evaluation not ranked)."""
        return str(cls(grade).label) if grade else ""


class ExitRule(models.TextChoices):
    """The exit rules a cycle's policy may name (``evaluations.rules``)."""

    GRADE_RUN = "grade-run", _("failing grade in N consecutive cycles")
    REGION_BOTTOM = "region-bottom", _("bottom K of the region in N of the last M cycles")
    REGION_AND_NATION_BOTTOM = (
        "region-and-nation-bottom",
        _("bottom K of the region and of the nation in N consecutive cycles"),
    )


class CycleQuerySet(models.QuerySet):
    def published(self) -> CycleQuerySet:
        return self.filter(status=CycleStatus.PUBLISHED)

    def current(self) -> Cycle | None:
        """The latest cycle that is not published, else the latest one."""
        return self.exclude(status=CycleStatus.PUBLISHED).order_by("-year").first() or (
            self.order_by("-year").first()
        )


class Cycle(models.Model):
    """One yearly evaluation round, with its policy (grades and the exit rule)."""

    year = models.PositiveSmallIntegerField(
        _("evaluated year"),
        unique=True,
        validators=[MinValueValidator(2015), MaxValueValidator(2100)],
    )
    cutoff = models.DateField(
        _("cut-off date"),
        help_text=_("Zones approved on or before this date are evaluated."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CycleStatus.choices, default=CycleStatus.OPEN
    )
    grade1_size = models.PositiveSmallIntegerField(
        _("size of grade 1"),
        default=10,
        help_text=_("Grade 1 goes to the zones ranked in the top N places."),
    )
    grade2_threshold = models.DecimalField(
        _("grade 2 threshold"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("75"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Totals at or above this are graded 2 (when not in grade 1)."),
    )
    grade3_threshold = models.DecimalField(
        _("grade 3 threshold"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("60"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Totals at or above this are graded 3; below it, grade 4."),
    )
    failing_grade = models.PositiveSmallIntegerField(
        _("failing grade"),
        choices=Grade.choices,
        default=Grade.STARTING,
        help_text=_("Zones at this grade or worse are warned."),
    )
    exit_rule = models.CharField(
        _("exit rule"), max_length=30, choices=ExitRule.choices, default=ExitRule.GRADE_RUN
    )
    exit_after = models.PositiveSmallIntegerField(
        _("failing cycles before exit (N)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    exit_within = models.PositiveSmallIntegerField(
        _("cycles looked back over (M)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("For the region-bottom rule: N failing cycles among the zone's last M."),
    )
    exit_bottom = models.PositiveSmallIntegerField(
        _("size of the bottom (K)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text=_("For the bottom rules: the K lowest-ranked zones, ties included."),
    )
    adjustment_cap = models.DecimalField(
        _("cap on adjustments"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("The bonus and penalty points of a zone add up to at most ± this."),
    )
    # Part of the policy: whether the open data shows why each decision was taken.
    rationale_public = models.BooleanField(
        _("decision rationales are public"),
        default=False,
        help_text=_("The open data shows the rationale of each decision taken on this cycle."),
    )
    # A year graded before zonetracker, brought in by import_results: each zone's grade as
    # published, its rank and total where given, and no framework or scores at all.
    imported = models.BooleanField(
        _("imported results"),
        default=False,
        editable=False,
        help_text=_("Grades as published; no scores kept."),
    )
    is_demo = models.BooleanField(
        _("demonstration data"),
        default=False,
        help_text=_("Synthetic scores made by seed_demo: not official results."),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    # What the last computation of the rankings scored each measure against: indicator pk ->
    # [worst, frontier] on its comparison scale, as decimal strings. A zone's rank is
    # explained against these, without scoring the whole cycle again.
    measure_bounds = models.JSONField(
        _("measure bounds when ranked"), default=dict, blank=True, editable=False
    )
    entry_deadline = models.DateField(
        _("deadline for entry"),
        null=True,
        blank=True,
        help_text=_("Reviewers submit their evaluations by this date."),
    )
    approval_deadline = models.DateField(
        _("deadline for approval"),
        null=True,
        blank=True,
        help_text=_("Approvers approve or return the submitted evaluations by this date."),
    )
    # When the totals, ranks and grades were last computed: every change of a value, an
    # evaluation's status or the policy computes them again, and the rankings page says when.
    ranked_at = models.DateTimeField(_("ranked at"), null=True, blank=True, editable=False)
    # The version of what the cycle's pages show, part of their cache keys; raised by
    # evaluations.published_cache whenever a cycle, decision or the register changes.
    content_version = models.PositiveIntegerField(default=0, editable=False)
    content_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords()
    objects = CycleQuerySet.as_manager()

    class Meta:
        ordering = ["-year"]
        verbose_name = _("cycle")
        verbose_name_plural = _("cycles")
        permissions = [
            ("open_cycle", _("Can open a cycle")),
            ("publish_cycle", _("Can publish a cycle")),
            ("import_results", _("Can import the results of past years")),
        ]

    def __str__(self) -> str:
        return _("Evaluation of %(year)s") % {"year": self.year}

    def clean(self) -> None:
        stored = (
            Cycle.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if self.pk is not None
            else None
        )
        if stored == CycleStatus.PUBLISHED:
            raise ValidationError(self.frozen_message())
        self.clean_policy()
        if (
            self.entry_deadline is not None
            and self.approval_deadline is not None
            and self.approval_deadline < self.entry_deadline
        ):
            raise ValidationError(
                {"approval_deadline": _("The approval deadline cannot come before entry's.")}
            )

    def clean_policy(self) -> None:
        """The checks of the policy's fields against each other (a trial policy's too)."""
        if (
            self.grade2_threshold is not None
            and self.grade3_threshold is not None
            and self.grade3_threshold > self.grade2_threshold
        ):
            raise ValidationError(
                {"grade3_threshold": _("The grade 3 threshold cannot exceed grade 2's.")}
            )
        if (
            self.exit_rule == ExitRule.REGION_BOTTOM
            and self.exit_after is not None
            and self.exit_within is not None
            and self.exit_after > self.exit_within
        ):
            raise ValidationError(
                {"exit_within": _("M cannot be smaller than N: N failing cycles among the last M.")}
            )

    @property
    def is_published(self) -> bool:
        return self.status == CycleStatus.PUBLISHED

    @property
    def is_frozen(self) -> bool:
        """Published: nothing of the cycle changes any more, by any path (its policy, its
        framework, its evaluations and their scores); only decisions are taken on it."""
        return self.is_published

    def frozen_message(self) -> str:
        return _("The cycle of %(year)s is published: nothing of it can change.") % {
            "year": self.year
        }

    @cached_property
    def previous_published(self) -> Cycle | None:
        """The latest published cycle before this one (read once per instance)."""
        return Cycle.objects.published().filter(year__lt=self.year).order_by("-year").first()

    @property
    def is_open(self) -> bool:
        return self.status == CycleStatus.OPEN

    @staticmethod
    def default_cutoff(year: int) -> datetime.date:
        """The 31 December before the evaluated year."""
        return datetime.date(year - 1, 12, 31)


class Dimension(models.TextChoices):
    """What an indicator measures: process checks, the six systems, two platforms, results."""

    PROCESS = "process", _("process checks")
    INFORMATION_SHARING = "information_sharing", _("information sharing system")
    FINANCIAL_SERVICES = "financial_services", _("financial services system")
    INTELLIGENT_LOGISTICS = "intelligent_logistics", _("intelligent logistics system")
    ECOMMERCE_CREDIT = "ecommerce_credit", _("e-commerce credit system")
    STATISTICAL_MONITORING = "statistical_monitoring", _("statistical monitoring system")
    RISK_PREVENTION = "risk_prevention", _("risk prevention and control system")
    ONLINE_PLATFORM = "online_platform", _("online comprehensive service platform")
    OFFLINE_PARKS = "offline_parks", _("offline industrial parks")
    RESULTS = "results", _("results")


class IndicatorKind(models.TextChoices):
    POINTS = "points", _("points awarded by a reviewer")
    MEASURE = "measure", _("measured figure")
    ADJUSTMENT = "adjustment", _("adjustment (bonus or penalty points)")


class IndicatorQuerySet(models.QuerySet):
    def in_order(self) -> IndicatorQuerySet:
        return self.order_by("position", "code")

    def default_framework(self) -> IndicatorQuerySet:
        return self.filter(cycle__isnull=True)


class Indicator(models.Model):
    """One line of a cycle's framework."""

    # No cycle: the indicator belongs to the default framework that the first cycle copies.
    cycle = models.ForeignKey(
        Cycle,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name=_("cycle"),
    )
    code = models.CharField(_("code"), max_length=20)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200)
    help_zh = models.TextField(_("Chinese help text"), blank=True)
    help_en = models.TextField(_("English help text"), blank=True)
    dimension = models.CharField(_("dimension"), max_length=30, choices=Dimension.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=IndicatorKind.choices)
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    max_points = models.DecimalField(
        _("maximum points"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("For points: the most a reviewer may award."),
    )
    unit_zh = models.CharField(_("Chinese unit"), max_length=30, blank=True)
    unit_en = models.CharField(_("English unit"), max_length=50, blank=True)
    # As wide as a score's value (evaluations.values): the same rule says what fits.
    min_value = models.DecimalField(
        _("lowest valid value"),
        max_digits=VALUE_MAX_DIGITS,
        decimal_places=VALUE_DECIMAL_PLACES,
        null=True,
        blank=True,
    )
    max_value = models.DecimalField(
        _("highest valid value"),
        max_digits=VALUE_MAX_DIGITS,
        decimal_places=VALUE_DECIMAL_PLACES,
        null=True,
        blank=True,
    )
    higher_is_better = models.BooleanField(_("higher is better"), default=True)
    log_scale = models.BooleanField(
        _("log scale"),
        default=False,
        help_text=_("For measures: compare log10 of the figures (they must be above 0)."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    requires_evidence = models.BooleanField(
        _("requires evidence"),
        default=False,
        help_text=_("A zone cannot report its figures without an evidence file for this one."),
    )
    change_threshold = models.DecimalField(
        _("year-on-year change flagged above (%)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Reviewers see a flag on a figure that moved more than this since last year."),
    )

    history = HistoricalRecords()
    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["cycle", "position", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "code"], name="unique_indicator_code"),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(cycle__isnull=True),
                name="unique_default_indicator_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        errors = {}
        if self.cycle_id is not None:
            # The cycle as stored, and the one the indicator belonged to before this change:
            # neither may be published.
            cycle_ids = {self.cycle_id}
            if self.pk is not None:
                cycle_ids |= set(
                    Indicator.objects.filter(pk=self.pk, cycle__isnull=False).values_list(
                        "cycle_id", flat=True
                    )
                )
            frozen = Cycle.objects.filter(pk__in=cycle_ids, status=CycleStatus.PUBLISHED).first()
            if frozen is not None:
                # Not tied to the cycle field: on a change form the cycle is read-only.
                raise ValidationError(frozen.frozen_message())
            if self.pk is None and self.cycle.status == CycleStatus.IN_REVIEW:
                raise ValidationError(
                    _(
                        "The cycle of %(year)s is in review: open it for entry again before "
                        "adding an indicator, so that its reviewers can enter its values."
                    )
                    % {"year": self.cycle.year}
                )
        if self.kind == IndicatorKind.POINTS and self.max_points is None:
            errors["max_points"] = _("A points indicator needs its maximum points.")
        if self.kind != IndicatorKind.POINTS and self.max_points is not None:
            errors["max_points"] = _("Only points indicators have maximum points.")
        if self.kind == IndicatorKind.ADJUSTMENT and (
            self.min_value is None or self.max_value is None
        ):
            errors["max_value"] = _(
                "Bonus and penalty points need their range: the lowest and highest valid values."
            )
        if self.kind != IndicatorKind.MEASURE and self.log_scale:
            errors["log_scale"] = _("Only measures can be on a log scale.")
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            errors["max_value"] = _("The highest valid value is below the lowest.")
        if errors:
            raise ValidationError(errors)

    @property
    def name(self) -> str:
        return in_active_language(self.name_zh, self.name_en)

    @property
    def help_text(self) -> str:
        return in_active_language(self.help_zh, self.help_en)

    @property
    def unit(self) -> str:
        return in_active_language(self.unit_zh, self.unit_en)

    @property
    def lowest(self) -> Decimal | None:
        """The lowest value a score may take."""
        if self.kind == IndicatorKind.POINTS:
            return Decimal(0)
        return self.min_value

    @property
    def highest(self) -> Decimal | None:
        if self.kind == IndicatorKind.POINTS:
            return self.max_points
        return self.max_value

    def validate_value(self, value: Decimal) -> None:
        """Raise ValidationError when ``value`` is outside what this indicator accepts.

        First what the value column can hold (``evaluations.values.value_problem``), then
        the indicator's range: 0 to the maximum points, or a measure's lowest and highest
        valid values where they are set.
        """
        problem = value_problem(value)
        if problem:
            raise ValidationError(problem, code="value_does_not_fit")
        lowest, highest = self.lowest, self.highest
        if lowest is not None and value < lowest:
            raise ValidationError(
                _("%(value)s is below the lowest valid value, %(lowest)s.")
                % {"value": value, "lowest": lowest}
            )
        if highest is not None and value > highest:
            raise ValidationError(
                _("%(value)s is above the highest valid value, %(highest)s.")
                % {"value": value, "highest": highest}
            )
        if self.log_scale and value <= 0:
            raise ValidationError(
                _("This indicator is compared on a log scale: enter a figure above 0.")
            )


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    # The reporting chain: a zone reports its figures, its province forwards them to the
    # Ministry, whose reviewer verifies them and submits the evaluation for approval.
    REPORTED = "reported", _("reported by the zone")
    FORWARDED = "forwarded", _("forwarded by the province")
    SUBMITTED = "submitted", _("submitted")
    RETURNED = "returned", _("returned")
    APPROVED = "approved", _("approved")


class EvaluationQuerySet(models.QuerySet):
    def for_cycle(self, cycle: Cycle) -> EvaluationQuerySet:
        return self.filter(cycle=cycle)

    def with_related(self) -> EvaluationQuerySet:
        return self.select_related(
            "cycle", "zone__province", "zone__batch", "reviewer", "submitted_by", "approved_by"
        )

    def assigned_to(self, user) -> EvaluationQuerySet:
        return self.filter(reviewer=user)

    def status_counts(self) -> dict[str, int]:
        """How many evaluations are in each status, in one query."""
        counts = self.aggregate(
            **{status: Count("pk", filter=Q(status=status)) for status in EvaluationStatus.values}
        )
        return {status: counts[status] for status in EvaluationStatus.values}

    def ranked(self) -> EvaluationQuerySet:
        return self.filter(rank__isnull=False).order_by("rank", "zone__name_en")

    def with_last_change(self) -> EvaluationQuerySet:
        """Annotate ``last_changed_at``, when the latest history record was made (one query)."""
        latest = (
            self.model.history.model.objects.filter(id=OuterRef("pk"))
            .order_by("-history_date")
            .values("history_date")[:1]
        )
        return self.annotate(last_changed_at=Subquery(latest))

    def changed_by(self, user) -> EvaluationQuerySet:
        """The evaluations whose values ``user`` ever changed (four eyes reads this).

        Read from the history, not from the rows as they are now: whoever entered, edited or
        removed a score, saved or submitted the evaluation at any time counts, even when a
        later edit undid theirs. Assigning a reviewer, computing rankings, approving or
        returning change no value and do not count. One query, two EXISTS.
        """
        if user is None or user.pk is None:
            return self.none()
        return self.filter(self._changed_by(user.pk))

    def awaiting_approval_by(self, user) -> EvaluationQuerySet:
        """Submitted evaluations whose values ``user`` never changed (four eyes).

        The queryset form of ``services.can_approve`` for lists; the service stays the check.
        """
        awaiting = self.filter(
            status=EvaluationStatus.SUBMITTED,
            cycle__status__in=[CycleStatus.OPEN, CycleStatus.IN_REVIEW],
        )
        if user is None or user.pk is None:
            return awaiting
        return awaiting.exclude(self._changed_by(user.pk))

    def _changed_by(self, user_id: int) -> Q:
        scores = Score.history.model.objects.filter(evaluation_id=OuterRef("pk")).filter(
            Q(history_user=user_id) | Q(entered_by=user_id)
        )
        saves = self.model.history.model.objects.filter(id=OuterRef("pk")).filter(
            Q(last_edited_by=user_id) | Q(submitted_by=user_id)
        )
        return Q(Exists(scores)) | Q(Exists(saves))


class Evaluation(models.Model):
    """One zone's evaluation in one cycle."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("cycle")
    )
    zone = models.ForeignKey(
        Zone, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("zone")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_evaluations",
        verbose_name=_("reviewer"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=EvaluationStatus.choices,
        default=EvaluationStatus.DRAFT,
        db_index=True,
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    total = models.DecimalField(_("total"), max_digits=5, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    grade = models.PositiveSmallIntegerField(
        _("grade"), choices=Grade.choices, null=True, blank=True
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last edited by"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    forwarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("forwarded by"),
    )
    forwarded_at = models.DateTimeField(_("forwarded at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = EvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["cycle", "zone__name_en"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "zone"], name="unique_evaluation"),
        ]
        indexes = [
            models.Index(fields=["cycle", "status"]),
            models.Index(fields=["cycle", "rank"]),
            # The rankings' grade filter, and the decisions page's grades by cycle.
            models.Index(fields=["cycle", "grade"], name="evaluation_cycle_grade"),
        ]
        permissions = [
            ("enter_evaluation", _("Can enter scores of assigned evaluations")),
            ("approve_evaluation", _("Can approve or return evaluations")),
            ("assign_evaluation", _("Can assign evaluations to reviewers")),
            ("import_scores", _("Can import scores")),
            ("report_evaluation", _("Can report the figures of one's zones")),
            ("forward_evaluation", _("Can forward or return the reports of one's provinces")),
        ]

    def __str__(self) -> str:
        return f"{self.zone} – {self.cycle.year}"

    def get_absolute_url(self) -> str:
        return reverse("evaluations:evaluation_detail", kwargs={"pk": self.pk})

    def was_changed_by(self, user) -> bool:
        """Whether ``user`` ever changed this evaluation's values (see ``changed_by``)."""
        return Evaluation.objects.filter(pk=self.pk).changed_by(user).exists()

    @property
    def is_overdue(self) -> bool:
        """Past its cycle's deadline for the step it waits on: entry (a draft or a returned
        evaluation) or approval (a submitted one). Never once the cycle is published."""
        cycle = self.cycle
        if cycle.is_published:
            return False
        if self.status in {EvaluationStatus.DRAFT, EvaluationStatus.RETURNED}:
            deadline = cycle.entry_deadline
        elif self.status in {
            EvaluationStatus.REPORTED,
            EvaluationStatus.FORWARDED,
            EvaluationStatus.SUBMITTED,
        }:
            deadline = cycle.approval_deadline
        else:
            return False
        return deadline is not None and timezone.localdate() > deadline

    @property
    def is_editable(self) -> bool:
        """Scores may change: the cycle is open and the evaluation is a draft or returned."""
        return self.cycle.is_open and self.status in {
            EvaluationStatus.DRAFT,
            EvaluationStatus.RETURNED,
        }

    def came_up_the_chain(self) -> bool:
        """Its zone reported figures: the Ministry then sets accepted values only by verifying
        the report, where each keeps the reported value beside it and a reason where they
        differ (``reporting.report_verify``), never through the entry form."""
        return self.scores.filter(reported_value__isnull=False).exists()


class Score(models.Model):
    """One indicator's value in one evaluation."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="scores", verbose_name=_("evaluation")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="scores", verbose_name=_("indicator")
    )
    # 15 digits: what SQLite's double keeps exactly (evaluations.values).
    value = models.DecimalField(
        _("value"),
        max_digits=VALUE_MAX_DIGITS,
        decimal_places=VALUE_DECIMAL_PLACES,
        null=True,
        blank=True,
    )
    note = models.TextField(_("note"), blank=True)
    # What the zone reported; ``value`` is what the Ministry accepts, and what is ranked.
    reported_value = models.DecimalField(
        _("reported value"),
        max_digits=VALUE_MAX_DIGITS,
        decimal_places=VALUE_DECIMAL_PLACES,
        null=True,
        blank=True,
    )
    verification_reason = models.TextField(_("reason for the accepted value"), blank=True)
    # A flag never blocks; the zone says here why a flagged figure is right.
    flag_reason = models.TextField(_("reason for the flagged figure"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    entered_at = models.DateTimeField(_("entered at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["indicator__position", "indicator__code"]
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "indicator"], name="unique_score"),
        ]
        # Covering: compute_rankings and a zone page's "why this rank" read every value of a
        # cycle, by evaluation, from the index alone instead of visiting each score's row.
        indexes = [
            models.Index(
                fields=["evaluation", "indicator", "value"], name="score_values_by_evaluation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.value}"

    @property
    def differs_from_report(self) -> bool:
        """The Ministry accepts another value than the one the zone reported."""
        return self.reported_value is not None and self.value != self.reported_value


def evidence_path(evidence: Evidence, filename: str) -> str:
    """Stored under a random name: the uploader's file name is kept only as data."""
    return f"evidence/{evidence.evaluation_id}/{uuid.uuid4().hex}"


class EvidenceQuerySet(models.QuerySet):
    def current(self) -> EvidenceQuerySet:
        return self.filter(replaced_at__isnull=True)


class Evidence(models.Model):
    """A file that backs one indicator's figure in one evaluation.

    Never deleted: a replaced file stays, marked with when and by what it was replaced.
    """

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("evaluation")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("indicator")
    )
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("file type"), max_length=10)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replaced by"),
    )
    replaced_at = models.DateTimeField(_("replaced at"), null=True, blank=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["indicator__position", "indicator__code", "-uploaded_at", "-pk"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        indexes = [models.Index(fields=["evaluation", "indicator"], name="evidence_by_value")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("evaluations:evidence_download", kwargs={"pk": self.pk})


class ValidationRule(models.Model):
    """A rule across a cycle's indicators that a zone's report must meet to be reported.

    The expression compares indicator codes with numbers and arithmetic, e.g.
    ``EXPORTS <= TRADE``; it is read by ``evaluations.quality`` (never evaluated as Python).
    """

    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, related_name="validation_rules", verbose_name=_("cycle")
    )
    expression = models.CharField(_("expression"), max_length=300)
    message_zh = models.CharField(_("Chinese message"), max_length=300)
    message_en = models.CharField(_("English message"), max_length=300)

    history = HistoricalRecords()

    class Meta:
        ordering = ["cycle", "pk"]
        verbose_name = _("validation rule")
        verbose_name_plural = _("validation rules")

    def __str__(self) -> str:
        return self.expression

    def clean(self) -> None:
        from evaluations.quality import ExpressionError, parse_rule

        if self.cycle_id is not None and self.cycle.is_frozen:
            raise ValidationError(self.cycle.frozen_message())
        try:
            parse_rule(self.expression)
        except ExpressionError as error:
            raise ValidationError({"expression": str(error)}) from None

    @property
    def message(self) -> str:
        return in_active_language(self.message_zh, self.message_en)


class Recommendation(models.TextChoices):
    """What the survival-of-the-fittest rule recommends for a zone after a published cycle."""

    WARN = "warn", _("warn (on notice, must rectify)")
    EXIT = "exit", _("exit")
    LIFT = "lift", _("lift the notice")


class Outcome(models.TextChoices):
    """What an approver decided."""

    RETAIN = "retain", _("retain")
    WARN = "warn", _("warn")
    RECTIFY = "rectify", _("require rectification")
    EXIT = "exit", _("exit")


class DecisionQuerySet(models.QuerySet):
    def for_cycle(self, cycle: Cycle) -> DecisionQuerySet:
        return self.filter(cycle=cycle)

    def with_related(self) -> DecisionQuerySet:
        return self.select_related("cycle", "zone__province", "zone__batch", "decided_by")

    def pending(self) -> DecisionQuerySet:
        return self.filter(outcome="")


class Decision(models.Model):
    """A recommendation for a zone after a published cycle, and the decision taken on it."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("cycle")
    )
    zone = models.ForeignKey(
        Zone, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("zone")
    )
    recommendation = models.CharField(
        _("recommendation"), max_length=10, choices=Recommendation.choices, blank=True
    )
    failing_run = models.PositiveSmallIntegerField(
        _("failing cycles"),
        default=0,
        help_text=_(
            "How many published cycles the exit rule counted against the zone: at the failing "
            "grade, or among the bottom, as the cycle's rule reads them."
        ),
    )
    outcome = models.CharField(_("decision"), max_length=10, choices=Outcome.choices, blank=True)
    rationale = models.TextField(_("rationale"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The zone's history record of the status change this decision made; empty where the
    # decision left the status as it was. The zone's timeline tells the two together.
    status_change = models.ForeignKey(
        "registry.HistoricalZone",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("status change"),
    )

    history = HistoricalRecords()
    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["cycle", "zone__name_en"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "zone"], name="unique_decision"),
        ]
        permissions = [("decide", _("Can record decisions on recommendations"))]

    def __str__(self) -> str:
        return f"{self.zone} – {self.cycle.year}"

    @property
    def is_decided(self) -> bool:
        return bool(self.outcome)

    @property
    def reason(self) -> str:
        """Why the rule recommended this, in the active language; empty where it recommended
        nothing (a decision recorded in imported results that the rule had no advice for)."""
        if not self.recommendation:
            return ""
        return cycle_rule_reason(self.cycle, self.recommendation, self.failing_run)


def cycle_rule_reason(cycle: Cycle, recommendation: str, count: int) -> str:
    """Why ``cycle``'s exit rule recommends ``recommendation`` after ``count`` failing cycles."""
    params = {
        "grade": cycle.failing_grade,
        "run": count,
        "year": cycle.year,
        "limit": cycle.exit_after,
        "bottom": cycle.exit_bottom,
        "within": cycle.exit_within,
    }
    if cycle.exit_rule == ExitRule.REGION_BOTTOM:
        if recommendation == Recommendation.LIFT:
            return _("On notice, and no longer near the exit rule's limit in %(year)s.") % params
        return (
            ngettext(
                "Among the bottom %(bottom)s of its region in %(run)s of its last %(within)s "
                "ranked cycles up to %(year)s; exit after %(limit)s.",
                "Among the bottom %(bottom)s of its region in %(run)s of its last %(within)s "
                "ranked cycles up to %(year)s; exit after %(limit)s.",
                count,
            )
            % params
        )
    if cycle.exit_rule == ExitRule.REGION_AND_NATION_BOTTOM:
        if recommendation == Recommendation.LIFT:
            return _("On notice, and no longer among the bottom %(bottom)s in %(year)s.") % params
        return (
            ngettext(
                "Among the bottom %(bottom)s of its region and nationally in %(run)s published "
                "cycle up to %(year)s; exit after %(limit)s in a row.",
                "Among the bottom %(bottom)s of its region and nationally in %(run)s consecutive "
                "published cycles up to %(year)s; exit after %(limit)s in a row.",
                count,
            )
            % params
        )
    if recommendation == Recommendation.LIFT:
        return _("On notice, and no longer at grade %(grade)s or worse in %(year)s.") % params
    return (
        ngettext(
            "At grade %(grade)s or worse in %(run)s published cycle up to %(year)s; "
            "exit after %(limit)s in a row.",
            "At grade %(grade)s or worse in %(run)s consecutive published cycles up to "
            "%(year)s; exit after %(limit)s in a row.",
            count,
        )
        % params
    )


class NotificationKind(models.TextChoices):
    RETURNED = "returned", _("evaluation returned")
    SUBMITTED = "submitted", _("evaluation submitted for approval")
    PUBLISHED = "published", _("cycle published")
    DECIDED = "decided", _("decision recorded")
    REMINDER = "reminder", _("deadline reminder")
    REPORTED = "reported", _("report awaiting provincial review")
    FORWARDED = "forwarded", _("report forwarded for verification")


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> NotificationQuerySet:
        """A user's notifications, newest first."""
        return self.filter(recipient=user).order_by("-created_at", "-pk")

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something that happened which a user should know of, shown on the site and e-mailed.

    The text is kept as a kind and its parameters, not as sentences, so that it reads in the
    language of whoever opens it (``evaluations.notifications`` words it).
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=NotificationKind.choices)
    params = models.JSONField(_("text parameters"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Its e-mail is still to send: set when the notification is written, cleared once the
    # mail server took it (or after the last attempt), so a mail server that was down or a
    # process killed before sending loses nothing; ``send_reminders`` tries again.
    mail_pending = models.BooleanField(_("e-mail waiting to be sent"), default=False)
    mail_attempts = models.PositiveSmallIntegerField(_("e-mail attempts"), default=0)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["recipient", "kind", "created_at"], name="notification_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient_id}"
