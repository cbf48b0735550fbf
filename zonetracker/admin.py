"""Accounts in the admin: who may manage whom, and which roles and permissions they may grant.

Django's own user and group admin let anyone with ``auth.change_user`` tick "superuser" or
grant any permission. Here only a superuser may do that; anyone else manages the accounts
below their own level and grants only what they hold themselves.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import AbstractBaseUser, Group, Permission, User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# Holding any of these makes an account a manager of accounts; only a superuser manages one.
ACCOUNT_MANAGEMENT = frozenset(
    f"auth.{action}_{model}"
    for action in ("add", "change", "delete")
    for model in ("user", "group", "permission")
)


def grantable_permissions(by: AbstractBaseUser) -> QuerySet[Permission]:
    """The permissions ``by`` may give to a group or user: those they hold, short of managing
    accounts (every permission for a superuser)."""
    permissions = Permission.objects.select_related("content_type")
    if by.is_superuser:
        return permissions
    held = by.get_all_permissions() - ACCOUNT_MANAGEMENT
    return permissions.filter(pk__in=[p.pk for p in permissions if _permission_name(p) in held])


def _permission_name(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def grantable_groups(by: AbstractBaseUser) -> QuerySet[Group]:
    """The roles ``by`` may give: for a superuser every group; for anyone else the roles
    below theirs, that is the groups that do not manage accounts."""
    if by.is_superuser:
        return Group.objects.all()
    return Group.objects.exclude(pk__in=_account_managing_groups())


def _account_managing_groups() -> QuerySet[Group]:
    managing = Permission.objects.filter(
        content_type__app_label="auth",
        codename__in=[name.split(".")[1] for name in ACCOUNT_MANAGEMENT],
    )
    return Group.objects.filter(permissions__in=managing).values("pk")


def may_manage_account(by: AbstractBaseUser, account: AbstractBaseUser) -> bool:
    """A superuser manages every account; anyone else only the accounts below their level:
    not a superuser, not themselves, not one that manages accounts."""
    if by.is_superuser:
        return True
    if account.is_superuser or account.pk == by.pk:
        return False
    return not (account.get_all_permissions() & ACCOUNT_MANAGEMENT)


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
