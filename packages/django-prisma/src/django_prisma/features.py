"""Features: Django's PostgreSQL features, minus what the Prisma HTTP protocol cannot do."""

from __future__ import annotations

import django
from django.db import DataError
from django.utils.functional import cached_property

from ._pg import _psycopg_available, pg

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

    # The PostgreSQL wire protocol's limit on bind parameters per statement. A plain class
    # attribute (not a cached_property) so tests can patch it on the class.
    max_query_params = 2**16 - 1

    @cached_property
    def has_icu_collations(self) -> bool:
        """Whether the server's PostgreSQL was built with ICU (PGlite, behind @prisma/dev, is
        not: ``CREATE COLLATION ... (provider = icu)`` fails with 0A000)."""
        from django.db import NotSupportedError, transaction

        # pg_collation is no help: PGlite lists the "unicode" ICU collation all the same.
        try:
            with transaction.atomic(using=self.connection.alias):
                with self.connection.cursor() as cursor:
                    cursor.execute("SELECT 'a' < 'b' COLLATE \"unicode\"")
        except NotSupportedError:
            return False
        return True

    @cached_property
    def django_test_expected_failures(self):
        failures = set(super().django_test_expected_failures) | {
            # The test reads pg_sequences.data_type, a regtype column; Prisma's query engine
            # cannot return regtype (P2010 "Failed to deserialize column of type 'regtype'").
            "schema.tests.SchemaTests.test_alter_serial_auto_field_to_bigautofield",
        }
        if django.VERSION >= (6, 1):
            # The test writes settings.DATABASES into a settings module with repr(); API_KEY is
            # held in a Secret whose repr is masked, so that module cannot be imported.
            failures.add(
                "migrations.test_loader.LoaderTests"
                ".test_loading_order_does_not_create_circular_dependency"
            )
        return failures

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
        if not _psycopg_available():
            skips[
                "The test imports django.contrib.postgres (ArrayField), whose forms module "
                "imports psycopg; django-prisma runs without psycopg (install psycopg to use "
                "django.contrib.postgres with it)."
            ] = {
                "schema.tests.SchemaTests.test_alter_array_field_decrease_base_field_length",
                "schema.tests.SchemaTests.test_alter_array_field_decrease_nested_base_field_length",
                "schema.tests.SchemaTests.test_alter_field_with_custom_db_type",
                "schema.tests.SchemaTests.test_db_collation_arrayfield",
            }
        if not self.has_icu_collations:
            skips[
                "This server's PostgreSQL has no ICU (PGlite behind @prisma/dev: 'ICU is not "
                "supported in this build', 0A000, also through its direct TCP port with "
                "Django's stock postgresql backend); the test creates an ICU collation."
            ] = {
                "schema.tests.SchemaTests.test_ci_cs_db_collation",
                "schema.tests.SchemaTests.test_db_collation_arrayfield",
                "schema.tests.SchemaTests.test_relation_to_collation_charfield",
                "schema.tests.SchemaTests.test_unique_with_collation_charfield",
            }
        return skips
