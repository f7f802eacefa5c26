"""Django test-suite expectations every remote SQLite shares, each with its reason.

The reasons come from what such a server is (no Python functions, JSON replies, database ids
instead of files, limits of its own), not from one store; a backend adds its own on top in its
features.py. ``store`` names the store in the reasons ("D1", "the Durable Object").
Measured with ``tests-integration/django_suite/run.py`` on Django 5.2.19 and 6.1.3.
"""

from __future__ import annotations

import django

_DT = "db_functions.datetime.test_extract_trunc."

#: Django's integer-range tests, as (module, class, tests); "doc" only where 64-bit.
_RANGE_TESTS = (
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
_RANGE_NAMES = {
    "max": "test_backend_range_max_value_lookups",
    "min": "test_backend_range_min_value_lookups",
    "save": "test_backend_range_save",
    "doc": "test_documented_range",
}


def expected_failures(store: str) -> dict[str, set[str]]:
    """reason -> tests that fail on every remote SQLite for that documented reason."""
    cap = store[:1].upper() + store[1:]  # at the start of a sentence
    failures: dict[str, set[str]] = {
        f"{cap} has no REGEXP function: regex lookups raise NotSupportedError.": {
            "backends.sqlite.tests.Tests.test_regexp_function",
            "lookup.tests.LookupTests.test_regex",
            "lookup.tests.LookupTests.test_regex_non_ascii",
            "lookup.tests.LookupTests.test_regex_non_string",
            "lookup.tests.LookupTests.test_regex_null",
            "model_fields.test_jsonfield.TestQuerying.test_key_iregex",
            "model_fields.test_jsonfield.TestQuerying.test_key_regex",
        },
        f"{cap} has no MD5/SHA* functions: they raise NotSupportedError (hash in Python).": {
            f"db_functions.text.test_{name.lower()}.{name}Tests.{test}"
            for name in ("MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512")
            for test in ("test_basic", "test_transform")
        },
        (
            "The test counts the word 'extract' in the SQL (django_date_extract() on the stock "
            "backend); the plain-SQLite EXTRACT is written with strftime()."
        ): {
            f"{_DT}{cls}.test_extract_year_{kind}_lookup"
            for cls in ("DateFunctionTests", "DateFunctionWithTimeZoneTests")
            for kind in ("exact", "greaterthan", "lessthan")
        },
        (
            f"{cap}'s replies carry values only, no declared column types, so a raw cursor "
            "returns DATE/TIMESTAMP columns as the stored text (the stock backend converts them "
            "with sqlite3's detect_types; the ORM's converters still do)."
        ): {
            "timezones.tests.LegacyDatabaseTests.test_cursor_execute_returns_naive_datetime",
            "timezones.tests.NewDatabaseTests.test_cursor_execute_returns_naive_datetime",
            "schema.tests.SchemaTests.test_add_datefield_and_datetimefield_use_effective_default",
        },
        (
            f"Test databases are other {store} database ids: they cannot be cloned (no "
            "parallel test databases) or named after files."
        ): {
            "backends.sqlite.test_creation.TestDbSignatureTests.test_custom_test_name",
            "backends.sqlite.test_creation.TestDbSignatureTests"
            ".test_get_test_db_clone_settings_name",
        },
        (
            f"The test patches Python's sqlite3 module (its version, JSON1 support); {store}'s "
            "SQLite is reached over the network and has JSON1 and a known version."
        ): {
            "backends.sqlite.test_features.FeaturesTests"
            ".test_supports_json_field_operational_error",
            "backends.sqlite.tests.Tests.test_check_database_version_supported",
        },
        (
            f"Foreign keys cannot be switched off on {store} (PRAGMA foreign_keys=OFF is "
            "ignored); disable_constraint_checking() is a documented no-op returning True."
        ): {
            "backends.sqlite.tests.SchemaTests.test_constraint_checks_disabled_atomic_allowed",
            "backends.sqlite.tests.SchemaTests.test_disable_constraint_checking_failure_disallowed",
        },
        (
            f"dbshell is an in-process SQL prompt over the connection (no sqlite3 binary can "
            f"reach {store}): there is no external program to be missing or to exit non-zero."
        ): {
            "dbshell.test_sqlite.SqliteDbshellCommandTestCase"
            ".test_non_zero_exit_status_when_path_to_db_is_path",
            "dbshell.tests.DbshellCommandTestCase.test_command_missing",
        },
        (
            "These assert the RETURNING clause's text; integer columns are returned as "
            "CAST(... AS TEXT) so that 64-bit keys survive JSON (JavaScript numbers)."
        ): {
            "queries.test_db_returning.ReturningValuesTests.test_insert_returning",
            "queries.test_db_returning.ReturningValuesTests.test_insert_returning_multiple",
        },
    }
    if django.VERSION >= (6, 1):
        failures.update(
            {
                (
                    "The test aggregates the whole number 9999999999999999 stored in a "
                    f"DecimalField: a computed value cannot be read as text, and {store}'s JSON "
                    "would round it, so reading it raises DataError (the column itself is read "
                    "exactly)."
                ): {
                    "model_fields.test_decimalfield.DecimalFieldTests"
                    ".test_large_integer_precision_aggregation",
                },
                (
                    "Django 6.1's in_bulk() batches by ops.bulk_batch_size(): 500 integer keys "
                    "per query (they travel as literals), 4 queries where the test expects "
                    "2000 / max_query_params = 20; bulk_batch_size([field]) is 500 likewise."
                ): {
                    "lookup.tests.LookupTests.test_in_bulk_lots_of_ids",
                    "backends.base.test_operations.DatabaseOperationTests"
                    ".test_bulk_batch_size_limited",
                },
                (
                    "The test calls setlimit()/getlimit() on Python's sqlite3 connection; "
                    f"{store}'s limits are fixed (100 bound parameters per statement) and there "
                    "is no such connection."
                ): {
                    "backends.sqlite.test_operations.SQLiteOperationsTests"
                    ".test_bulk_batch_size_respects_variable_limit",
                    "backends.sqlite.test_features.FeaturesTests"
                    ".test_max_query_params_respects_variable_limit",
                    "backends.sqlite.tests.LastExecutedQueryTest"
                    ".test_parameter_count_exceeds_variable_or_column_limit",
                },
                (
                    f"Test databases are other {store} database ids; they cannot be cloned for "
                    "parallel workers."
                ): {
                    "backends.sqlite.test_creation.TestDbSignatureTests"
                    ".test_setup_worker_connection_respects_test_database_name",
                },
                f"Its regex/iregex subtests need REGEXP, which {store} does not have.": {
                    "expressions.tests.BasicExpressionsTests.test_lookups_subquery",
                },
            }
        )
    return failures


def skips(store: str) -> dict[str, set[str]]:
    """reason -> tests every remote SQLite skips.

    Skips, not expected failures: unittest's expectedFailure marks the test function shared
    by the integer classes, including those where it passes (32-bit documented ranges,
    positive minimums).
    """
    return {}
