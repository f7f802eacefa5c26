"""Django's sqlite3 features, adjusted for a per-connection in-memory copy of a git commit.

Everything SQL-level is SQLite's, so the flags, expected failures and skips are the sqlite3
backend's. The differences are about connections and test databases:

* ``test_db_allows_multiple_connections``: each connection builds its own copy from the
  repository and sees the others' committed transactions through git (the stock backend says
  False because its test database is one shared in-memory database).
* ``can_clone_databases``: a test repository is cloned with a directory copy.

The stock backend's in-memory-only skips do not apply (``is_in_memory_db()`` is False here), so
this backend runs a few tests that stock sqlite3 skips; the marks below cover those that
cannot pass here, each with its reason.
"""

from __future__ import annotations

from django.db.backends.sqlite3.features import DatabaseFeatures as SQLiteFeatures
from django.utils.functional import cached_property


class DatabaseFeatures(SQLiteFeatures):
    test_db_allows_multiple_connections = True
    can_clone_databases = True
    django_test_expected_failures = SQLiteFeatures.django_test_expected_failures | {
        # A transaction works on the snapshot it started from (like SQLite in WAL mode): its
        # first write after another connection committed raises OperationalError("database is
        # locked: HEAD ... moved ...; retry the transaction") instead of writing over a state
        # it never read. The test expects MySQL/PostgreSQL read-committed behaviour; stock
        # sqlite3 skips it (one in-memory test database, no second connection).
        "delete_regress.tests.DeleteLockingTest.test_concurrent_delete",
    }

    @cached_property
    def django_test_skips(self) -> dict[str, set[str]]:
        skips = {k: set(v) for k, v in super().django_test_skips.items()}
        skips.setdefault(
            "Assumes the default connection is already open when the test starts (true only for "
            "an in-memory sqlite3 test database, whose close() is ignored); here it then closes "
            "the main thread's SQLite connection under the wrapper.",
            set(),
        ).add("backends.sqlite.tests.ThreadSharing.test_database_sharing_in_threads")
        return skips
