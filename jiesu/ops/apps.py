from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running Jiesu: serve, set up, check."""

    name = "jiesu.ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jiesu.ops import pg_arrays, sqlite_busy

        pg_arrays.connect()
        sqlite_busy.connect()
