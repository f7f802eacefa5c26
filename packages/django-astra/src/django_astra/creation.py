"""Test keyspaces: created and dropped on Cassandra; on Astra (no keyspace DDL) tables are dropped."""

from typing import Any

from django.db.backends.base.creation import BaseDatabaseCreation


class DatabaseCreation(BaseDatabaseCreation):
    def _get_test_db_name(self) -> str:
        name = self.connection.settings_dict.get("TEST", {}).get("NAME")
        if name:
            return name
        if self.connection.is_astra_configured():
            # Astra keyspaces come from the console; tests reuse the configured one.
            return self.connection.settings_dict["NAME"]
        return "test_" + self.connection.settings_dict["NAME"]

    def _create_test_db(self, verbosity: int, autoclobber: bool, keepdb: bool = False) -> str:
        from .management import keyspace_ops

        name = self._get_test_db_name()
        conn = self.connection
        conn.ensure_connection()
        raw = conn.connection
        if raw.astra:
            if not keepdb:
                keyspace_ops.drop_all_tables(raw, name)
        else:
            if not keepdb and raw.keyspace_exists(name):
                raw.execute(f'DROP KEYSPACE IF EXISTS "{name}"')
            keyspace_ops.create_keyspace(
                raw, name, conn.settings_dict.get("OPTIONS", {}).get("replication")
            )
        return name

    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        from .management import keyspace_ops

        conn = self.connection
        conn.ensure_connection()
        raw = conn.connection
        if raw.astra:
            keyspace_ops.drop_all_tables(raw, test_database_name)
        else:
            raw.execute(f'DROP KEYSPACE IF EXISTS "{test_database_name}"')

    def _clone_test_db(self, suffix: Any, verbosity: int, keepdb: bool = False) -> None:
        from django.db.utils import NotSupportedError

        raise NotSupportedError(
            "Parallel test keyspaces are not supported; run tests with --parallel 1."
        )

    def serialize_db_to_string(self) -> str:
        return ""
