"""Create the four role groups and grant them the register's permissions."""

from django.db import migrations

from zonetracker.permissions import grant_role_permissions


def create_roles(apps, schema_editor):
    grant_role_permissions(apps, {"registry", "auth"})


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
