"""``manage.py dbshell``: there is no shell for the Prisma HTTP protocol."""

from __future__ import annotations

from typing import Any

from django.db.backends.base.client import BaseDatabaseClient


class DatabaseClient(BaseDatabaseClient):
    executable_name = "psql"

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict: Any, parameters: Any) -> Any:
        raise NotImplementedError(
            "django-prisma talks HTTP; for a SQL shell use psql with the database's direct "
            "TCP connection string (Prisma Postgres: postgres://...@db.prisma.io:5432/)."
        )
