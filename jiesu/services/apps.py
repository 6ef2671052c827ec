from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "jiesu.services"
    label = "services"
    verbose_name = _("Public legal services")
