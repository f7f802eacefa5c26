"""App config: registers cqlengine connection entries for django_astra aliases (no network)."""

from django.apps import AppConfig


class DjangoAstraConfig(AppConfig):
    name = "django_astra"
    verbose_name = "Astra DB / Cassandra"
    default = True

    def ready(self) -> None:
        from .cqlengine_bridge import astra_aliases, register

        aliases = astra_aliases()
        for i, alias in enumerate(aliases):
            register(alias, default=(i == 0))
