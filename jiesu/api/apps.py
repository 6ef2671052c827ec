from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "jiesu.api"
    label = "jiesu_api"
    default_auto_field = "django.db.models.BigAutoField"
