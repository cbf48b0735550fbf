"""What the project itself keeps: the tokens that let programs read the open-data API."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# What a token starts with, so that it is recognised in a configuration file or a leak.
TOKEN_PREFIX = "zt_"


def token_digest(key: str) -> str:
    """What is stored of a token: its SHA-256. A token is 256 random bits, so a fast hash
    cannot be reversed by guessing, and a lookup by digest costs one indexed query."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A read-only key to the open-data API, issued by an Administrator to a program.

    Only the digest of the key is stored; the key itself is shown once, when it is issued.
    A revoked token is kept (who issued it, when it was last used) but opens nothing.
    """

    name = models.CharField(
        _("name"), max_length=100, help_text=_("Who or what uses the token, for your records.")
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    # The first characters of the key, so that an Administrator can tell tokens apart.
    hint = models.CharField(_("beginning of the token"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("issued at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("issued by"),
    )
    last_used_on = models.DateField(_("last used on"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @classmethod
    def issue(cls, *, name: str, by: models.Model | None) -> tuple[ApiToken, str]:
        """A new token and its key; the key is not kept anywhere and is shown only now."""
        token = cls(name=name, created_by=by)
        key = token.set_new_key()
        token.save()
        return token, key

    def set_new_key(self) -> str:
        """Give the (unsaved) token a new random key; return the key, which is not kept."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.digest = token_digest(key)
        self.hint = key[: len(TOKEN_PREFIX) + 5]
        return key

    @classmethod
    def for_key(cls, key: str) -> ApiToken | None:
        """The active token whose key this is, or None."""
        return cls.objects.active().filter(digest=token_digest(key)).first()

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
