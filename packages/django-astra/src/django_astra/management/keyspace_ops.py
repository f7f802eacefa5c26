"""Keyspace/table helpers shared by sync_cassandra and the test-keyspace creation."""

from __future__ import annotations

from typing import Any


def replication_cql(replication: dict[str, Any] | None) -> str:
    repl = dict(replication or {"class": "SimpleStrategy", "replication_factor": 1})
    parts = []
    for k, v in repl.items():
        parts.append(f"'{k}': '{v}'" if not isinstance(v, int) else f"'{k}': {v}")
    return "{" + ", ".join(parts) + "}"


def create_keyspace(conn: Any, name: str, replication: dict[str, Any] | None) -> bool:
    """CREATE KEYSPACE IF NOT EXISTS; returns True if it was created. Switches the session to it."""
    existed = conn.keyspace_exists(name)
    if not existed:
        conn.execute(
            f'CREATE KEYSPACE IF NOT EXISTS "{name}" WITH replication = {replication_cql(replication)}'
        )
        conn.cluster.refresh_keyspace_metadata(name)
    conn.use_keyspace(name)
    return not existed


def drop_all_tables(conn: Any, name: str) -> None:
    ks = conn.cluster.metadata.keyspaces.get(name)
    if ks is None:
        return
    for table in list(ks.tables):
        conn.execute(f'DROP TABLE IF EXISTS "{name}"."{table}"')
    conn.use_keyspace(name, missing_ok=True)
