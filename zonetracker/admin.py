"""Accounts in the admin: users and groups, with what may be granted by whom; API tokens.

Django's own user and group admin let anyone with ``auth.change_user`` tick "superuser" or
grant any permission. Here only a superuser may do that; anyone else manages the accounts
below their own level and grants only what they hold themselves (``zonetracker.permissions``).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zonetracker.models import ApiToken
from zonetracker.permissions import grantable_groups, grantable_permissions, may_manage_account


class AccountAdmin(UserAdmin):
    """Users, with superuser status and single permissions in a superuser's hands alone."""

    _limited_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Roles"), {"fields": ("is_active", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None):
        if obj is not None and not request.user.is_superuser:
            return self._limited_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None):
        return ("last_login", "date_joined") if obj is not None else ()

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = grantable_groups(request.user)
        elif db_field.name == "user_permissions":
            kwargs["queryset"] = grantable_permissions(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_manage_account(request.user, obj))

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_manage_account(request.user, obj))


class RoleAdmin(GroupAdmin):
    """Groups (roles): a non-superuser changes only roles below theirs and gives a group only
    permissions they hold."""

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "permissions":
            kwargs["queryset"] = grantable_permissions(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj in grantable_groups(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj in grantable_groups(request.user))


admin.site.unregister(User)
admin.site.register(User, AccountAdmin)
admin.site.unregister(Group)
admin.site.register(Group, RoleAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens: an Administrator issues one (its key is shown once) and revokes it; a
    token is never deleted, so that who issued it and when it was last used stay known."""

    list_display = ["name", "hint", "created_at", "created_by", "last_used_on", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["created_by"]
    search_fields = ["name", "hint"]
    fields = ["name", "hint", "created_at", "created_by", "last_used_on", "revoked_at"]
    readonly_fields = ["hint", "created_at", "created_by", "last_used_on", "revoked_at"]
    actions = ["revoke"]

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None):
        return ["name"] if obj is None else self.fields

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
            # Kept on the request only, for the page that shows it once (response_add).
            request._api_token_key = obj.set_new_key()
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue=None):
        # The key is shown on this answer alone: it is not stored, not put in a message
        # (messages travel in a cookie or the session) and cannot be shown again.
        return TemplateResponse(
            request,
            "admin/zonetracker/apitoken/issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "token": obj,
                "key": request._api_token_key,
                "title": _("API token issued"),
            },
        )

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.active())
        for token in tokens:
            token.revoke()
        self.message_user(
            request,
            ngettext("%(count)s token revoked.", "%(count)s tokens revoked.", len(tokens))
            % {"count": len(tokens)},
            messages.SUCCESS,
        )
