"""DatabaseFeatures for a SQLite reachable only through a transport."""

from __future__ import annotations

from django.db.backends.sqlite3.features import DatabaseFeatures as SQLiteFeatures
from django.utils.functional import cached_property

from . import expected


class DatabaseFeatures(SQLiteFeatures):
    # No Python UDFs: UUID7 needs Python 3.14's uuid7() on the stock backend.
    supports_uuid7_function = False
    supports_uuid7_function_shift = False
    # Regex lookups need a REGEXP function the server does not have (NotSupportedError).
    supports_regex_backreferencing = False

    #: How the shared test-suite expectations name the store ("D1", "the Durable Object").
    store_name = "the server"

    can_clone_databases = False
    test_db_allows_multiple_connections = True

    @property
    def supports_aggregate_order_by_clause(self) -> bool:
        # The server's SQLite, not this process's (stock: sqlite3.sqlite_version_info).
        return self.connection.get_database_version() >= (3, 44)

    @property
    def max_query_params(self):
        return self.connection.max_query_params

    @cached_property
    def supports_json_field(self):
        return True  # JSON1 is built into every server SQLite we target.

    @cached_property
    def django_test_expected_failures(self):
        failures = set(super().django_test_expected_failures)
        failures.update(*expected.expected_failures(self.store_name).values())
        return failures

    @cached_property
    def django_test_skips(self):
        skips = dict(super().django_test_skips)
        skips.pop(
            "Only connections to in-memory SQLite databases are passed to the server thread.", None
        )
        for reason, tests in expected.skips(self.store_name).items():
            skips.setdefault(reason, set()).update(tests)
        return skips
