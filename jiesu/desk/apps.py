from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "jiesu.desk"
    default_auto_field = "django.db.models.BigAutoField"
