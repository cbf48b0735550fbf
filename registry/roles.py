"""The four roles of zonetracker, as Django groups, and the permissions each holds."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext_lazy as _

VIEWER = "Viewer"
REVIEWER = "Reviewer"
APPROVER = "Approver"
ADMINISTRATOR = "Administrator"

ROLES = [VIEWER, REVIEWER, APPROVER, ADMINISTRATOR]

ROLE_LABELS = {
    VIEWER: _("Viewer"),
    REVIEWER: _("Reviewer"),
    APPROVER: _("Approver"),
    ADMINISTRATOR: _("Administrator"),
}

_READ_REGISTER = ["registry.view_province", "registry.view_batch", "registry.view_zone"]
_READ_CYCLES = ["evaluations.view_cycle", "evaluations.view_indicator", "evaluations.view_decision"]
_READ_EVALUATIONS = [*_READ_CYCLES, "evaluations.view_evaluation", "evaluations.view_score"]

# "app_label.codename" for each role. Data migrations created the groups; after every
# ``migrate`` sync_role_groups grants what is listed here, so a new permission only needs a
# line here.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    VIEWER: [*_READ_REGISTER, *_READ_CYCLES],
    REVIEWER: [*_READ_REGISTER, *_READ_EVALUATIONS, "evaluations.enter_evaluation"],
    APPROVER: [
        *_READ_REGISTER,
        *_READ_EVALUATIONS,
        "evaluations.approve_evaluation",
        "evaluations.decide",
    ],
    ADMINISTRATOR: [
        *_READ_REGISTER,
        *_READ_EVALUATIONS,
        "evaluations.add_cycle",
        "evaluations.change_cycle",
        "evaluations.open_cycle",
        "evaluations.publish_cycle",
        "evaluations.add_indicator",
        "evaluations.change_indicator",
        "evaluations.change_evaluation",
        "evaluations.assign_evaluation",
        "evaluations.import_scores",
        "evaluations.change_score",
        "registry.add_province",
        "registry.change_province",
        "registry.add_batch",
        "registry.change_batch",
        "registry.add_zone",
        "registry.change_zone",
        "registry.import_zone",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
    ],
}


def grant_role_permissions(apps, app_labels: set[str]) -> None:
    """Create the role groups and grant them the permissions of the given apps (idempotent).

    Meant for data migrations: permissions are normally created after ``migrate``, so they are
    created here first with the historical app registry.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        if app_config.label in app_labels | {"auth", "contenttypes"}:
            app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            if app_label not in app_labels:
                continue
            # A permission added by a later migration is granted after migrate, by
            # sync_role_groups.
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)


def sync_role_groups(**kwargs) -> None:
    """Make sure the role groups exist and hold their permissions (a post_migrate handler).

    The data migrations create the groups once; this keeps them after a database flush (as
    between transactional tests) and grants permissions that a later app added.
    """
    from django.contrib.auth.models import Group, Permission

    wanted = {name for names in ROLE_PERMISSIONS.values() for name in names}
    permissions = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
        if f"{app_label}.{codename}" in wanted
    }
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.add(*[permissions[name] for name in names if name in permissions])


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    """The role names a user holds; a superuser holds them all."""
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ROLES)
    cached = getattr(user, "_zonetracker_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._zonetracker_roles = cached
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))
