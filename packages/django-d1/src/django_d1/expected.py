"""Django test-suite expectations for django_d1, each with its reason (used by features.py).

Only what is particular to D1's REST API lives here; what every remote SQLite shares (no
REGEXP or MD5, JSON-rounded integers, database ids as test databases, ...) is in the core's
``remote_sqlite/expected.py``. Measured with ``tests-integration/django_suite/run.py
--backend d1`` on Django 5.2.19 and 6.1.3.
"""

from __future__ import annotations

import django

_NO_TRANSACTIONS = "D1's REST API has no transactions: atomic() cannot mark a failed block."
_NO_SAVEPOINTS = (
    "Recovering from an IntegrityError inside atomic() needs a savepoint; D1's REST API has "
    "none, so Django marks the block as broken (TransactionManagementError)."
)
_FK_PER_REQUEST = (
    "D1 checks foreign keys at the end of every request (they cannot be disabled), so "
    "fixtures with forward references cannot load across several requests."
)
_FK_ALWAYS_ON = (
    "Foreign keys cannot be switched off on D1 (PRAGMA foreign_keys=OFF is ignored) and there "
    "is no transaction to defer them in: the invalid row these tests write is refused when "
    "it is written, so check_constraints() has nothing to find."
)

#: reason -> tests that fail on D1 for that documented reason.
EXPECTED: dict[str, set[str]] = {
    _NO_TRANSACTIONS: {
        "backends.base.test_base.DatabaseWrapperLoggingTests.test_commit_debug_log",
        "backends.base.test_base.DatabaseWrapperLoggingTests.test_rollback_debug_log",
        "backends.sqlite.tests.TestTransactionMode.test_default_transaction_mode",
        "backends.sqlite.tests.TestTransactionMode.test_invalid_transaction_mode",
        "backends.sqlite.tests.TestTransactionMode.test_valid_transaction_modes",
        "basic.tests.SelectOnSaveTests.test_select_on_save_lying_update",
        "migrations.test_executor.ExecutorTests.test_atomic_operation_in_non_atomic_migration",
        "migrations.test_operations.OperationTests.test_run_python_atomic",
    },
    _NO_SAVEPOINTS: {
        "get_or_create.tests.UpdateOrCreateTests.test_integrity",
        "get_or_create.tests.UpdateOrCreateTests.test_manual_primary_key_test",
        "get_or_create.tests.UpdateOrCreateTestsWithManualPKs.test_create_with_duplicate_primary_key",
    },
    _FK_PER_REQUEST: {
        "backends.base.test_creation.TestDeserializeDbFromString.test_circular_reference",
        "backends.base.test_creation.TestDeserializeDbFromString"
        ".test_circular_reference_with_natural_key",
        "backends.base.test_creation.TestDeserializeDbFromString.test_self_reference",
        *(
            f"serializers.test_data.SerializerDataTests.test_{fmt}_serializer"
            for fmt in ("json", "jsonl", "python", "xml", "yaml")
        ),
        "serializers.test_json.JsonSerializerTransactionTestCase.test_forward_refs",
        "serializers.test_jsonl.JsonSerializerTransactionTestCase.test_forward_refs",
        "serializers.test_xml.XmlSerializerTransactionTestCase.test_forward_refs",
        "serializers.test_yaml.YamlSerializerTransactionTestCase.test_forward_refs",
        "fixtures.tests.CircularReferenceTests.test_circular_reference",
        "fixtures.tests.ForwardReferenceTests.test_forward_reference_fk",
        "fixtures.tests.ForwardReferenceTests.test_forward_reference_m2m",
        "fixtures_regress.tests.TestFixtures.test_loaddata_forward_refs_split_fixtures",
        "fixtures_regress.tests.TestFixtures.test_loaddata_works_when_fixture_has_forward_refs",
    },
    _FK_ALWAYS_ON: {
        "backends.tests.FkConstraintsTests.test_check_constraints",
        "backends.tests.FkConstraintsTests.test_check_constraints_sql_keywords",
        "backends.tests.FkConstraintsTests.test_disable_constraint_checks_context_manager",
        "backends.tests.FkConstraintsTests.test_disable_constraint_checks_manually",
    },
}

if django.VERSION < (6, 1):  # 6.1 renamed it (and it calls setlimit(): see the core's list)
    EXPECTED[
        "sqlite3 batches 999 parameters per statement; D1 binds at most 100 and django_d1 "
        "sizes batches by its own limits."
    ] = {"backends.sqlite.test_operations.SQLiteOperationsTests.test_bulk_batch_size"}

EXPECTED_FAILURES: set[str] = set().union(*EXPECTED.values())

#: reason -> tests skipped on D1.
SKIPS: dict[str, set[str]] = {
    (
        "D1's REST API has no transactions: each TestCase test ends with a flush, so data "
        "loaded by migrations is gone for later TestCases (whether this one sees it depends on "
        "test order, hence a skip rather than an expected failure)."
    ): {
        "migration_test_data_persistence.tests.MigrationDataNormalPersistenceTestCase"
        ".test_persistence",
    },
}
