from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningConfig(AppConfig):
    name = "jiesu.learning"
    label = "learning"
    verbose_name = _("Triage learning")
    default_auto_field = "django.db.models.BigAutoField"
