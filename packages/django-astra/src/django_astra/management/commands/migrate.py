"""``migrate``: Django's migrate for SQL databases, ``sync_cassandra`` for django_astra ones."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections


class Command(MigrateCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["database"]
        if connections[alias].settings_dict.get("ENGINE") == "django_astra":
            call_command(
                "sync_cassandra",
                database=alias,
                verbosity=options.get("verbosity", 1),
                stdout=self.stdout,
            )
            return
        super().handle(*args, **options)
