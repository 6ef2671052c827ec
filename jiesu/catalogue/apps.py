from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "jiesu.catalogue"
    default_auto_field = "django.db.models.BigAutoField"
