from django.apps import AppConfig


class AstraSessionsConfig(AppConfig):
    name = "django_astra.sessions"
    label = "astra_sessions"
    verbose_name = "Sessions (Cassandra)"
