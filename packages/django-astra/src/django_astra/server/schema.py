"""Catalog: keyspaces, tables, columns and indexes, plus the system tables generated from it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from cassandra import cqltypes as ct

from . import types as T


@dataclass
class Column:
    name: str
    type: type
    kind: str  # partition_key clustering regular static
    position: int = -1
    order: str = "none"  # asc desc none

    @property
    def is_key(self) -> bool:
        return self.kind in ("partition_key", "clustering")


@dataclass
class Index:
    name: str
    column: str
    target: str  # values keys entries full
    custom: str | None
    options: dict[str, Any]

    @property
    def is_sai(self) -> bool:
        return bool(self.custom) and (
            "StorageAttachedIndex" in self.custom or self.custom.lower() == "sai"
        )


@dataclass
class Table:
    ks: str
    name: str
    columns: dict[str, Column]
    partition_key: list[str]
    clustering: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    virtual: bool = False

    @property
    def tid(self) -> str:
        return str(self.id)

    @property
    def is_counter(self) -> bool:
        return any(c.type is ct.CounterColumnType for c in self.columns.values() if not c.is_key)

    @property
    def default_ttl(self) -> int:
        try:
            return int(self.options.get("default_time_to_live", 0) or 0)
        except (TypeError, ValueError):
            return 0

    def star_columns(self) -> list[Column]:
        """SELECT * order: partition key, clustering, then the rest by name (as Cassandra)."""
        keys = [self.columns[c] for c in self.partition_key + self.clustering]
        rest = sorted((c for c in self.columns.values() if not c.is_key), key=lambda c: c.name)
        return keys + rest

    def index_on(self, col: str) -> list[Index]:
        return [i for i in self.indexes.values() if i.column == col]

    def to_json(self) -> dict[str, Any]:
        return {
            "ks": self.ks,
            "name": self.name,
            "id": str(self.id),
            "columns": [
                [c.name, T.cql_name(c.type), c.kind, c.position, c.order]
                for c in self.columns.values()
            ],
            "partition_key": self.partition_key,
            "clustering": self.clustering,
            "options": self.options,
            "indexes": [
                [i.name, i.column, i.target, i.custom, i.options] for i in self.indexes.values()
            ],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Table:
        cols = {}
        for name, typ, kind, pos, order in d["columns"]:
            cols[name] = Column(name, T.parse_type_string(typ), kind, pos, order)
        t = cls(
            d["ks"],
            d["name"],
            cols,
            d["partition_key"],
            d["clustering"],
            d["options"],
            id=uuid.UUID(d["id"]),
        )
        for name, col, target, custom, opts in d["indexes"]:
            t.indexes[name] = Index(name, col, target, custom, opts)
        return t


@dataclass
class Keyspace:
    name: str
    replication: dict[str, str]
    durable_writes: bool = True
    tables: dict[str, Table] = field(default_factory=dict)
    system: bool = False


def _cols(spec: list[tuple[str, str, str]]) -> tuple[dict[str, Column], list[str], list[str]]:
    cols: dict[str, Column] = {}
    pk: list[str] = []
    ck: list[str] = []
    for name, typ, kind in spec:
        if kind == "pk":
            cols[name] = Column(name, T.parse_type_string(typ), "partition_key", len(pk), "none")
            pk.append(name)
        elif kind == "ck":
            cols[name] = Column(name, T.parse_type_string(typ), "clustering", len(ck), "asc")
            ck.append(name)
        else:
            cols[name] = Column(name, T.parse_type_string(typ), "regular", -1, "none")
    return cols, pk, ck


_SYSTEM_TABLES: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "system": {
        "local": [
            ("key", "text", "pk"),
            ("bootstrapped", "text", ""),
            ("broadcast_address", "inet", ""),
            ("broadcast_port", "int", ""),
            ("cluster_name", "text", ""),
            ("cql_version", "text", ""),
            ("data_center", "text", ""),
            ("gossip_generation", "int", ""),
            ("host_id", "uuid", ""),
            ("listen_address", "inet", ""),
            ("listen_port", "int", ""),
            ("native_protocol_version", "text", ""),
            ("partitioner", "text", ""),
            ("rack", "text", ""),
            ("release_version", "text", ""),
            ("rpc_address", "inet", ""),
            ("rpc_port", "int", ""),
            ("schema_version", "uuid", ""),
            ("tokens", "set<text>", ""),
            ("product_type", "text", ""),
        ],
        "peers": [
            ("peer", "inet", "pk"),
            ("data_center", "text", ""),
            ("host_id", "uuid", ""),
            ("preferred_ip", "inet", ""),
            ("rack", "text", ""),
            ("release_version", "text", ""),
            ("rpc_address", "inet", ""),
            ("native_transport_port", "int", ""),
            ("schema_version", "uuid", ""),
            ("tokens", "set<text>", ""),
        ],
    },
    "system_schema": {
        "keyspaces": [
            ("keyspace_name", "text", "pk"),
            ("durable_writes", "boolean", ""),
            ("replication", "frozen<map<text, text>>", ""),
        ],
        "tables": [
            ("keyspace_name", "text", "pk"),
            ("table_name", "text", "ck"),
            ("bloom_filter_fp_chance", "double", ""),
            ("caching", "frozen<map<text, text>>", ""),
            ("comment", "text", ""),
            ("compaction", "frozen<map<text, text>>", ""),
            ("compression", "frozen<map<text, text>>", ""),
            ("crc_check_chance", "double", ""),
            ("default_time_to_live", "int", ""),
            ("extensions", "frozen<map<text, blob>>", ""),
            ("flags", "frozen<set<text>>", ""),
            ("gc_grace_seconds", "int", ""),
            ("id", "uuid", ""),
            ("max_index_interval", "int", ""),
            ("memtable_flush_period_in_ms", "int", ""),
            ("min_index_interval", "int", ""),
            ("speculative_retry", "text", ""),
        ],
        "columns": [
            ("keyspace_name", "text", "pk"),
            ("table_name", "text", "ck"),
            ("column_name", "text", "ck"),
            ("clustering_order", "text", ""),
            ("column_name_bytes", "blob", ""),
            ("kind", "text", ""),
            ("position", "int", ""),
            ("type", "text", ""),
        ],
        "indexes": [
            ("keyspace_name", "text", "pk"),
            ("table_name", "text", "ck"),
            ("index_name", "text", "ck"),
            ("kind", "text", ""),
            ("options", "frozen<map<text, text>>", ""),
        ],
        "dropped_columns": [
            ("keyspace_name", "text", "pk"),
            ("table_name", "text", "ck"),
            ("column_name", "text", "ck"),
            ("dropped_time", "timestamp", ""),
            ("type", "text", ""),
        ],
        "triggers": [
            ("keyspace_name", "text", "pk"),
            ("table_name", "text", "ck"),
            ("trigger_name", "text", "ck"),
            ("options", "frozen<map<text, text>>", ""),
        ],
        "types": [
            ("keyspace_name", "text", "pk"),
            ("type_name", "text", "ck"),
            ("field_names", "frozen<list<text>>", ""),
            ("field_types", "frozen<list<text>>", ""),
        ],
        "functions": [
            ("keyspace_name", "text", "pk"),
            ("function_name", "text", "ck"),
            ("argument_types", "frozen<list<text>>", "ck"),
            ("argument_names", "frozen<list<text>>", ""),
            ("body", "text", ""),
            ("called_on_null_input", "boolean", ""),
            ("language", "text", ""),
            ("return_type", "text", ""),
        ],
        "aggregates": [
            ("keyspace_name", "text", "pk"),
            ("aggregate_name", "text", "ck"),
            ("argument_types", "frozen<list<text>>", "ck"),
            ("final_func", "text", ""),
            ("initcond", "text", ""),
            ("return_type", "text", ""),
            ("state_func", "text", ""),
            ("state_type", "text", ""),
        ],
        "views": [
            ("keyspace_name", "text", "pk"),
            ("view_name", "text", "ck"),
            ("base_table_id", "uuid", ""),
            ("base_table_name", "text", ""),
            ("include_all_columns", "boolean", ""),
            ("where_clause", "text", ""),
            ("id", "uuid", ""),
        ],
    },
    "system_virtual_schema": {
        "keyspaces": [("keyspace_name", "text", "pk")],
        "tables": [
            ("keyspace_name", "text", "pk"),
            ("table_name", "text", "ck"),
            ("comment", "text", ""),
        ],
        "columns": [
            ("keyspace_name", "text", "pk"),
            ("table_name", "text", "ck"),
            ("column_name", "text", "ck"),
            ("clustering_order", "text", ""),
            ("column_name_bytes", "blob", ""),
            ("kind", "text", ""),
            ("position", "int", ""),
            ("type", "text", ""),
        ],
    },
}


def system_keyspaces() -> dict[str, Keyspace]:
    out = {}
    for ks, tables in _SYSTEM_TABLES.items():
        k = Keyspace(ks, {"class": "org.apache.cassandra.locator.LocalStrategy"}, True, system=True)
        for name, spec in tables.items():
            cols, pk, ck = _cols(spec)
            k.tables[name] = Table(ks, name, cols, pk, ck, virtual=True)
        out[ks] = k
    return out


TABLE_DEFAULTS: dict[str, Any] = {
    "bloom_filter_fp_chance": 0.01,
    "caching": {"keys": "ALL", "rows_per_partition": "NONE"},
    "comment": "",
    "compaction": {
        "class": "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
        "max_threshold": "32",
        "min_threshold": "4",
    },
    "compression": {
        "chunk_length_in_kb": "16",
        "class": "org.apache.cassandra.io.compress.LZ4Compressor",
    },
    "crc_check_chance": 1.0,
    "default_time_to_live": 0,
    "gc_grace_seconds": 864000,
    "max_index_interval": 2048,
    "memtable_flush_period_in_ms": 0,
    "min_index_interval": 128,
    "speculative_retry": "99p",
}


def schema_rows(keyspaces: dict[str, Keyspace], table: str) -> list[dict[str, Any]]:
    """Rows of a system_schema table generated from the live catalog."""
    rows: list[dict[str, Any]] = []
    user = [k for k in keyspaces.values()]
    if table == "keyspaces":
        for k in user:
            rows.append(
                {
                    "keyspace_name": k.name,
                    "durable_writes": k.durable_writes,
                    "replication": dict(k.replication),
                }
            )
    elif table == "tables":
        for k in user:
            for t in k.tables.values():
                opts = dict(TABLE_DEFAULTS)
                for key, val in t.options.items():
                    if key in opts:
                        opts[key] = val
                row = {
                    "keyspace_name": k.name,
                    "table_name": t.name,
                    "id": t.id,
                    "flags": {"compound"},
                }
                for key, val in opts.items():
                    if isinstance(val, dict):
                        val = {str(a): str(b) for a, b in val.items()}
                    elif key in ("bloom_filter_fp_chance", "crc_check_chance"):
                        val = float(val)
                    elif key in ("comment", "speculative_retry"):
                        val = str(val)
                    else:
                        val = int(val)
                    row[key] = val
                row["extensions"] = {}
                rows.append(row)
    elif table == "columns":
        for k in user:
            for t in k.tables.values():
                for c in t.columns.values():
                    rows.append(
                        {
                            "keyspace_name": k.name,
                            "table_name": t.name,
                            "column_name": c.name,
                            "clustering_order": c.order,
                            "column_name_bytes": c.name.encode(),
                            "kind": c.kind,
                            "position": c.position,
                            "type": T.cql_name(c.type),
                        }
                    )
    elif table == "indexes":
        for k in user:
            for t in k.tables.values():
                for i in t.indexes.values():
                    target = i.column if i.target == "values" else f"{i.target}({i.column})"
                    opts = {"target": target}
                    if i.custom:
                        opts["class_name"] = i.custom
                    opts.update({str(a): str(b) for a, b in (i.options or {}).items()})
                    rows.append(
                        {
                            "keyspace_name": k.name,
                            "table_name": t.name,
                            "index_name": i.name,
                            "kind": "CUSTOM" if i.custom else "COMPOSITES",
                            "options": opts,
                        }
                    )
    return rows
