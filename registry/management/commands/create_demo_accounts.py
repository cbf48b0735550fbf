"""Create one demo account per role, for local development, and print their credentials."""

import secrets

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from zonetracker.permissions import (
    ADMINISTRATOR,
    APPROVER,
    PROVINCIAL_REVIEWER,
    REVIEWER,
    STAFF_ROLES,
    VIEWER,
    ZONE_REPORTER,
)

DEMO_ACCOUNTS = [
    ("admin", ADMINISTRATOR),
    ("approver", APPROVER),
    ("reviewer", REVIEWER),
    ("viewer", VIEWER),
    # The reporting chain; seed_demo gives them a zone and its province as their scope.
    ("reporter", ZONE_REPORTER),
    ("province", PROVINCIAL_REVIEWER),
]


class Command(BaseCommand):
    help = (
        "Create (or reset) one demo account per role with a fresh random password and print "
        "the user names and passwords. Refused unless DJANGO_DEBUG is on."
    )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "Demo accounts are for local development only: set DJANGO_DEBUG=1 to create them."
            )
        rows = []
        with transaction.atomic():
            for username, role in DEMO_ACCOUNTS:
                password = secrets.token_urlsafe(9)
                user, _created = User.objects.get_or_create(username=username)
                user.set_password(password)
                user.is_staff = role in STAFF_ROLES
                user.is_superuser = False
                user.is_active = True
                user.save()
                user.groups.set([Group.objects.get(name=role)])
                rows.append((username, password, role))
        self.stdout.write("Demo accounts (passwords are new on every run):")
        for username, password, role in rows:
            self.stdout.write(f"  {role:<19} user: {username:<10} password: {password}")
