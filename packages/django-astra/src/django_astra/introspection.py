"""Tables and columns from the driver's schema metadata (no extra queries)."""

from typing import Any

from django.db.backends.base.introspection import BaseDatabaseIntrospection, FieldInfo, TableInfo


class DatabaseIntrospection(BaseDatabaseIntrospection):
    def _keyspace_meta(self) -> Any:
        self.connection.ensure_connection()
        conn = self.connection.connection
        return conn.cluster.metadata.keyspaces.get(conn.keyspace)

    def get_table_list(self, cursor: Any) -> list[TableInfo]:
        ks = self._keyspace_meta()
        if ks is None:
            return []
        return [TableInfo(name, "t") for name in sorted(ks.tables)]

    def get_table_description(self, cursor: Any, table_name: str) -> list[FieldInfo]:
        ks = self._keyspace_meta()
        table = ks.tables[table_name]
        pks = {c.name for c in table.primary_key}
        return [
            FieldInfo(
                c.name, c.cql_type, None, None, None, None, c.name not in pks, None, None, None
            )
            for c in table.columns.values()
        ]

    def get_relations(self, cursor: Any, table_name: str) -> dict[str, Any]:
        return {}

    def get_sequences(self, cursor: Any, table_name: str, table_fields: Any = ()) -> list[Any]:
        return []

    def get_constraints(self, cursor: Any, table_name: str) -> dict[str, Any]:
        ks = self._keyspace_meta()
        table = ks.tables[table_name]
        out: dict[str, Any] = {
            "primary_key": {
                "columns": [c.name for c in table.primary_key],
                "primary_key": True,
                "unique": True,
                "foreign_key": None,
                "check": False,
                "index": False,
            }
        }
        for name, idx in table.indexes.items():
            out[name] = {
                "columns": [idx.index_options.get("target", "")],
                "primary_key": False,
                "unique": False,
                "foreign_key": None,
                "check": False,
                "index": True,
                "type": idx.kind,
            }
        return out
