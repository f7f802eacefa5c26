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

    @cached_property
    def django_test_expected_failures(self):
        # Foreign keys are DEFERRABLE INITIALLY IMMEDIATE (operations.deferrable_sql explains
        # why), so deletions that rely on checks deferred to COMMIT fail with IntegrityError.
        return set(super().django_test_expected_failures) | {
            "delete.tests.DeletionTests.test_can_defer_constraint_checks",
            "delete.tests.OnDeleteTests.test_restrict_path_cascade_direct",
            "delete.tests.OnDeleteTests.test_restrict_path_cascade_indirect",
        }

    @cached_property
    def django_test_skips(self):
        skips = dict(super().django_test_skips)
        skips.update(
            {
                "Tests of psycopg/libpq connection internals (connection pools, service files, "
                "roles, SET TIME ZONE on connect, COPY, psycopg versions); django-prisma has no "
                "libpq connection, it speaks the Prisma HTTP protocol.": {
                    "backends.postgresql.tests.Tests",
                },
                "Test databases are not created with CREATE DATABASE (one database per Prisma "
                "URL; creation.py clears it instead), so PostgreSQL's creation suffixes and "
                "clone/keepdb paths do not apply.": {
                    "backends.postgresql.test_creation.DatabaseCreationTests",
                },
                "The test imports django.db.backends.postgresql.psycopg_any (needs psycopg) to "
                "check psycopg's diag attributes.": {
                    "db_utils.tests.DatabaseErrorWrapperTests."
                    "test_reraising_backend_specific_database_exception",
                },
                "No server-side (named) cursors over the Prisma HTTP protocol: each query's "
                "result comes back whole.": {
                    "backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres",
                },
            }
        )
        return skips
