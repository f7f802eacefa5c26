"""``manage.py prisma_schema [app_label ...] [-o schema.prisma]``: Django models -> PSL."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from django_prisma.psl_writer import schema_from_models


class Command(BaseCommand):
    help = "Write a Prisma schema (schema.prisma) describing the installed Django models."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("app_labels", nargs="*", help="limit to these apps")
        parser.add_argument("-o", "--output", help="file to write (default: stdout)")

    def handle(self, *app_labels: str, output: str | None = None, **options: Any) -> None:
        try:
            configs = [apps.get_app_config(label) for label in app_labels] or list(
                apps.get_app_configs()
            )
        except LookupError as exc:
            raise CommandError(str(exc))
        model_list = [m for config in configs for m in config.get_models(include_auto_created=True)]
        text = schema_from_models(model_list)
        if output:
            with open(output, "w") as fh:
                fh.write(text)
        else:
            self.stdout.write(text, ending="")
