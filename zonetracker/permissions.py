"""Who may do what: the roles as groups that bundle permissions, and the rules per object.

Every check in zonetracker is ``user.has_perm("app.codename")`` or
``user.has_perm("app.codename", obj)``:

- Without an object, Django's ``ModelBackend`` answers from the permissions a user holds,
  through a role group or granted directly: may the user do this at all?
- With an object, the rule registered here under the same name answers (django-rules'
  ``ObjectPermissionBackend``): may the user do it to this one? Rules read the object by
  attribute only, so that ``registry`` can import this module without ``evaluations``.
- A few rules have no model permission of their own (``evaluations.return_evaluation``,
  ``evaluations.follow_decisions``, ``evaluations.try_policy``); they answer with or without
  an object.

Only permissions, not group names, are checked anywhere; a group is a bundle of permissions
named after a role. Where the state of an object matters (the cycle is open, the evaluation
is submitted), the services check it beside the permission.

The scoped roles (a zone's reporter, a province's reviewer) hold their permission through
their role, and the rule narrows it to the zones and provinces assigned to them: scopes are
data, read by ``in_users_zones`` and ``in_users_provinces``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import rules
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
    from django.db.models import QuerySet

    User = AbstractBaseUser | AnonymousUser

# --- the roles ---------------------------------------------------------------------------

VIEWER = "Viewer"
REVIEWER = "Reviewer"
APPROVER = "Approver"
ADMINISTRATOR = "Administrator"
# Scoped roles: what they may do reaches only the zones and provinces assigned to the user
# (``registry.ZoneReporter``, ``registry.ProvinceReviewer``).
ZONE_REPORTER = "Zone reporter"
PROVINCIAL_REVIEWER = "Provincial reviewer"

ROLES = [VIEWER, REVIEWER, APPROVER, ADMINISTRATOR, ZONE_REPORTER, PROVINCIAL_REVIEWER]

# The roles whose members are staff: they reach the admin site.
STAFF_ROLES = {ADMINISTRATOR}

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
    ZONE_REPORTER: [*_READ_REGISTER, *_READ_CYCLES, "evaluations.report_evaluation"],
    PROVINCIAL_REVIEWER: [*_READ_REGISTER, *_READ_CYCLES, "evaluations.forward_evaluation"],
    ADMINISTRATOR: [
        *_READ_REGISTER,
        *_READ_EVALUATIONS,
        "evaluations.add_cycle",
        "evaluations.change_cycle",
        "evaluations.open_cycle",
        "evaluations.publish_cycle",
        "evaluations.import_results",
        "evaluations.add_indicator",
        "evaluations.change_indicator",
        "evaluations.delete_indicator",
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
        "registry.view_zonereporter",
        "registry.add_zonereporter",
        "registry.change_zonereporter",
        "registry.delete_zonereporter",
        "registry.view_provincereviewer",
        "registry.add_provincereviewer",
        "registry.change_provincereviewer",
        "registry.delete_provincereviewer",
        "evaluations.view_evidence",
        "evaluations.view_validationrule",
        "evaluations.add_validationrule",
        "evaluations.change_validationrule",
        "evaluations.delete_validationrule",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "zonetracker.view_apitoken",
        "zonetracker.add_apitoken",
        "zonetracker.change_apitoken",
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


def sync_role_groups(**kwargs: Any) -> None:
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


# --- predicates --------------------------------------------------------------------------


def holds(permission: str) -> rules.Predicate:
    """The user holds ``permission`` itself, through a role group or granted directly.

    Read from the permissions the backends list (cached on the user object), not through
    ``has_perm``, so that a rule may name its own permission without asking itself again.
    """

    def held(user: User) -> bool:
        return user.is_active and permission in user.get_all_permissions()

    return rules.predicate(held, name=f"holds {permission}")


@rules.predicate
def is_assigned_reviewer(user: User, evaluation: Any) -> bool:
    return evaluation.reviewer_id == user.pk


@rules.predicate
def entered_or_edited(user: User, evaluation: Any) -> bool:
    """Four eyes: whoever ever changed an evaluation's values does not approve it.

    Everyone its history names counts: who entered, edited or removed a score, saved or
    submitted it, even when a later edit undid theirs (``Evaluation.was_changed_by``).
    """
    if user.pk in {evaluation.last_edited_by_id, evaluation.submitted_by_id}:
        return True
    return evaluation.was_changed_by(user)


@rules.predicate
def in_users_zones(user: User, evaluation: Any) -> bool:
    """The evaluation's zone is one the user reports for (``registry.ZoneReporter``)."""
    from registry.models import scoped_zone_ids

    return evaluation.zone_id in scoped_zone_ids(user)


@rules.predicate
def in_users_provinces(user: User, evaluation: Any) -> bool:
    """The evaluation's zone lies in a province the user pre-reviews."""
    from registry.models import scoped_province_ids

    return evaluation.zone.province_id in scoped_province_ids(user)


# --- rules -------------------------------------------------------------------------------

# Entering an evaluation's scores, reading its page, approving and returning it. Whoever may
# act on an evaluation reads its page (``view_evaluation`` itself opens the lists): approving
# and administering span every evaluation; entering, those assigned to the reviewer.
enters_evaluation = holds("evaluations.change_score") | (
    holds("evaluations.enter_evaluation") & is_assigned_reviewer
)
# The reporting chain: a zone's reporter reports its figures, a province's reviewer forwards
# or returns its zones' reports; each reads the reports it acts on, and nothing else.
reports_evaluation = holds("evaluations.report_evaluation") & in_users_zones
forwards_evaluation = holds("evaluations.forward_evaluation") & in_users_provinces
reads_evaluation = (
    holds("evaluations.approve_evaluation")
    | holds("evaluations.change_evaluation")
    | enters_evaluation
    | reports_evaluation
    | forwards_evaluation
)
approves_evaluation = holds("evaluations.approve_evaluation") & ~entered_or_edited
returns_evaluation = holds("evaluations.approve_evaluation")

# Decisions: Approvers record them; whoever publishes the cycles that recommend them follows
# them too.
decides = holds("evaluations.decide")
follows_decisions = decides | holds("evaluations.publish_cycle")


def _object_rule(name: str, predicate: rules.Predicate) -> None:
    """Register the rule that narrows the model permission ``name`` to one object.

    Without an object the rule stays silent, so that the permission the user holds answers.
    """
    rules.add_perm(name, rules.predicate(lambda user, obj: obj is not None) & predicate)


_object_rule("evaluations.view_evaluation", reads_evaluation)
_object_rule("evaluations.enter_evaluation", enters_evaluation)
_object_rule("evaluations.approve_evaluation", approves_evaluation)
_object_rule("evaluations.decide", decides)
_object_rule("evaluations.report_evaluation", reports_evaluation)
_object_rule("evaluations.forward_evaluation", forwards_evaluation)
rules.add_perm("evaluations.return_evaluation", returns_evaluation)
rules.add_perm("evaluations.follow_decisions", follows_decisions)
# Trying another policy on a cycle (what if), without saving it: Approvers and whoever may
# change the cycle's policy.
rules.add_perm("evaluations.try_policy", decides | holds("evaluations.change_cycle"))


# --- accounts --------------------------------------------------------------------------

# Holding any of these makes an account a manager of accounts; only a superuser manages one.
ACCOUNT_MANAGEMENT = frozenset(
    f"auth.{action}_{model}"
    for action in ("add", "change", "delete")
    for model in ("user", "group", "permission")
)


def grantable_permissions(by: AbstractBaseUser) -> QuerySet[Permission]:
    """The permissions ``by`` may give to a group or user: those they hold, short of managing
    accounts (every permission for a superuser)."""
    from django.contrib.auth.models import Permission

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
    from django.contrib.auth.models import Group

    if by.is_superuser:
        return Group.objects.all()
    return Group.objects.exclude(pk__in=_account_managing_groups())


def _account_managing_groups() -> QuerySet[Group]:
    from django.contrib.auth.models import Group, Permission

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


# --- people ------------------------------------------------------------------------------

# The account a score import from the shell is recorded as when no ``--user`` is given.
IMPORT_ACCOUNT = "zonetracker-import"


def import_account() -> AbstractBaseUser:
    """The account ``import_scores`` without ``--user`` acts as, created on first use.

    It is inactive, has no usable password, no role and no permission: it never signs in and
    never approves, so the history of every imported score names an account, and four eyes
    holds no person back for it. An account of that name that could sign in or holds any
    permission is refused (PermissionDenied) rather than trusted.
    """
    user_model = get_user_model()
    account, created = user_model.objects.get_or_create(
        username=IMPORT_ACCOUNT, defaults={"is_active": False}
    )
    if created:
        account.set_unusable_password()
        account.save(update_fields=["password"])
        return account
    if (
        account.is_active
        or account.is_staff
        or account.is_superuser
        or account.has_usable_password()
        or account.groups.exists()
        or account.user_permissions.exists()
    ):
        raise PermissionDenied(
            _(
                "The account %(user)s is reserved for imports and must stay inactive, without "
                "password, role or permission; name the importing user with --user."
            )
            % {"user": IMPORT_ACCOUNT}
        )
    return account


def reviewers() -> QuerySet:
    """The active users who may be assigned evaluations: they hold ``enter_evaluation``."""
    return (
        get_user_model()
        .objects.with_perm(
            "evaluations.enter_evaluation", backend="django.contrib.auth.backends.ModelBackend"
        )
        .order_by("username")
    )
