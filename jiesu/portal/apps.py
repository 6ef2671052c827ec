from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "jiesu.portal"
    default_auto_field = "django.db.models.BigAutoField"
