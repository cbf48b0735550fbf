"""Administrators manage the accounts below them and can never raise anyone, themselves
included, to superuser or to a permission they lack; only a superuser can."""

import pytest
from django.contrib.auth.models import Group, Permission, User

from tests.factories import make_user
from zonetracker.permissions import ADMINISTRATOR, APPROVER, REVIEWER, VIEWER

pytestmark = pytest.mark.django_db


def change_form(user: User) -> dict:
    """The fields of the user change form as an Administrator sees them, filled in."""
    return {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }


def group_ids(*names: str) -> list[int]:
    return list(Group.objects.filter(name__in=names).values_list("pk", flat=True))


def test_an_administrator_gives_a_reviewer_the_approver_role(client, alice, carol):
    client.force_login(alice)
    response = client.post(
        f"/admin/auth/user/{carol.pk}/change/",
        {**change_form(carol), "groups": group_ids(REVIEWER, APPROVER)},
    )
    assert response.status_code == 302
    assert set(carol.groups.values_list("name", flat=True)) == {REVIEWER, APPROVER}


def test_an_administrator_cannot_make_anyone_superuser_or_staff_or_grant_permissions(
    client, alice, carol
):
    client.force_login(alice)
    every_permission = list(Permission.objects.values_list("pk", flat=True))
    client.post(
        f"/admin/auth/user/{carol.pk}/change/",
        {
            **change_form(carol),
            "groups": group_ids(REVIEWER),
            "is_superuser": "on",
            "is_staff": "on",
            "user_permissions": every_permission,
        },
    )
    carol.refresh_from_db()
    assert not carol.is_superuser
    assert not carol.is_staff
    assert not carol.user_permissions.exists()


def test_the_form_an_administrator_sees_offers_no_superuser_box(client, alice, carol):
    client.force_login(alice)
    page = client.get(f"/admin/auth/user/{carol.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page
    assert 'name="groups"' in page


def test_an_administrator_cannot_grant_the_administrator_role(client, alice, carol):
    client.force_login(alice)
    response = client.post(
        f"/admin/auth/user/{carol.pk}/change/",
        {**change_form(carol), "groups": group_ids(REVIEWER, ADMINISTRATOR)},
    )
    assert response.status_code == 200  # the form again, with the refused choice named
    assert "Select a valid choice" in response.content.decode()
    assert set(carol.groups.values_list("name", flat=True)) == {REVIEWER}


def test_an_administrator_cannot_change_themselves_another_administrator_or_a_superuser(
    client, alice
):
    other_administrator = make_user("olga", ADMINISTRATOR)
    root = User.objects.create_superuser("root", password="x-very-long-password-1")
    client.force_login(alice)
    for account in (alice, other_administrator, root):
        response = client.post(
            f"/admin/auth/user/{account.pk}/change/",
            {**change_form(account), "groups": group_ids(VIEWER)},
        )
        assert response.status_code == 403, account
        password = client.post(
            f"/admin/auth/user/{account.pk}/password/",
            {"password1": "n3w-passw0rd-long", "password2": "n3w-passw0rd-long"},
        )
        assert password.status_code == 403, account
    assert set(alice.groups.values_list("name", flat=True)) == {ADMINISTRATOR}
    assert set(other_administrator.groups.values_list("name", flat=True)) == {ADMINISTRATOR}
    root.refresh_from_db()
    assert root.check_password("x-very-long-password-1")


def test_an_added_account_starts_with_no_role_and_no_superuser_status(client, alice):
    client.force_login(alice)
    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": "n3w-passw0rd-long",
            "password2": "n3w-passw0rd-long",
            "is_superuser": "on",
            "is_staff": "on",
            "groups": group_ids(ADMINISTRATOR),
        },
    )
    assert response.status_code == 302
    newcomer = User.objects.get(username="newcomer")
    assert not newcomer.is_superuser
    assert not newcomer.is_staff
    assert not newcomer.groups.exists()


def test_a_group_manager_gives_a_group_only_permissions_they_hold(client, alice):
    # Not an Administrator's permission today; given directly to show it cannot escalate.
    alice.user_permissions.add(Permission.objects.get(codename="change_group"))
    viewers = Group.objects.get(name=VIEWER)
    before = set(viewers.permissions.values_list("pk", flat=True))
    client.force_login(alice)
    response = client.post(
        f"/admin/auth/group/{viewers.pk}/change/",
        {
            "name": VIEWER,
            "permissions": [*before, Permission.objects.get(codename="delete_zone").pk],
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert set(viewers.permissions.values_list("pk", flat=True)) == before


def test_a_group_manager_cannot_change_a_group_above_them(client, alice):
    alice.user_permissions.add(Permission.objects.get(codename="change_group"))
    administrators = Group.objects.get(name=ADMINISTRATOR)
    client.force_login(alice)
    response = client.post(
        f"/admin/auth/group/{administrators.pk}/change/",
        {"name": "Administrator", "permissions": []},
    )
    assert response.status_code == 403
    assert administrators.permissions.exists()


def test_bulk_deletion_of_accounts_above_them_is_refused(client, alice, carol):
    alice.user_permissions.add(Permission.objects.get(codename="delete_user"))
    root = User.objects.create_superuser("root", password="x-very-long-password-1")
    client.force_login(alice)
    response = client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [carol.pk, root.pk], "post": "yes"},
    )
    assert response.status_code in {200, 403}
    assert User.objects.filter(username="root").exists()
    assert User.objects.filter(username="carol").exists()


def test_a_superuser_may_grant_anything(client):
    root = User.objects.create_superuser("root", password="x-very-long-password-1")
    carol = make_user("carol", REVIEWER)
    client.force_login(root)
    response = client.post(
        f"/admin/auth/user/{carol.pk}/change/",
        {
            **change_form(carol),
            "groups": group_ids(ADMINISTRATOR),
            "is_staff": "on",
            "is_superuser": "on",
        },
    )
    assert response.status_code == 302
    carol.refresh_from_db()
    assert carol.is_superuser
    assert carol.is_staff
