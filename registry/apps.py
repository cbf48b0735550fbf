from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "registry"
    verbose_name = _("Register")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from zonetracker.permissions import sync_role_groups

        # After the last of zonetracker's apps, whose permissions exist by then.
        post_migrate.connect(sync_role_groups, sender=apps.get_app_config("evaluations"))
