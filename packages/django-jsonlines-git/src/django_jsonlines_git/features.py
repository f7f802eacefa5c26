"""Django's sqlite3 features, adjusted for a per-connection in-memory copy of a git commit."""

from __future__ import annotations

from django.db.backends.sqlite3.features import DatabaseFeatures as SQLiteFeatures
from django.utils.functional import cached_property


class DatabaseFeatures(SQLiteFeatures):
    # Each connection holds its own copy; committed changes reach the others through git.
    test_db_allows_multiple_connections = True
    can_clone_databases = True

    @cached_property
    def django_test_skips(self) -> dict[str, set[str]]:
        skips = dict(super().django_test_skips)
        return skips
