"""Django test-suite expectations for django_d1, each with its reason (used by features.py).

Measured with ``tests-integration/django_suite/run.py --backend d1`` on Django 5.2.19.
"""

from __future__ import annotations

import django

_NO_REGEXP = "D1 has no REGEXP function: regex lookups raise NotSupportedError."
_BIG_INT = (
    "D1's JSON API rounds integers beyond 2**53 (here a BigIntegerField default of 2**63-1); "
    "django_d1 raises DataError instead of returning the rounded value."
)
_NO_TRANSACTIONS = "D1's REST API has no transactions: atomic() cannot mark a failed block."
_INT_RANGE = (
    "The test saves and reads back the backend's integer range (SQLite's +-2**63): D1's JSON "
    "API rounds integers beyond 2**53, so django_d1 raises DataError on reading them back "
    "instead of returning a wrong number (narrowing integer_field_range would instead make "
    "lookups skip rows that hold such values exactly)."
)
_NO_HASH = "D1 has no MD5/SHA* functions: they raise NotSupportedError (hash in Python)."
_EXTRACT_TEXT = (
    "The test counts the word 'extract' in the SQL (django_date_extract() on the stock "
    "backend); the plain-SQLite EXTRACT is written with strftime()."
)
_RAW_TYPES = (
    "D1 does not report declared column types, so a raw cursor returns datetimes as the "
    "stored text (the stock backend converts them with sqlite3's PARSE_DECLTYPES)."
)
_BIG_DURATION = (
    "The duration between years 999 and 2016 is beyond 2**53 microseconds: D1's JSON rounds "
    "it, django_d1 raises DataError instead."
)

_NO_SAVEPOINTS = (
    "Recovering from an IntegrityError inside atomic() needs a savepoint; D1's REST API has "
    "none, so Django marks the block as broken (TransactionManagementError)."
)
_FK_PER_REQUEST = (
    "D1 checks foreign keys at the end of every request (they cannot be disabled), so "
    "fixtures with forward references cannot load across several requests."
)

_TEST_DB_IDS = (
    "Test databases are other D1 database ids: they cannot be cloned (no parallel test "
    "databases) or named after files."
)
_PATCHED_SQLITE3 = (
    "The test patches Python's sqlite3 module (its version, JSON1 support); D1's SQLite is "
    "reached over HTTP and has JSON1 and a known version."
)
_BATCH_SIZE = (
    "sqlite3 batches 999 parameters per statement; D1 binds at most 100 and django_d1 sizes "
    "batches by its own limits."
)
_FK_ALWAYS_ON = (
    "Foreign keys cannot be switched off on D1 (PRAGMA foreign_keys=OFF is ignored); "
    "disable_constraint_checking() is a documented no-op, so these checks do not apply."
)

_IN_PROCESS_SHELL = (
    "dbshell is an in-process SQL prompt over the API (no sqlite3 binary can reach D1): "
    "there is no external program to be missing or to exit non-zero."
)

_BIG_DECIMAL = (
    "The test stores the whole number 9999999999999999 in a DecimalField (SQLite keeps it as "
    "an INTEGER): D1's JSON rounds it, so django_d1 raises DataError instead."
)
_SQLITE3_LIMITS = (
    "The test calls setlimit()/getlimit() on Python's sqlite3 connection; D1's limits are "
    "fixed (100 bound parameters per statement) and there is no such connection."
)
_IN_BULK_BATCHES = (
    "Django 6.1's in_bulk() batches by ops.bulk_batch_size(): 500 integer keys per query "
    "(inlined as literals), 4 requests where the test expects 2000 / max_query_params = 20."
)

_DT = "db_functions.datetime.test_extract_trunc."

#: reason -> tests that fail on D1 for that documented reason.
EXPECTED: dict[str, set[str]] = {
    _NO_REGEXP: {
        "backends.sqlite.tests.Tests.test_regexp_function",
        "lookup.tests.LookupTests.test_regex",
        "lookup.tests.LookupTests.test_regex_non_ascii",
        "lookup.tests.LookupTests.test_regex_non_string",
        "lookup.tests.LookupTests.test_regex_null",
        "model_fields.test_jsonfield.TestQuerying.test_key_iregex",
        "model_fields.test_jsonfield.TestQuerying.test_key_regex",
    },
    _BIG_INT: {
        "bulk_create.tests.BulkCreateTests.test_nullable_fk_after_parent",
        "bulk_create.tests.BulkCreateTests.test_nullable_fk_after_parent_bulk_create",
    },
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
    _NO_HASH: {
        f"db_functions.text.test_{name.lower()}.{name}Tests.{test}"
        for name in ("MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512")
        for test in ("test_basic", "test_transform")
    },
    _EXTRACT_TEXT: {
        f"{_DT}{cls}.test_extract_year_{kind}_lookup"
        for cls in ("DateFunctionTests", "DateFunctionWithTimeZoneTests")
        for kind in ("exact", "greaterthan", "lessthan")
    },
    _BIG_DURATION: {
        f"{_DT}{cls}.test_trunc_week_before_1000"
        for cls in ("DateFunctionTests", "DateFunctionWithTimeZoneTests")
    },
    _RAW_TYPES: {
        "timezones.tests.LegacyDatabaseTests.test_cursor_execute_returns_naive_datetime",
        "timezones.tests.NewDatabaseTests.test_cursor_execute_returns_naive_datetime",
        "schema.tests.SchemaTests.test_add_datefield_and_datetimefield_use_effective_default",
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
        "serializers.test_data.SerializerDataTests.test_json_serializer",
        "serializers.test_data.SerializerDataTests.test_jsonl_serializer",
        "serializers.test_data.SerializerDataTests.test_python_serializer",
        "serializers.test_data.SerializerDataTests.test_xml_serializer",
        "serializers.test_data.SerializerDataTests.test_yaml_serializer",
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
    _TEST_DB_IDS: {
        "backends.sqlite.test_creation.TestDbSignatureTests.test_custom_test_name",
        "backends.sqlite.test_creation.TestDbSignatureTests.test_get_test_db_clone_settings_name",
    },
    _PATCHED_SQLITE3: {
        "backends.sqlite.test_features.FeaturesTests.test_supports_json_field_operational_error",
        "backends.sqlite.tests.Tests.test_check_database_version_supported",
    },
    _BATCH_SIZE: {
        "backends.sqlite.test_operations.SQLiteOperationsTests."
        + (
            "test_bulk_batch_size_respects_variable_limit"  # 6.1: also calls setlimit()
            if django.VERSION >= (6, 1)
            else "test_bulk_batch_size"
        ),
    },
    _FK_ALWAYS_ON: {
        "backends.sqlite.tests.SchemaTests.test_constraint_checks_disabled_atomic_allowed",
        "backends.sqlite.tests.SchemaTests.test_disable_constraint_checking_failure_disallowed",
        "backends.tests.FkConstraintsTests.test_check_constraints",
        "backends.tests.FkConstraintsTests.test_check_constraints_sql_keywords",
        "backends.tests.FkConstraintsTests.test_disable_constraint_checks_context_manager",
        "backends.tests.FkConstraintsTests.test_disable_constraint_checks_manually",
    },
    _IN_PROCESS_SHELL: {
        "dbshell.test_sqlite.SqliteDbshellCommandTestCase"
        ".test_non_zero_exit_status_when_path_to_db_is_path",
        "dbshell.tests.DbshellCommandTestCase.test_command_missing",
    },
}

if django.VERSION >= (6, 1):
    EXPECTED[_BIG_DECIMAL] = {
        "model_fields.test_decimalfield.DecimalFieldTests.test_large_integer_precision",
        "model_fields.test_decimalfield.DecimalFieldTests.test_large_integer_precision_aggregation",
    }
    EXPECTED[_IN_BULK_BATCHES] = {
        "lookup.tests.LookupTests.test_in_bulk_lots_of_ids",
        # The same 500 per single-field batch (bulk_batch_size([field]) != max_query_params).
        "backends.base.test_operations.DatabaseOperationTests.test_bulk_batch_size_limited",
    }
    EXPECTED[_SQLITE3_LIMITS] = {
        "backends.sqlite.test_features.FeaturesTests.test_max_query_params_respects_variable_limit",
        "backends.sqlite.tests.LastExecutedQueryTest"
        ".test_parameter_count_exceeds_variable_or_column_limit",
    }
    EXPECTED[_TEST_DB_IDS] |= {
        "backends.sqlite.test_creation.TestDbSignatureTests"
        ".test_setup_worker_connection_respects_test_database_name",
    }
    EXPECTED[_NO_REGEXP] |= {"expressions.tests.BasicExpressionsTests.test_lookups_subquery"}

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
    _INT_RANGE: {
        f"model_fields.{module}.{cls}.{test}"
        for module, cls, tests in (
            ("test_autofield", "AutoFieldTests", ("max", "min", "save")),
            ("test_autofield", "BigAutoFieldTests", ("max", "min", "save", "doc")),
            ("test_autofield", "SmallAutoFieldTests", ("max", "min", "save")),
            ("test_integerfield", "BigIntegerFieldTests", ("max", "min", "save", "doc")),
            ("test_integerfield", "IntegerFieldTests", ("max", "min", "save")),
            ("test_integerfield", "PositiveBigIntegerFieldTests", ("max", "save", "doc")),
            ("test_integerfield", "PositiveIntegerFieldTests", ("max", "save")),
            ("test_integerfield", "PositiveSmallIntegerFieldTests", ("max", "save")),
            ("test_integerfield", "SmallIntegerFieldTests", ("max", "min", "save")),
        )
        for test in (
            {
                "max": "test_backend_range_max_value_lookups",
                "min": "test_backend_range_min_value_lookups",
                "save": "test_backend_range_save",
                "doc": "test_documented_range",
            }[t]
            for t in tests
        )
    },
}
