"""Features: real transactions (the Worker's begin/commit/rollback), emulated savepoints."""

from __future__ import annotations

import django
from django.utils.functional import cached_property
from django_backend_core.remote_sqlite.features import DatabaseFeatures as RemoteFeatures


class DatabaseFeatures(RemoteFeatures):
    store_name = "the Durable Object"
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
        skips = dict(super().django_test_skips)
        if django.VERSION >= (6, 1):
            skips[
                "The test runs showmigrations in a subprocess: a second session, which waits "
                "for this test's open transaction (one lock per Durable Object) until it times "
                "out."
            ] = {
                "migrations.test_loader.LoaderTests"
                ".test_loading_order_does_not_create_circular_dependency",
            }
        return skips

    @cached_property
    def django_test_expected_failures(self):
        """What only workers-dbms adds to the core's list (``remote_sqlite/expected.py``)."""
        failures = set(super().django_test_expected_failures)
        failures.update(
            {
                # The Worker's begin is one lock for the whole database: sqlite3's
                # OPTIONS["transaction_mode"] (BEGIN DEFERRED/IMMEDIATE/EXCLUSIVE) does not
                # apply, and a second connection waits for the first one's transaction
                # (then gets a clear error) instead of working concurrently.
                "backends.sqlite.tests.TestTransactionMode.test_invalid_transaction_mode",
                "backends.sqlite.tests.TestTransactionMode.test_valid_transaction_modes",
                "delete_regress.tests.DeleteLockingTest.test_concurrent_delete",
                # A Durable Object binds at most 100 arguments per statement, so bulk_create
                # batches are smaller than the query counts these tests expect (sqlite3: 999).
                "bulk_create.tests.BulkCreateTests.test_explicit_batch_size_efficiency",
                "bulk_create.tests.BulkCreateTests.test_large_batch_efficiency",
                "bulk_create.tests.BulkCreateTests.test_large_batch_mixed_efficiency",
            }
        )
        return failures
