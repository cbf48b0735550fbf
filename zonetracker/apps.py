"""The project's own app: accounts admin, API tokens and what both apps share."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ZonetrackerConfig(AppConfig):
    default = True
    name = "zonetracker"
    verbose_name = "zonetracker"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zonetracker.permissions import sync_role_groups

        # This app's permissions (API tokens) exist only after its own post_migrate; grant
        # them to the roles then.
        post_migrate.connect(sync_role_groups, sender=self)
