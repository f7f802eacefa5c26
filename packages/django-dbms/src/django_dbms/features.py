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
        skips = dict(super().django_test_skips)
        return skips

    @cached_property
    def django_test_expected_failures(self):
        return set(super().django_test_expected_failures)
