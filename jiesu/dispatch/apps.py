from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "jiesu.dispatch"
    label = "dispatch"
    verbose_name = _("Smart dispatch")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jiesu.dispatch import signals  # noqa: F401  (the engine's cache follows the catalogue)
