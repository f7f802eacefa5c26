"""Features: real transactions (the Worker's begin/commit/rollback), emulated savepoints."""

from __future__ import annotations

from django.utils.functional import cached_property
from django_backend_core.remote_sqlite.features import DatabaseFeatures as RemoteFeatures


class DatabaseFeatures(RemoteFeatures):
    # begin/commit/rollback are intercepted by the Worker and hold a lock across messages.
    supports_transactions = True
    atomic_transactions = True
    can_rollback_ddl = True
    # Savepoints are emulated by the transport (roll back + replay, see transport.py).
    uses_savepoints = True
    can_release_savepoints = True
    # One SQLite behind one lock: another connection waits while a transaction is open.
    test_db_allows_multiple_connections = True
    # DO limits: 100 bound parameters, 100 KB of SQL per statement.
    max_query_params = 100

    @cached_property
    def django_test_skips(self):
        return dict(super().django_test_skips)

    @cached_property
    def django_test_expected_failures(self):
        failures = set(super().django_test_expected_failures)
        failures.update(
            {
                # A Durable Object binds at most 100 arguments per statement, so bulk_create
                # batches are smaller than the query counts these tests expect (sqlite3: 999).
                "bulk_create.tests.BulkCreateTests.test_explicit_batch_size_efficiency",
                "bulk_create.tests.BulkCreateTests.test_large_batch_efficiency",
                "bulk_create.tests.BulkCreateTests.test_large_batch_mixed_efficiency",
                # The reply carries values only, no declared column types, so a raw cursor
                # cannot turn DATE/TIMESTAMP columns into date objects as sqlite3's
                # detect_types does (the ORM's converters still do).
                "schema.tests.SchemaTests.test_add_datefield_and_datetimefield_use_effective_default",
                # REGEXP is a Python function in Django's sqlite3 backend; the server has none
                # (NotSupportedError saying so).
                "lookup.tests.LookupTests.test_regex",
                "lookup.tests.LookupTests.test_regex_non_ascii",
                "lookup.tests.LookupTests.test_regex_non_string",
                "lookup.tests.LookupTests.test_regex_null",
                "model_fields.test_jsonfield.TestQuerying.test_key_iregex",
                "model_fields.test_jsonfield.TestQuerying.test_key_regex",
            }
        )
        return failures
