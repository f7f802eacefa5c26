"""Features: Django's PostgreSQL features, minus what the Prisma HTTP protocol cannot do."""

from __future__ import annotations

from django.db import DataError
from django.utils.functional import cached_property

from ._pg import pg

PGFeatures = pg["features"].DatabaseFeatures


class DatabaseFeatures(PGFeatures):
    # Each test database is the one database the URL points at (Prisma gives one database per
    # connection string, there is no CREATE DATABASE + reconnect over HTTP).
    can_clone_databases = False
    # No server-side cursors over HTTP: iterator() reads the whole result of each query.
    can_use_chunked_reads = True
    # The query-plan executor binds parameters as untyped text (measured: pg_typeof($1) fails
    # with 42P18), like psycopg's server-side binding, not like client-side interpolation.
    uses_server_side_binding = True
    # Interactive transactions and SAVEPOINTs inside them work (tests/test_live.py shows it).
    uses_savepoints = True
    can_release_savepoints = True
    # Limitations without a Django flag (docs/backends/prisma.md): the executor cannot return
    # interval columns (UnsupportedNativeDataType), so top-level selects read DurationField as
    # microseconds (compiler.py); and 'NaN'/'Infinity' float8 values come back as
    # JSON null from the executor (measured); see docs/backends/prisma.md.

    @cached_property
    def can_rollback_ddl(self) -> bool:
        # A migration runs inside one interactive transaction, which Prisma caps (Prisma
        # Postgres: 15 s; @prisma/dev: 5 min). OPTIONS["atomic_migrations"] = False runs DDL
        # in autocommit instead, for schemas too large to create within that limit.
        return bool(self.connection.settings_dict.get("OPTIONS", {}).get("atomic_migrations", True))

    @cached_property
    def prohibits_null_characters_in_text_exception(self):
        return DataError, "invalid byte sequence for encoding"

    @cached_property
    def max_query_params(self):
        return 2**16 - 1
