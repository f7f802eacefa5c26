"""What D1 over REST can and cannot do, honestly."""

from __future__ import annotations

from django.utils.functional import cached_property
from django_backend_core.remote_sqlite.features import DatabaseFeatures as RemoteFeatures

from .expected import EXPECTED_FAILURES, SKIPS


class DatabaseFeatures(RemoteFeatures):
    store_name = "D1"
    # The REST API runs every request (or batch) as its own implicit transaction and refuses
    # BEGIN/SAVEPOINT: atomic() cannot roll back. django_d1.batch() is the all-or-nothing tool.
    supports_transactions = False
    uses_savepoints = False
    can_release_savepoints = False
    can_rollback_ddl = False
    atomic_transactions = False
    autocommits_when_autocommit_is_off = True
    # Foreign keys are always enforced (PRAGMA foreign_keys=OFF is ignored by D1).
    supports_pragma_foreign_key_check = True
    can_defer_constraint_checks = False
    # Every statement is a round trip; tests need the same data visible to all connections.
    test_db_allows_multiple_connections = True

    @cached_property
    def django_test_expected_failures(self):
        return set(super().django_test_expected_failures) | set(EXPECTED_FAILURES)

    @cached_property
    def django_test_skips(self):
        skips = dict(super().django_test_skips)
        for reason, tests in SKIPS.items():
            skips.setdefault(reason, set()).update(tests)
        return skips
