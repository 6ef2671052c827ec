from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    name = "jiesu.insight"
    label = "insight"
    verbose_name = _("Insight and proactive governance")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jiesu.insight import rollup

        rollup.connect()  # the dashboard's daily roll-ups follow every change to an order
