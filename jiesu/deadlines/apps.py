from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    name = "jiesu.deadlines"
    default_auto_field = "django.db.models.BigAutoField"
