from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running Jiesu: serve, set up, check."""

    name = "jiesu.ops"
    default_auto_field = "django.db.models.BigAutoField"
