"""Grant the role groups the permissions of cycles, indicators and evaluations."""

from django.db import migrations

from zonetracker.permissions import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, {"evaluations"})


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0001_initial"),
        ("registry", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
