from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "jiesu.security"
    label = "security"
    verbose_name = "Security"
