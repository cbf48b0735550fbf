"""What every endpoint of the open-data API shares: who may read, how fast, in pages, and
when a client's copy is still current.

The API serves published data only, read-only. Readers: everyone when ``PUBLIC_RANKINGS`` is
on (as the rankings pages), else signed-in users (their session) and programs holding an API
token (``zonetracker.models.ApiToken``). The endpoints live beside their data
(``registry.api``, ``evaluations.api``); ``zonetracker.api_urls`` wires them.
"""

from __future__ import annotations

import datetime
import hashlib
import logging

from django.conf import settings
from django.http import HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from zonetracker.models import ApiToken

logger = logging.getLogger(__name__)

# Authorization: Token zt_...  (Bearer is accepted as well).
_KEYWORDS = {"token", "bearer"}


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """A token an Administrator issued: it reads as an anonymous user with ``request.auth``
    set to the token, so it opens the API and nothing else of the site."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[object, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() not in _KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header needs one token."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked token.")) from None
        token = ApiToken.for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked token."))
        today = timezone.localdate()
        if token.last_used_on != today:
            # At most one write a day per token.
            ApiToken.objects.filter(pk=token.pk).update(last_used_on=today)
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        # Makes an unauthenticated request a 401 that names the scheme, not a bare 403.
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token scheme as the OpenAPI schema states it."""

    target_class = "zonetracker.api.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Token zt_... (issued by an Administrator; read-only).",
        }


def may_read_api(request: Request) -> bool:
    """Everyone when published rankings are public; else accounts and API tokens."""
    return (
        settings.PUBLIC_RANKINGS
        or request.user.is_authenticated
        or isinstance(request.auth, ApiToken)
    )


class ReadsPublishedData(permissions.BasePermission):
    """Read-only, for whoever ``may_read_api``."""

    message = _("Sign in or present an API token to read the open data.")

    def has_permission(self, request: Request, view: object) -> bool:
        return request.method in permissions.SAFE_METHODS and may_read_api(request)


class ApiClientThrottle(SimpleRateThrottle):
    """``settings.API_RATE`` requests per client: a token, else an account, else an address."""

    scope = "api"

    def get_rate(self) -> str:
        return settings.API_RATE

    def get_cache_key(self, request: Request, view: object) -> str:
        if isinstance(request.auth, ApiToken):
            client = f"token-{request.auth.pk}"
        elif request.user.is_authenticated:
            client = f"user-{request.user.pk}"
        else:
            client = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": client}

    def allow_request(self, request: Request, view: object) -> bool:
        """The counts live in the cache: when it cannot be reached (Redis down), the request
        is let through uncounted, with a log line, rather than failed."""
        try:
            return super().allow_request(request, view)
        except Exception:  # any backend's error: a Redis outage must not fail the request
            logger.warning(
                "The cache could not be reached; the API request is served unthrottled.",
                exc_info=True,
            )
            return True


class ApiPagination(PageNumberPagination):
    """``?page=N``, ``?page_size=N`` (at most 1,000)."""

    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int:
        self.page_size = getattr(self, "page_size", None) or settings.API_PAGE_SIZE
        return super().get_page_size(request)


class WholeCyclePagination(ApiPagination):
    """A cycle's results fit on one page unless the client asks for smaller pages."""

    page_size = 1000


class Conditional:
    """ETag and Last-Modified on every answer; 304 when the client's copy is current.

    A view says when what it serves last changed (``changed_at``): published data changes
    only when a cycle is published, a decision is taken, or the register changes, so the
    check costs a few aggregate queries instead of the whole answer.
    """

    def changed_at(self) -> datetime.datetime | None:
        raise NotImplementedError

    def get(self, request: Request, *args, **kwargs) -> HttpResponseBase:
        changed_at = self.changed_at()
        if changed_at is not None:
            changed_at = changed_at.replace(microsecond=0)
        stamp = changed_at.isoformat() if changed_at else "-"
        # What a view keeps in the cache is kept for this moment of the data too.
        self.changed_stamp = stamp
        etag = '"{}"'.format(
            hashlib.sha256(f"{stamp}|{request.get_full_path()}".encode()).hexdigest()[:32]
        )
        last_modified = changed_at.timestamp() if changed_at else None
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            response = super().get(request, *args, **kwargs)
        if 200 <= response.status_code < 300 or response.status_code == 304:
            response["ETag"] = etag
            if last_modified is not None:
                response["Last-Modified"] = http_date(last_modified)
        # Clients may keep a copy but ask again each time; a token's answer is its own.
        patch_cache_control(response, private=True, no_cache=True)
        patch_vary_headers(response, ["Authorization", "Cookie"])
        return response
