from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "jiesu.integrations"
    label = "integrations"
    verbose_name = _("Integrations: notifications, webhooks, import and export")

    def ready(self) -> None:
        # Listen to the order history (jiesu.orders.events.events_committed) after commit.
        from jiesu.integrations import receivers  # noqa: F401
