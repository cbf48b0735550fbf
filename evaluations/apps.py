from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "evaluations"
    verbose_name = _("Evaluations")

    def ready(self) -> None:
        from evaluations.published_cache import connect_signals
        from evaluations.zone_page import zone_page_section
        from registry.zone_page import register_zone_section

        # The register's zone page knows nothing of the evaluations; they add their part.
        register_zone_section(zone_page_section)
        # A published cycle's cached pages get a new version whenever what they show changes.
        connect_signals()
