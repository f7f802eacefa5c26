"""``manage.py prisma_models schema.prisma``: PSL -> Django models (managed = False)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_prisma.psl_parser import PSLSyntaxError, generate_models


class Command(BaseCommand):
    help = "Print Django models (managed = False) for a Prisma schema (schema.prisma)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("schema", help="path to schema.prisma")

    def handle(self, schema: str, **options: Any) -> None:
        path = Path(schema)
        try:
            self.stdout.write(generate_models(path.read_text()), ending="")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}")
        except PSLSyntaxError as exc:
            raise CommandError(f"{path}:{exc}")
