"""Introspection that hides the server's internal tables (``_cf_*``, ``sqlite_*``)."""

from __future__ import annotations

from django.db.backends.base.introspection import TableInfo
from django.db.backends.sqlite3.introspection import DatabaseIntrospection as SQLiteIntrospection

#: Name prefixes of tables the store keeps for itself (D1: ``_cf_KV``, ``_cf_METADATA``).
HIDDEN_PREFIXES = ("_cf_", "sqlite_")


class DatabaseIntrospection(SQLiteIntrospection):
    hidden_prefixes = HIDDEN_PREFIXES

    def get_table_list(self, cursor):
        cursor.execute(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
        )
        return [
            TableInfo(name, kind[0])
            for name, kind in cursor.fetchall()
            if not name.lower().startswith(self.hidden_prefixes)
        ]
