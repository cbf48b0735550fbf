"""The four role groups exist with their permissions, and demo accounts cover each role."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError

from zonetracker.permissions import (
    ADMINISTRATOR,
    APPROVER,
    PROVINCIAL_REVIEWER,
    REVIEWER,
    ROLES,
    VIEWER,
    ZONE_REPORTER,
)


@pytest.mark.django_db
def test_the_data_migration_creates_the_four_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)


@pytest.mark.django_db
def test_only_administrators_may_import_batches():
    holders = Group.objects.filter(
        permissions__codename="import_zone", permissions__content_type__app_label="registry"
    )
    assert list(holders.values_list("name", flat=True)) == [ADMINISTRATOR]


@pytest.mark.django_db
def test_every_role_may_read_the_register():
    for role in ROLES:
        codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert {"view_zone", "view_batch", "view_province"} <= codenames


@pytest.mark.django_db
def test_viewers_reviewers_and_approvers_cannot_change_the_register():
    for role in (VIEWER, REVIEWER, APPROVER):
        codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert not {c for c in codenames if c.startswith(("add_", "change_", "delete_"))}


@pytest.mark.django_db
def test_a_role_grants_its_permissions_through_group_membership(alice, dave):
    assert alice.has_perm("registry.import_zone")
    assert not dave.has_perm("registry.import_zone")
    assert dave.has_perm("registry.view_zone")


@pytest.mark.django_db
def test_demo_accounts_get_one_account_per_role_and_print_working_passwords(settings, capsys):
    settings.DEBUG = True
    call_command("create_demo_accounts")
    printed = capsys.readouterr().out
    for line in printed.splitlines()[1:]:
        *_, username_label, username, password_label, password = line.split()
        assert (username_label, password_label) == ("user:", "password:")
        user = User.objects.get(username=username)
        assert user.check_password(password)
    roles = {u.username: u.groups.get().name for u in User.objects.all()}
    assert roles == {
        "admin": ADMINISTRATOR,
        "approver": APPROVER,
        "reviewer": REVIEWER,
        "viewer": VIEWER,
        "reporter": ZONE_REPORTER,
        "province": PROVINCIAL_REVIEWER,
    }
    assert User.objects.get(username="admin").is_staff
    assert not User.objects.get(username="viewer").is_staff


@pytest.mark.django_db
def test_demo_accounts_are_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="local development"):
        call_command("create_demo_accounts")
    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_roles_survive_a_flush_of_the_database():
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    administrators = Group.objects.get(name=ADMINISTRATOR)
    assert administrators.permissions.filter(codename="import_zone").exists()
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)


def test_no_module_but_the_permissions_module_checks_a_group():
    """Pages, services, admin and commands ask has_perm; only the roles' module names groups."""
    root = Path(__file__).resolve().parents[2]
    checks = re.compile(
        r"groups__name|groups\.filter|has_role|user_roles"
        r"|== (ADMINISTRATOR|APPROVER|REVIEWER|VIEWER)"
    )
    offenders = [
        str(path.relative_to(root))
        for folder in ("registry", "evaluations", "zonetracker", "templates")
        for path in (root / folder).rglob("*")
        if path.suffix in {".py", ".html"}
        and "migrations" not in path.parts
        and path.name != "permissions.py"
        and checks.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
