from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "jiesu.demo"
    default_auto_field = "django.db.models.BigAutoField"
