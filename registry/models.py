"""The register: provinces, the State Council's batches of approvals, and the pilot zones."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext_lazy as _
from pypinyin import Style, lazy_pinyin
from simple_history.models import HistoricalRecords


def in_active_language(name_zh: str, name_en: str) -> str:
    """The Chinese name when the active language is Chinese, the English one otherwise."""
    language = get_language() or ""
    return name_zh if language.startswith("zh") else name_en


def pinyin_key(name_zh: str) -> str:
    """The key that sorts Chinese names as a Chinese reader expects: by pinyin, syllable by
    syllable, tone numbers breaking ties (安徽 ``an1 hui1`` < 北京 < 重庆 ``chong2 qing4``).

    pypinyin reads words, not single characters, so a polyphone takes its reading in the name
    (重庆 is chóng, not zhòng). The key is plain ASCII, so both databases sort it alike.
    """
    return " ".join(
        lazy_pinyin(name_zh, style=Style.TONE3, neutral_tone_with_five=True, errors="default")
    ).lower()


def zone_name_ordering(prefix: str = "") -> str:
    """The lookup that orders zones by name in the active language: by pinyin in Chinese, by
    the English name otherwise. ``prefix`` reaches the zone from another model (``zone__``)."""
    return in_active_language(f"{prefix}name_pinyin", f"{prefix}name_en")


class Region(models.TextChoices):
    """The National Bureau of Statistics' four economic regions."""

    EAST = "east", _("East")
    CENTRAL = "central", _("Central")
    WEST = "west", _("West")
    NORTHEAST = "northeast", _("Northeast")


class Province(models.Model):
    code = models.CharField(
        _("code"),
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^\d{2}$", _("A province code is two digits (GB/T 2260)."))],
    )
    name_zh = models.CharField(_("Chinese name"), max_length=20, unique=True)
    name_en = models.CharField(_("English name"), max_length=40, unique=True)
    region = models.CharField(_("region"), max_length=10, choices=Region.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_active_language(self.name_zh, self.name_en)


class BatchQuerySet(models.QuerySet):
    def with_zone_counts(self) -> BatchQuerySet:
        # An aggregate drops Meta.ordering, so the order is restated.
        return self.annotate(zone_count=models.Count("zones")).order_by("number")


class Batch(models.Model):
    number = models.PositiveSmallIntegerField(
        _("number"), unique=True, validators=[MinValueValidator(1)]
    )
    approved_on = models.DateField(_("approved on"))
    document_no = models.CharField(_("document number"), max_length=50, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()
    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")

    def __str__(self) -> str:
        return _("Batch %(number)s") % {"number": self.number}

    @property
    def short_name(self) -> str:
        """The batch in a column headed "Batch": its number in English, 第N批 in Chinese."""
        return pgettext("a batch in a column headed Batch", "%(number)s") % {"number": self.number}


class ZoneKind(models.TextChoices):
    CITY = "city", _("city")
    PREFECTURE = "prefecture", _("prefecture")
    COUNTY_LEVEL_CITY = "county-level city", _("county-level city")
    NEW_AREA = "new area", _("new area")
    REGION = "region", _("region")


class ZoneStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    ON_NOTICE = "on_notice", _("on notice")
    EXITED = "exited", _("exited")


class ZoneQuerySet(models.QuerySet):
    def with_related(self) -> ZoneQuerySet:
        """Zones with their province and batch, in one query."""
        return self.select_related("province", "batch")

    def not_exited(self) -> ZoneQuerySet:
        return self.exclude(status=ZoneStatus.EXITED)

    def approved_by(self, cutoff: datetime.date) -> ZoneQuerySet:
        return self.filter(batch__approved_on__lte=cutoff)

    def bulk_create(self, objs, *args, **kwargs):
        # A bulk write skips save(), where a zone's pinyin key is made.
        objs = list(objs)
        for zone in objs:
            zone.name_pinyin = pinyin_key(zone.name_zh)
        return super().bulk_create(objs, *args, **kwargs)

    def status_counts(self) -> dict[str, int]:
        """The number of zones holding each status (zero included), in one query."""
        counts = dict.fromkeys(ZoneStatus.values, 0)
        counts.update(self.order_by().values_list("status").annotate(count=models.Count("pk")))
        return counts


class Zone(models.Model):
    name_zh = models.CharField(_("Chinese name"), max_length=50, unique=True)
    name_en = models.CharField(_("English name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, editable=False)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="zones", verbose_name=_("province")
    )
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, related_name="zones", verbose_name=_("batch")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ZoneKind.choices, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ZoneStatus.choices,
        default=ZoneStatus.ACTIVE,
        db_index=True,
    )
    status_changed_on = models.DateField(_("status changed on"), null=True, blank=True)
    name_pinyin = models.CharField(
        _("pinyin of the Chinese name"),
        max_length=300,
        blank=True,
        editable=False,
        db_index=True,
        help_text=_("Made from the Chinese name; Chinese lists sort by it."),
    )

    history = HistoricalRecords()
    objects = ZoneQuerySet.as_manager()

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        permissions = [("import_zone", _("Can import batches of zones"))]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = self._unique_slug()
        self.name_pinyin = pinyin_key(self.name_zh)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name_zh" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_pinyin"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("registry:zone_detail", kwargs={"slug": self.slug})

    @property
    def name(self) -> str:
        return in_active_language(self.name_zh, self.name_en)

    @property
    def full_name(self) -> str:
        """The official style: China (Hangzhou) Cross-border E-commerce Comprehensive Pilot Zone."""
        if (get_language() or "").startswith("zh"):
            return f"中国（{self.name_zh}）跨境电子商务综合试验区"
        return f"China ({self.name_en}) Cross-border E-commerce Comprehensive Pilot Zone"

    def _unique_slug(self) -> str:
        # The slug is made once from the English name and never changes, so links stay valid.
        base = slugify(self.name_en)[:100] or "zone"
        slug, n = base, 2
        while Zone.objects.filter(slug=slug).exclude(pk=self.pk).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug


class PendingImport(models.Model):
    """An uploaded batch file between the admin's preview and its confirmation.

    Kept in the database rather than on local disk so that any app process can confirm an
    import that another one previewed.
    """

    name = models.CharField(max_length=64, unique=True, default="")
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    # Only the one who uploaded the file may confirm its import.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )

    class Meta:
        verbose_name = _("pending import")
        verbose_name_plural = _("pending imports")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.name:
            self.name = uuid.uuid4().hex
        super().save(*args, **kwargs)


class ZoneReporter(models.Model):
    """A user who reports one zone's figures: the scope of a Zone reporter."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reported_zones",
        verbose_name=_("user"),
    )
    zone = models.ForeignKey(
        Zone, on_delete=models.CASCADE, related_name="reporters", verbose_name=_("zone")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("zone reporter scope")
        verbose_name_plural = _("zone reporter scopes")
        constraints = [
            models.UniqueConstraint(fields=["user", "zone"], name="unique_zone_reporter"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.zone}"


class ProvinceReviewer(models.Model):
    """A user who pre-reviews the reports of one province's zones: a Provincial reviewer's
    scope."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reviewed_provinces",
        verbose_name=_("user"),
    )
    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, related_name="reviewers", verbose_name=_("province")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("provincial reviewer scope")
        verbose_name_plural = _("provincial reviewer scopes")
        constraints = [
            models.UniqueConstraint(fields=["user", "province"], name="unique_province_reviewer"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.province}"


def scoped_zone_ids(user) -> frozenset[int]:
    """The zones ``user`` reports for (read once per user object)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_scoped_zone_ids", None)
    if cached is None:
        cached = frozenset(
            ZoneReporter.objects.filter(user_id=user.pk).values_list("zone_id", flat=True)
        )
        user._scoped_zone_ids = cached
    return cached


def scoped_province_ids(user) -> frozenset[int]:
    """The provinces whose zones' reports ``user`` pre-reviews (read once per user object)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_scoped_province_ids", None)
    if cached is None:
        cached = frozenset(
            ProvinceReviewer.objects.filter(user_id=user.pk).values_list("province_id", flat=True)
        )
        user._scoped_province_ids = cached
    return cached
