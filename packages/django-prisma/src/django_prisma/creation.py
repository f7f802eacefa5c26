"""Test database handling: the test database is the database a (test) URL points at.

Over the Prisma HTTP protocol a connection string addresses exactly one database; there is no
CREATE DATABASE + reconnect. So ``manage.py test`` uses ``TEST["URL"]`` (or the main URL) and
drops the tables, views and sequences of its current schema first, the way Django's other
backends drop an old test database. Point ``TEST["URL"]`` at a database you can wipe.
"""

from __future__ import annotations

from typing import Any

from django_backend_core.secrets import reveal

from ._pg import pg
from .transport import parse_url

PGCreation = pg["creation"].DatabaseCreation


class DatabaseCreation(PGCreation):
    def _get_test_db_name(self) -> str:
        return self.connection.settings_dict["NAME"] or "prisma"

    def test_db_signature(self) -> tuple[str, ...]:
        """Identify the test database by its endpoint (never its API key).

        Django treats aliases with equal signatures as one test database; without the endpoint
        two aliases on different Prisma servers would look the same and the second would never
        get its tables.
        """
        sd = self.connection.settings_dict
        url = reveal((sd.get("TEST") or {}).get("URL") or sd.get("URL")) or ""
        try:
            endpoint = parse_url(url)[0] if url else ""
        except ValueError:
            endpoint = ""
        return (endpoint, sd["ENGINE"], self._get_test_db_name())

    def _create_test_db(self, verbosity: int, autoclobber: bool, keepdb: bool = False) -> str:
        test_url = self.connection.settings_dict.get("TEST", {}).get("URL")
        if test_url:
            self.connection.close()
            self.connection.settings_dict["URL"] = test_url
        name = self._get_test_db_name()
        if keepdb:
            return name
        if verbosity >= 1:
            self.log(
                "Dropping the tables, views and sequences of the test database (Prisma URL)..."
            )
        self.clear_current_schema()
        return name

    def clear_current_schema(self) -> None:
        """Drop every table, view and sequence of the current schema (types, collations and
        extensions stay), the equivalent of Django dropping an old test database."""
        kinds = [
            (
                "MATERIALIZED VIEW",
                "SELECT matviewname::text FROM pg_matviews WHERE schemaname = current_schema()",
            ),
            ("VIEW", "SELECT viewname::text FROM pg_views WHERE schemaname = current_schema()"),
            ("TABLE", "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()"),
            (
                "SEQUENCE",
                "SELECT sequencename::text FROM pg_sequences WHERE schemaname = current_schema()",
            ),
        ]
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for kind, query in kinds:
                cursor.execute(query)
                names = [row[0] for row in cursor.fetchall()]
                if names:
                    cursor.execute(
                        f"DROP {kind} IF EXISTS {', '.join(quote(n) for n in names)} CASCADE"
                    )

    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        # The database itself belongs to the URL; nothing to drop.
        return None

    def _clone_test_db(self, suffix: Any, verbosity: int, keepdb: bool = False) -> None:
        from django.db import NotSupportedError

        raise NotSupportedError(
            "django-prisma cannot clone test databases (one database per Prisma URL); "
            "run tests with --parallel 1."
        )
