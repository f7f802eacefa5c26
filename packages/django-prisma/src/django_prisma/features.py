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
    # The executor cannot deserialize interval columns (P2010 UnsupportedNativeDataType).
    # DurationField reads would fail; see docs/backends/prisma.md.
    supports_explaining_query_execution = True
    supports_over_clause = True
    # 'NaN'/'Infinity' float8 values come back as JSON null from the executor (measured).
    supports_float_nan_inf = False

    @cached_property
    def prohibits_null_characters_in_text_exception(self):
        return DataError, "invalid byte sequence for encoding"

    @cached_property
    def max_query_params(self):
        return 2**16 - 1

    @cached_property
    def django_test_skips(self):
        skips = dict(super().django_test_skips)
        skips.update(
            {
                "Prisma's query engine cannot deserialize interval columns "
                "(UnsupportedNativeDataType); DurationField values cannot be read back.": {
                    "model_fields.test_durationfield.TestSaveLoad.test_simple_roundtrip",
                    "model_fields.test_durationfield.TestSaveLoad.test_create_empty",
                    "model_fields.test_durationfield.TestSaveLoad.test_fractional_seconds",
                },
            }
        )
        return skips
