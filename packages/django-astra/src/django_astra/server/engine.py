"""CQL semantics over SQLite: one SQLite row per CQL row, cells as driver-serialized bytes.

Storage: ``data(tid, token, pk, ck, marker, cells)`` where ``pk`` is the partition's routing key
(the bytes the driver hashes), ``token`` its murmur3 token (so full scans come back in token
order like Cassandra), ``ck`` the serialized clustering values, ``marker`` the row marker's
expiry (INSERT writes one, UPDATE does not, as in Cassandra), and ``cells`` a pickled
``{column: (bytes, expires_at, writetime)}``. Everything runs on the event-loop thread, so each
statement (and each LWT's read-check-write) is atomic.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import pickle
import sqlite3
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from cassandra import cqltypes as ct
from cassandra import util
from cassandra.murmur3 import murmur3

from . import cql
from . import types as T
from .errors import AlreadyExists, ConfigError, Invalid, ServerError, SyntaxError_, Unauthorized
from .schema import Column, Index, Keyspace, Table, schema_rows, system_keyspaces

UNSET = object()
FILTERING_MSG = (
    "Cannot execute this query as it might involve data filtering and thus may have unpredictable "
    "performance. If you want to execute this query despite the performance unpredictability, "
    "use ALLOW FILTERING"
)
MAX_TTL = 20 * 365 * 86400
WRITE_CL_REFUSED_ON_ASTRA = {0x0000: "ANY", 0x0001: "ONE", 0x000A: "LOCAL_ONE"}


# ------------------------------------------------------------------ results


@dataclass
class Rows:
    columns: list[tuple[str, type]]
    rows: list[list[bytes | None]]
    ks: str = ""
    table: str = ""
    paging_state: bytes | None = None


@dataclass
class Void:
    pass


@dataclass
class SetKeyspace:
    ks: str


@dataclass
class SchemaChange:
    change: str  # CREATED UPDATED DROPPED
    target: str  # KEYSPACE TABLE
    ks: str
    name: str = ""


@dataclass
class Prepared:
    id: bytes
    query: str
    stmt: Any
    binds: list[tuple[str, type]]
    result: list[tuple[str, type]] | None
    pk_indexes: list[int]
    ks: str
    table: str


@dataclass
class Ctx:
    keyspace: str | None
    consistency: int = 1
    page_size: int = -1
    paging_state: bytes | None = None
    timestamp: int | None = None
    now: float = field(default_factory=time.time)
    query_key: bytes = b""


class Row:
    """One stored CQL row; values decode lazily from the stored bytes."""

    __slots__ = ("cells", "ck", "marker", "pk", "table", "token", "_vals")

    def __init__(
        self, table: Table, token: int, pk: bytes, ck: bytes, marker: float | None, cells: dict
    ):
        self.table = table
        self.token = token
        self.pk = pk
        self.ck = ck
        self.marker = marker
        self.cells = cells
        self._vals: dict[str, Any] = {}

    def raw(self, col: str) -> bytes | None:
        c = self.cells.get(col)
        return None if c is None else c[0]

    def get(self, col: str) -> Any:
        try:
            return self._vals[col]
        except KeyError:
            c = self.cells.get(col)
            v = None if c is None else T.deserialize(self.table.columns[col].type, c[0])
            self._vals[col] = v
            return v


def _composite(parts: list[bytes]) -> bytes:
    if len(parts) == 1:
        return parts[0]
    return b"".join(struct.pack(">H", len(p)) + p + b"\x00" for p in parts)


def _expired(exp: float | None, now: float) -> bool:
    return exp is not None and exp != 0 and exp <= now


# ------------------------------------------------------------------ engine


class Engine:
    def __init__(
        self, data_dir: str | None, *, astra: bool = False, cluster_name: str = "django-astra local"
    ):
        self.astra = astra
        self.cluster_name = cluster_name
        if data_dir:
            os.makedirs(data_dir, exist_ok=True)
            path = os.path.join(data_dir, "cql.sqlite3")
        else:
            path = ":memory:"
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS data (tid TEXT, token INTEGER, pk BLOB, ck BLOB, marker REAL, "
            "cells BLOB, PRIMARY KEY (tid, pk, ck)) WITHOUT ROWID"
        )
        self.db.execute("CREATE INDEX IF NOT EXISTS data_token ON data (tid, token, pk, ck)")
        cols = {r[1] for r in self.db.execute("PRAGMA table_info(data)")}
        if "ck_sort" not in cols:
            self.db.execute("ALTER TABLE data ADD COLUMN ck_sort BLOB")
        # Rows of a partition in clustering order (ck_sort is NULL for types sorted in Python).
        self.db.execute("CREATE INDEX IF NOT EXISTS data_order ON data (tid, pk, ck_sort)")
        self.db.execute("CREATE TABLE IF NOT EXISTS catalog (name TEXT PRIMARY KEY, body TEXT)")
        self.host_id = uuid.uuid4()
        self.system = system_keyspaces()
        self.keyspaces: dict[str, Keyspace] = {}
        self.prepared: dict[bytes, Prepared] = {}
        self.schema_version = uuid.uuid4()
        self._load_catalog()
        if astra:
            # Astra databases come with a keyspace made in the console; mirror the default one.
            self._ensure_keyspace("default_keyspace")

    # -- catalog persistence
    def _load_catalog(self) -> None:
        row = self.db.execute("SELECT body FROM catalog WHERE name='catalog'").fetchone()
        if not row:
            return
        body = json.loads(row[0])
        for kd in body["keyspaces"]:
            ks = Keyspace(kd["name"], kd["replication"], kd["durable_writes"])
            for td in kd["tables"]:
                t = Table.from_json(td)
                ks.tables[t.name] = t
            self.keyspaces[ks.name] = ks

    def _save_catalog(self) -> None:
        body = {
            "keyspaces": [
                {
                    "name": k.name,
                    "replication": k.replication,
                    "durable_writes": k.durable_writes,
                    "tables": [t.to_json() for t in k.tables.values()],
                }
                for k in self.keyspaces.values()
            ]
        }
        self.db.execute("INSERT OR REPLACE INTO catalog VALUES ('catalog', ?)", (json.dumps(body),))
        self.schema_version = uuid.uuid4()

    def _ensure_keyspace(self, name: str) -> None:
        if name not in self.keyspaces:
            self.keyspaces[name] = Keyspace(
                name,
                {
                    "class": "org.apache.cassandra.locator.NetworkTopologyStrategy",
                    "datacenter1": "3",
                },
            )
            self._save_catalog()

    # -- lookup
    def keyspace(self, name: str) -> Keyspace:
        k = self.keyspaces.get(name) or self.system.get(name)
        if k is None:
            raise Invalid(f"Keyspace '{name}' does not exist")
        return k

    def table(self, ks: str | None, name: str, ctx: Ctx) -> Table:
        ksn = ks or ctx.keyspace
        if not ksn:
            raise Invalid(
                "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
            )
        if ksn == "system" and name == "peers_v2":
            raise Invalid("unconfigured table peers_v2")
        k = self.keyspace(ksn)
        t = k.tables.get(name)
        if t is None:
            raise Invalid(f"unconfigured table {name}")
        return t

    # -- parsing / preparing
    def parse(self, query: str) -> tuple[Any, int]:
        try:
            return cql.parse(query)
        except RecursionError:
            raise SyntaxError_("statement too deeply nested") from None

    def prepare(self, query: str, keyspace: str | None) -> Prepared:
        qid = hashlib.md5(((keyspace or "") + "\0" + query).encode()).digest()
        p = self.prepared.get(qid)
        if p is not None:
            return p
        stmt, nbind = self.parse(query)
        ctx = Ctx(keyspace)
        binds = self.bind_specs(stmt, nbind, ctx)
        result = None
        ks = table = ""
        pk_idx: list[int] = []
        if isinstance(stmt, cql.Select):
            t = self.table(stmt.ks, stmt.table, ctx)
            result = self.select_columns(t, stmt)
            ks, table = t.ks, t.name
            pk_idx = self._pk_indexes(t, stmt.where)
        elif isinstance(stmt, (cql.Insert, cql.Update, cql.Delete)):
            t = self.table(stmt.ks, stmt.table, ctx)
            ks, table = t.ks, t.name
            if isinstance(stmt, cql.Insert):
                m = {c: v for c, v in zip(stmt.columns, stmt.values, strict=True)}
                pk_idx = [m[c].index for c in t.partition_key if isinstance(m.get(c), cql.Bind)]
                if len(pk_idx) != len(t.partition_key):
                    pk_idx = []
            else:
                pk_idx = self._pk_indexes(t, stmt.where)
            if (
                (isinstance(stmt, cql.Insert) and stmt.if_not_exists)
                or getattr(stmt, "if_exists", False)
                or getattr(stmt, "conditions", None)
            ):
                result = [("[applied]", ct.BooleanType)]
        p = Prepared(qid, query, stmt, binds, result, pk_idx, ks, table)
        self.prepared[qid] = p
        return p

    def _pk_indexes(self, t: Table, where: list[cql.Relation]) -> list[int]:
        out = []
        for c in t.partition_key:
            rel = next(
                (r for r in where if r.kind == "col" and r.cols == [c] and r.op == "="), None
            )
            if rel is None or not isinstance(rel.value, cql.Bind):
                return []
            out.append(rel.value.index)
        return out

    # -- bind marker types
    def bind_specs(self, stmt: Any, nbind: int, ctx: Ctx) -> list[tuple[str, type]]:
        specs: list[tuple[str, type] | None] = [None] * nbind

        def put(term: Any, name: str, typ: type) -> None:
            if isinstance(term, cql.Bind):
                specs[term.index] = (term.name or name, typ)
            elif isinstance(term, cql.Literal) and term.kind in ("list", "set", "tuple", "map"):
                k = T.kind_of(typ)
                tu = T.unfreeze(typ)
                if term.kind == "map" and k == "map":
                    for a, b in term.value:
                        put(a, name, tu.subtypes[0])
                        put(b, name, tu.subtypes[1])
                elif k == "tuple":
                    for x, s in zip(term.value, tu.subtypes, strict=False):
                        put(x, name, s)
                elif k == "vector":
                    for x in term.value:
                        put(x, name, tu.subtype)
                elif k in ("list", "set"):
                    for x in term.value:
                        put(x, name, tu.subtypes[0])
            elif isinstance(term, cql.Func):
                for a in term.args:
                    put(a, name, ct.LongType)
            elif isinstance(term, cql.Neg):
                put(term.term, name, typ)

        def col(t: Table, name: str) -> Column:
            c = t.columns.get(name)
            if c is None:
                raise Invalid(f"Undefined column name {name}")
            return c

        def where(t: Table, rels: list[cql.Relation]) -> None:
            for r in rels:
                if r.kind == "token":
                    put(r.value, "partition key token", ct.LongType)
                    continue
                if r.kind == "tuple":
                    tt = ct.TupleType.apply_parameters([col(t, c).type for c in r.cols])
                    if r.op == "IN":
                        if isinstance(r.value, list):
                            for v in r.value:
                                put(v, "in(" + ",".join(r.cols) + ")", tt)
                        else:
                            put(
                                r.value,
                                "in(" + ",".join(r.cols) + ")",
                                ct.ListType.apply_parameters([tt]),
                            )
                    else:
                        put(r.value, "(" + ",".join(r.cols) + ")", tt)
                    continue
                c = col(t, r.cols[0])
                if r.op == "IN":
                    if isinstance(r.value, list):
                        for v in r.value:
                            put(v, c.name, c.type)
                    else:
                        put(
                            r.value,
                            f"in({c.name})",
                            ct.ListType.apply_parameters([T.unfreeze(c.type)]),
                        )
                elif r.op == "CONTAINS":
                    tu = T.unfreeze(c.type)
                    sub = (
                        tu.subtypes[1]
                        if T.kind_of(tu) == "map"
                        else (tu.subtypes[0] if tu.subtypes else tu)
                    )
                    put(r.value, c.name, sub)
                elif r.op == "CONTAINS_KEY":
                    put(r.value, c.name, T.unfreeze(c.type).subtypes[0])
                else:
                    put(r.value, c.name, c.type)

        def using(s: Any) -> None:
            if getattr(s, "ttl", None) is not None:
                put(s.ttl, "[ttl]", ct.Int32Type)
            if getattr(s, "timestamp", None) is not None:
                put(s.timestamp, "[timestamp]", ct.LongType)

        def conds(t: Table, cs: list[cql.Condition]) -> None:
            for cd in cs:
                c = col(t, cd.col)
                typ = c.type
                if cd.key is not None:
                    tu = T.unfreeze(c.type)
                    kt = ct.Int32Type if T.kind_of(tu) == "list" else tu.subtypes[0]
                    put(cd.key, f"key({c.name})", kt)
                    typ = tu.subtypes[-1]
                if cd.op == "IN":
                    if isinstance(cd.value, list):
                        for v in cd.value:
                            put(v, c.name, typ)
                    else:
                        put(
                            cd.value,
                            f"in({c.name})",
                            ct.ListType.apply_parameters([T.unfreeze(typ)]),
                        )
                else:
                    put(cd.value, c.name, typ)

        def one(s: Any) -> None:
            if isinstance(s, cql.Select):
                t = self.table(s.ks, s.table, ctx)
                for sel in s.selectors or []:
                    if sel.kind == "func":
                        vt = next(
                            (
                                t.columns[a.name].type
                                for a in sel.args
                                if isinstance(a, cql.Selector) and a.name in t.columns
                            ),
                            ct.FloatType,
                        )
                        for a in sel.args:
                            put(a, sel.name, vt)
                where(t, s.where)
                if s.ann:
                    put(s.ann[1], f"{s.ann[0]}_ann_of", col(t, s.ann[0]).type)
                if s.per_partition_limit is not None:
                    put(s.per_partition_limit, "[per_partition_limit]", ct.Int32Type)
                if s.limit is not None:
                    put(s.limit, "[limit]", ct.Int32Type)
            elif isinstance(s, cql.Insert):
                t = self.table(s.ks, s.table, ctx)
                for name, v in zip(s.columns, s.values, strict=True):
                    put(v, name, col(t, name).type)
                using(s)
            elif isinstance(s, cql.Update):
                t = self.table(s.ks, s.table, ctx)
                using(s)
                for a in s.assignments:
                    c = col(t, a.col)
                    tu = T.unfreeze(c.type)
                    k = T.kind_of(tu)
                    if a.op == "setkey":
                        put(
                            a.key, f"key({c.name})", ct.Int32Type if k == "list" else tu.subtypes[0]
                        )
                        put(a.value, f"value({c.name})", tu.subtypes[-1])
                    elif a.op == "sub" and k == "map":
                        put(a.value, c.name, ct.SetType.apply_parameters([tu.subtypes[0]]))
                    else:
                        put(a.value, c.name, c.type)
                where(t, s.where)
                conds(t, s.conditions)
            elif isinstance(s, cql.Delete):
                t = self.table(s.ks, s.table, ctx)
                for name, key in s.targets:
                    if key is not None:
                        tu = T.unfreeze(col(t, name).type)
                        put(
                            key,
                            f"key({name})",
                            ct.Int32Type if T.kind_of(tu) == "list" else tu.subtypes[0],
                        )
                using(s)
                where(t, s.where)
                conds(t, s.conditions)
            elif isinstance(s, cql.Batch):
                if s.timestamp is not None:
                    put(s.timestamp, "[timestamp]", ct.LongType)
                for x in s.statements:
                    one(x)

        one(stmt)
        out = []
        for i, s in enumerate(specs):
            if s is None:
                raise Invalid(f"Cannot infer the type of bind marker {i}")
            out.append(s)
        return out

    # -- value resolution
    def value(self, term: Any, typ: type, col: str, binds: list[Any], ctx: Ctx) -> Any:
        if isinstance(term, cql.Bind):
            try:
                v = binds[term.index]
            except IndexError:
                raise Invalid(
                    f"There were {len(binds)} markers(?) in CQL but {len(binds)} bound variables"
                ) from None
            return v
        if isinstance(term, cql.Literal):
            v = T.coerce_literal(
                term, typ, col, lambda t2, ty, c: self.value(t2, ty, c, binds, ctx)
            )
            return T.normalize(typ, _canon(typ, v))
        if isinstance(term, cql.Neg):
            v = self.value(term.term, typ, col, binds, ctx)
            return -v
        if isinstance(term, cql.Func):
            return self.func(term, typ, col, binds, ctx)
        raise Invalid(f"Invalid term for {col}")

    def func(self, f: cql.Func, typ: type, col: str, binds: list[Any], ctx: Ctx) -> Any:
        name = f.name.lower()
        if name == "now":
            return util.uuid_from_time(ctx.now)
        if name == "uuid":
            return uuid.uuid4()
        if name in ("currenttimestamp",):
            return util.datetime_from_timestamp(ctx.now)
        if name in ("totimestamp", "dateof"):
            arg = self.value(f.args[0], ct.TimeUUIDType, col, binds, ctx)
            if isinstance(arg, uuid.UUID):
                return util.datetime_from_uuid1(arg)
            return arg
        if name in ("tounixtimestamp", "unixtimestampof"):
            arg = self.value(f.args[0], ct.TimeUUIDType, col, binds, ctx)
            return int(util.unix_time_from_uuid1(arg) * 1000)
        if name in ("mintimeuuid", "maxtimeuuid"):
            arg = self.value(f.args[0], ct.DateType, col, binds, ctx)
            ts = util.datetime_from_timestamp(0) if arg is None else arg
            secs = (ts - util.datetime_from_timestamp(0)).total_seconds()
            return (
                util.min_uuid_from_time(secs)
                if name == "mintimeuuid"
                else util.max_uuid_from_time(secs)
            )
        if name == "token":
            raise Invalid("token() is only allowed in the WHERE clause and selection")
        raise Invalid(f"Unknown function '{f.name}'")

    # -- execution entry
    def execute(self, stmt: Any, binds: list[Any], ctx: Ctx) -> Any:
        if isinstance(stmt, cql.Select):
            return self.select(stmt, binds, ctx)
        if isinstance(stmt, (cql.Insert, cql.Update, cql.Delete)):
            self._check_write_cl(ctx)
            return self.write_batch([(stmt, binds)], ctx, "LOGGED", single=True)
        if isinstance(stmt, cql.Batch):
            self._check_write_cl(ctx)
            return self.write_batch(
                [(s, binds) for s in stmt.statements], ctx, stmt.kind, batch_ts=stmt.timestamp
            )
        if isinstance(stmt, cql.Use):
            self.keyspace(stmt.ks)
            return SetKeyspace(stmt.ks)
        if isinstance(stmt, cql.Unsupported):
            raise Invalid(f"{stmt.what} is not supported by the local CQL server")
        return self.ddl(stmt, ctx)

    def _check_write_cl(self, ctx: Ctx) -> None:
        if self.astra and ctx.consistency in WRITE_CL_REFUSED_ON_ASTRA:
            name = WRITE_CL_REFUSED_ON_ASTRA[ctx.consistency]
            raise Invalid(
                f"Provided value {name} is not allowed for Write Consistency Level "
                "(disallowed values are: [ANY, ONE, LOCAL_ONE])"
            )

    # ------------------------------------------------------------------ DDL
    def ddl(self, s: Any, ctx: Ctx) -> Any:
        if isinstance(s, (cql.CreateKeyspace, cql.AlterKeyspace, cql.DropKeyspace)):
            if self.astra:
                raise Unauthorized(f"Missing correct permission on {s.name}.")
            if s.name in self.system:
                raise Unauthorized(f"{s.name} keyspace is not user-modifiable.")
        if isinstance(s, cql.CreateKeyspace):
            if s.name in self.keyspaces:
                if s.if_not_exists:
                    return Void()
                raise AlreadyExists(f'Cannot add existing keyspace "{s.name}"', s.name)
            repl = s.options.get("replication")
            if not isinstance(repl, dict) or "class" not in repl:
                raise ConfigError("Missing mandatory option 'class'")
            cls = str(repl["class"])
            if cls.endswith("SimpleStrategy") and "replication_factor" not in repl:
                raise ConfigError("SimpleStrategy requires a replication_factor strategy option.")
            if not cls.startswith("org."):
                cls = "org.apache.cassandra.locator." + cls
            repl = {**{str(k): str(v) for k, v in repl.items()}, "class": cls}
            dw = s.options.get("durable_writes", True)
            self.keyspaces[s.name] = Keyspace(s.name, repl, str(dw).lower() != "false")
            self._save_catalog()
            return SchemaChange("CREATED", "KEYSPACE", s.name)
        if isinstance(s, cql.AlterKeyspace):
            k = self.keyspace(s.name)
            if "replication" in s.options:
                k.replication = {str(a): str(b) for a, b in s.options["replication"].items()}
            self._save_catalog()
            return SchemaChange("UPDATED", "KEYSPACE", s.name)
        if isinstance(s, cql.DropKeyspace):
            k = self.keyspaces.get(s.name)
            if k is None:
                if s.if_exists:
                    return Void()
                raise ConfigError(f"Cannot drop non existing keyspace '{s.name}'.")
            for t in k.tables.values():
                self.db.execute("DELETE FROM data WHERE tid=?", (t.tid,))
            del self.keyspaces[s.name]
            self._save_catalog()
            return SchemaChange("DROPPED", "KEYSPACE", s.name)
        if isinstance(s, cql.CreateTable):
            return self.create_table(s, ctx)
        if isinstance(s, cql.AlterTable):
            return self.alter_table(s, ctx)
        if isinstance(s, cql.DropTable):
            ksn = s.ks or ctx.keyspace
            if not ksn:
                raise Invalid(
                    "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
                )
            k = self._user_ks(ksn)
            if s.name not in k.tables:
                if s.if_exists:
                    return Void()
                raise Invalid(f"Table '{ksn}.{s.name}' doesn't exist")
            t = k.tables.pop(s.name)
            self.db.execute("DELETE FROM data WHERE tid=?", (t.tid,))
            self._save_catalog()
            return SchemaChange("DROPPED", "TABLE", ksn, s.name)
        if isinstance(s, cql.Truncate):
            t = self.table(s.ks, s.name, ctx)
            if t.virtual:
                raise Unauthorized(f"{t.ks} keyspace is not user-modifiable.")
            self.db.execute("DELETE FROM data WHERE tid=?", (t.tid,))
            return Void()
        if isinstance(s, cql.CreateIndex):
            return self.create_index(s, ctx)
        if isinstance(s, cql.DropIndex):
            ksn = s.ks or ctx.keyspace
            if not ksn:
                raise Invalid(
                    "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
                )
            k = self._user_ks(ksn)
            for t in k.tables.values():
                if s.name in t.indexes:
                    del t.indexes[s.name]
                    self._save_catalog()
                    return SchemaChange("UPDATED", "TABLE", ksn, t.name)
            if s.if_exists:
                return Void()
            raise Invalid(f"Index '{ksn}.{s.name}' doesn't exist")
        raise Invalid(f"Unsupported statement {type(s).__name__}")

    def _user_ks(self, name: str) -> Keyspace:
        if name in self.system:
            raise Unauthorized(f"{name} keyspace is not user-modifiable.")
        k = self.keyspaces.get(name)
        if k is None:
            raise Invalid(f"Keyspace '{name}' does not exist")
        return k

    def create_table(self, s: cql.CreateTable, ctx: Ctx) -> Any:
        ksn = s.ks or ctx.keyspace
        if not ksn:
            raise Invalid(
                "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
            )
        k = self._user_ks(ksn)
        if s.name in k.tables:
            if s.if_not_exists:
                return Void()
            raise AlreadyExists(
                f'Cannot add already existing table "{s.name}" to keyspace "{ksn}"', ksn, s.name
            )
        if not s.partition_key:
            raise Invalid(f"No PRIMARY KEY specifed for table '{s.name}' (exactly one required)")
        cols: dict[str, Column] = {}
        for spec in s.columns:
            if spec.name in cols:
                raise Invalid(
                    f"Duplicate column '{spec.name}' declaration for table {ksn}.{s.name}"
                )
            cols[spec.name] = Column(
                spec.name, T.from_ast(spec.type), "static" if spec.static else "regular"
            )
            if spec.static:
                raise Invalid("Static columns are not supported by the local CQL server")
        for i, name in enumerate(s.partition_key):
            c = cols.get(name)
            if c is None:
                raise Invalid(f"Unknown definition {name} referenced in PRIMARY KEY")
            c.kind, c.position = "partition_key", i
        for i, name in enumerate(s.clustering):
            c = cols.get(name)
            if c is None:
                raise Invalid(f"Unknown definition {name} referenced in PRIMARY KEY")
            c.kind, c.position, c.order = "clustering", i, "asc"
        for c in cols.values():
            if c.is_key and T.kind_of(c.type) in ("list", "set", "map") and not T.is_frozen(c.type):
                raise Invalid(
                    f"Invalid non-frozen collection type for PRIMARY KEY component {c.name}"
                )
            if c.is_key and c.type is ct.CounterColumnType:
                raise Invalid(f"counter type is not supported for PRIMARY KEY column '{c.name}'")
        counters = [c for c in cols.values() if not c.is_key and c.type is ct.CounterColumnType]
        if counters and len(counters) != len([c for c in cols.values() if not c.is_key]):
            raise Invalid("Cannot mix counter and non counter columns in the same table")
        order_cols = list(s.clustering_order)
        if order_cols and order_cols != s.clustering[: len(order_cols)]:
            for oc in order_cols:
                if oc not in s.clustering:
                    raise Invalid(
                        "Only clustering key columns can be defined in CLUSTERING ORDER directive"
                    )
            raise Invalid(
                "The order of columns in the CLUSTERING ORDER directive must be the one of the clustering key"
            )
        for name, d in s.clustering_order.items():
            cols[name].order = d.lower()
        opts = {k2: v for k2, v in s.options.items() if not k2.startswith("__")}
        t = Table(ksn, s.name, cols, list(s.partition_key), list(s.clustering), opts)
        k.tables[s.name] = t
        self._save_catalog()
        return SchemaChange("CREATED", "TABLE", ksn, s.name)

    def alter_table(self, s: cql.AlterTable, ctx: Ctx) -> Any:
        t = self.table(s.ks, s.name, ctx)
        if t.virtual:
            raise Unauthorized(f"{t.ks} keyspace is not user-modifiable.")
        if s.action == "add":
            for spec in s.columns:
                if spec.name in t.columns:
                    raise Invalid(f"Column with name '{spec.name}' already exists")
                typ = T.from_ast(spec.type)
                if (typ is ct.CounterColumnType) != t.is_counter and any(
                    not c.is_key for c in t.columns.values()
                ):
                    raise ConfigError("Cannot add a counter column in a non counter column family")
                t.columns[spec.name] = Column(spec.name, typ, "regular")
        elif s.action == "drop":
            for name in s.drop:
                c = t.columns.get(name)
                if c is None:
                    raise Invalid(f"Column {name} was not found in table {s.name}")
                if c.is_key:
                    raise Invalid(f"Cannot drop PRIMARY KEY part {name}")
                for i in t.index_on(name):
                    raise Invalid(
                        f"Cannot drop column {name} because it has dependent secondary indexes ({i.name})"
                    )
                del t.columns[name]
            self._strip_cells(t, set(s.drop))
        else:
            t.options.update(s.options)
        self._save_catalog()
        return SchemaChange("UPDATED", "TABLE", t.ks, t.name)

    def _strip_cells(self, t: Table, names: set[str]) -> None:
        for pk, ck, cells in self.db.execute(
            "SELECT pk, ck, cells FROM data WHERE tid=?", (t.tid,)
        ).fetchall():
            d = pickle.loads(cells)
            if names & d.keys():
                for n in names:
                    d.pop(n, None)
                self.db.execute(
                    "UPDATE data SET cells=? WHERE tid=? AND pk=? AND ck=?",
                    (pickle.dumps(d), t.tid, pk, ck),
                )

    def create_index(self, s: cql.CreateIndex, ctx: Ctx) -> Any:
        t = self.table(s.ks, s.table, ctx)
        if t.virtual:
            raise Unauthorized(f"{t.ks} keyspace is not user-modifiable.")
        c = t.columns.get(s.column)
        if c is None:
            raise Invalid(f"Undefined column name {s.column}")
        name = s.name or f"{t.name}_{s.column}_idx"
        k = self.keyspaces[t.ks]
        for other in k.tables.values():
            if name in other.indexes:
                if s.if_not_exists:
                    return Void()
                raise Invalid(f"Index {name} already exists")
        if c.kind == "partition_key" and len(t.partition_key) == 1:
            raise Invalid(
                f"Cannot create secondary index on the only partition key column {c.name}"
            )
        if c.type is ct.CounterColumnType:
            raise Invalid("Secondary indexes on counter tables are not supported")
        kind = T.kind_of(c.type)
        if s.target in ("keys", "entries") and kind != "map":
            raise Invalid(f"Cannot create index on {s.target} of column {c.name} with non-map type")
        target = s.target
        if kind in ("list", "set", "map") and T.is_frozen(c.type) and target == "values":
            target = "full"
        if kind == "vector" and not (s.custom and "StorageAttachedIndex" in s.custom):
            raise Invalid("Vector columns can only be indexed with 'StorageAttachedIndex'")
        t.indexes[name] = Index(name, c.name, target, s.custom, dict(s.options or {}))
        self._save_catalog()
        return SchemaChange("UPDATED", "TABLE", t.ks, t.name)

    # ------------------------------------------------------------------ reading
    def _routing(self, t: Table, values: dict[str, Any]) -> bytes:
        parts = []
        for c in t.partition_key:
            v = values[c]
            parts.append(t.columns[c].type.serialize(v, T.PV))
        return _composite(parts)

    def _ckey(self, t: Table, values: dict[str, Any]) -> bytes:
        if not t.clustering:
            return b""
        return _composite([t.columns[c].type.serialize(values[c], T.PV) for c in t.clustering])

    def _load(self, t: Table, pk: bytes, ck: bytes) -> Row | None:
        r = self.db.execute(
            "SELECT token, marker, cells FROM data WHERE tid=? AND pk=? AND ck=?", (t.tid, pk, ck)
        ).fetchone()
        if r is None:
            return None
        return Row(t, r[0], pk, ck, r[1], pickle.loads(r[2]))

    def _alive(self, row: Row, now: float) -> bool:
        if row.marker is not None and not _expired(row.marker, now):
            return True
        t = row.table
        return any(
            not t.columns[n].is_key and not _expired(c[1], now)
            for n, c in row.cells.items()
            if n in t.columns
        )

    def _purge(self, row: Row, now: float) -> None:
        dead = [
            n for n, c in row.cells.items() if _expired(c[1], now) or n not in row.table.columns
        ]
        for n in dead:
            del row.cells[n]
            row._vals.pop(n, None)
        if row.marker is not None and _expired(row.marker, now):
            row.marker = None

    def _partition_rows(
        self, t: Table, pks: list[bytes], token_range: tuple[Any, Any] | None, now: float
    ) -> list[Row]:
        if t.virtual:
            return self._virtual_rows(t)
        if pks:
            out = []
            for pk in sorted(set(pks), key=lambda b: (murmur3(b), b)):
                for token, ck, marker, cells in self.db.execute(
                    "SELECT token, ck, marker, cells FROM data WHERE tid=? AND pk=? ORDER BY ck_sort",
                    (t.tid, pk),
                ):
                    out.append(Row(t, token, pk, ck, marker, pickle.loads(cells)))
        else:
            sql = "SELECT token, pk, ck, marker, cells FROM data WHERE tid=?"
            args: list[Any] = [t.tid]
            if token_range:
                for op, v in token_range:
                    sql += f" AND token {op} ?"
                    args.append(v)
            sql += " ORDER BY token, pk, ck_sort"
            out = [
                Row(t, tok, pk, ck, m, pickle.loads(c))
                for tok, pk, ck, m, c in self.db.execute(sql, args)
            ]
        live = []
        for r in out:
            self._purge(r, now)
            if self._alive(r, now):
                live.append(r)
        return live

    def _exact_rows(self, t: Table, pks: list[bytes], cks: list[bytes], now: float) -> list[Row]:
        out = []
        for pk in sorted(set(pks), key=lambda b: (murmur3(b), b)):
            for ck in dict.fromkeys(cks):
                r = self.db.execute(
                    "SELECT token, marker, cells FROM data WHERE tid=? AND pk=? AND ck=?",
                    (t.tid, pk, ck),
                ).fetchone()
                if r is None:
                    continue
                row = Row(t, r[0], pk, ck, r[1], pickle.loads(r[2]))
                self._purge(row, now)
                if self._alive(row, now):
                    out.append(row)
        return out

    def _virtual_rows(self, t: Table) -> list[Row]:
        if t.ks == "system_schema":
            dicts = (
                schema_rows(self.keyspaces, t.name)
                if t.name in ("keyspaces", "tables", "columns", "indexes")
                else []
            )
            if t.name == "keyspaces":
                for k in self.system.values():
                    if k.name != "system_virtual_schema":
                        dicts.append(
                            {
                                "keyspace_name": k.name,
                                "durable_writes": True,
                                "replication": k.replication,
                            }
                        )
        elif t.ks == "system" and t.name == "local":
            dicts = [self.local_row()]
        else:
            dicts = []
        rows = []
        for d in dicts:
            cells = {}
            for name, v in d.items():
                c = t.columns.get(name)
                if c is not None and v is not None:
                    cells[name] = (c.type.serialize(_canon(c.type, v), T.PV), 0, 0)
            pkv = {c: d[c] for c in t.partition_key}
            pk = self._routing(t, pkv)
            rows.append(Row(t, murmur3(pk), pk, self._ckey(t, d), 0, cells))
        rows.sort(key=lambda r: (r.token, r.pk))
        return rows

    def local_row(self) -> dict[str, Any]:
        return {
            "key": "local",
            "bootstrapped": "COMPLETED",
            "broadcast_address": "127.0.0.1",
            "broadcast_port": 7000,
            "cluster_name": self.cluster_name,
            "cql_version": "3.4.5",
            "data_center": "datacenter1",
            "gossip_generation": int(time.time()),
            "host_id": self.host_id,
            "listen_address": "127.0.0.1",
            "listen_port": 7000,
            "native_protocol_version": "4",
            "partitioner": "org.apache.cassandra.dht.Murmur3Partitioner",
            "rack": "rack1",
            "release_version": "4.0.11",
            "rpc_address": "127.0.0.1",
            "rpc_port": 9042,
            "schema_version": self.schema_version,
            "tokens": {"-9223372036854775808"},
            "product_type": "DATASTAX_APOLLO" if self.astra else "CASSANDRA",
        }

    # -- SELECT
    def select_columns(self, t: Table, s: cql.Select) -> list[tuple[str, type]]:
        if s.selectors is None:
            if s.json:
                return [("[json]", ct.UTF8Type)]
            return [(c.name, c.type) for c in t.star_columns()]
        out = []
        for sel in s.selectors:
            name, typ = self._selector_spec(t, sel)
            out.append((sel.alias or name, typ))
        if s.json:
            return [("[json]", ct.UTF8Type)]
        return out

    def _selector_spec(self, t: Table, sel: cql.Selector) -> tuple[str, type]:
        if sel.kind == "col":
            c = t.columns.get(sel.name)
            if c is None:
                raise Invalid(f"Undefined column name {sel.name}")
            return c.name, c.type
        if sel.kind == "count":
            return "count", ct.LongType
        if sel.kind == "term":
            raise Invalid("Selecting constant terms is not supported by the local CQL server")
        name = sel.name.lower()
        cols = [a for a in sel.args if isinstance(a, cql.Selector) and a.kind == "col"]
        for a in cols:
            if a.name not in t.columns:
                raise Invalid(f"Undefined column name {a.name}")
        argtxt = ", ".join(a.name if isinstance(a, cql.Selector) else "?" for a in sel.args)
        if name == "token":
            if [a.name for a in cols] != t.partition_key:
                raise Invalid(
                    "Type error: token() requires the partition key columns in order: "
                    + ", ".join(t.partition_key)
                )
            return f"system.token({argtxt})", ct.LongType
        if name == "writetime":
            return f"writetime({argtxt})", ct.LongType
        if name == "ttl":
            return f"ttl({argtxt})", ct.Int32Type
        if name in ("similarity_cosine", "similarity_dot_product", "similarity_euclidean"):
            return f"system.{name}({argtxt})", ct.FloatType
        if name in ("min", "max", "sum", "avg"):
            if len(cols) != 1:
                raise Invalid(f"Invalid call to {name}")
            return f"system.{name}({argtxt})", t.columns[cols[0].name].type
        if name == "count":
            return f"system.count({argtxt})", ct.LongType
        if name in ("totimestamp", "tounixtimestamp", "todate"):
            typ = {
                "totimestamp": ct.DateType,
                "tounixtimestamp": ct.LongType,
                "todate": ct.SimpleDateType,
            }[name]
            return f"system.{name}({argtxt})", typ
        raise Invalid(f"Unknown function '{sel.name}'")

    def select(self, s: cql.Select, binds: list[Any], ctx: Ctx) -> Rows:
        t = self.table(s.ks, s.table, ctx)
        columns = self.select_columns(t, s)
        if s.group_by:
            raise Invalid("GROUP BY is not supported by the local CQL server")
        pk_vals: dict[str, list[Any]] = {}
        token_range: list[tuple[str, int]] = []
        ck_rels: dict[str, list[tuple[str, Any]]] = {}
        filters: list[tuple[Column, str, Any]] = []
        needs_filtering = False
        indexed_used = False
        for r in s.where:
            if r.kind == "tuple":
                raise Invalid("Multi-column relations are not supported by the local CQL server")
            if r.kind == "token":
                if r.cols != t.partition_key:
                    raise Invalid(
                        "The token function arguments must be in the partition key order: "
                        + ", ".join(t.partition_key)
                    )
                if r.op not in ("<", "<=", ">", ">=", "="):
                    raise Invalid(f"Unsupported {r.op} relation on token()")
                v = self.value(r.value, ct.LongType, "partition key token", binds, ctx)
                token_range.append(("=" if r.op == "=" else r.op, v))
                continue
            c = t.columns.get(r.cols[0])
            if c is None:
                raise Invalid(f"Undefined column name {r.cols[0]}")
            if r.op == "!=":
                raise Invalid(f'Unsupported "!=" relation: {c.name} != ...')
            if r.op == "LIKE":
                raise Invalid("LIKE restrictions are not supported by the local CQL server")
            if r.op == "IN":
                if isinstance(r.value, list):
                    vals = [self.value(v, c.type, c.name, binds, ctx) for v in r.value]
                else:
                    vals = (
                        self.value(
                            r.value, ct.ListType.apply_parameters([c.type]), c.name, binds, ctx
                        )
                        or []
                    )
                    vals = list(vals)
                val: Any = vals
            elif r.op == "CONTAINS":
                tu = T.unfreeze(c.type)
                k = T.kind_of(tu)
                if k not in ("list", "set", "map"):
                    raise Invalid(f"Cannot use CONTAINS on non-collection column {c.name}")
                val = self.value(
                    r.value, tu.subtypes[1] if k == "map" else tu.subtypes[0], c.name, binds, ctx
                )
            elif r.op == "CONTAINS_KEY":
                tu = T.unfreeze(c.type)
                if T.kind_of(tu) != "map":
                    raise Invalid(f"Cannot use CONTAINS KEY on non-map column {c.name}")
                val = self.value(r.value, tu.subtypes[0], c.name, binds, ctx)
            else:
                val = self.value(r.value, c.type, c.name, binds, ctx)
            if val is None and r.op not in ("IN",):
                raise Invalid(f"Invalid null value in condition for column {c.name}")
            if val is UNSET:
                raise Invalid(f"Invalid unset value for column {c.name}")
            if c.kind == "partition_key" and r.op in ("=", "IN"):
                if c.name in pk_vals:
                    raise Invalid(
                        f"{c.name} cannot be restricted by more than one relation if it includes an Equal"
                    )
                pk_vals[c.name] = val if r.op == "IN" else [val]
            elif c.kind == "clustering" and r.op in ("=", "IN", "<", "<=", ">", ">="):
                ck_rels.setdefault(c.name, []).append((r.op, val))
            else:
                filters.append((c, r.op, val))
        # partition restriction
        full_pk = len(pk_vals) == len(t.partition_key)
        if pk_vals and not full_pk:
            needs_filtering = True
            for name, vals in pk_vals.items():
                filters.append((t.columns[name], "IN", vals))
        # clustering restriction shape
        seen_gap = None
        seen_slice = None
        for name in t.clustering:
            rels = ck_rels.get(name)
            if not rels:
                seen_gap = seen_gap or name
                continue
            if seen_gap and not s.allow_filtering:
                idx = [i for i in t.index_on(name)]
                if not idx:
                    raise Invalid(
                        f'PRIMARY KEY column "{name}" cannot be restricted as preceding column "{seen_gap}" is not restricted'
                    )
            if seen_slice and not s.allow_filtering:
                raise Invalid(
                    f'Clustering column "{name}" cannot be restricted (preceding column "{seen_slice}" is restricted by a non-EQ relation)'
                )
            if seen_gap:
                needs_filtering = True
            if any(op not in ("=", "IN") for op, _ in rels):
                seen_slice = name
        if ck_rels and not full_pk:
            needs_filtering = True
        for c, op, _ in filters:
            if c.kind == "partition_key":
                continue
            idx = t.index_on(c.name)
            ok = False
            for i in idx:
                if (
                    op == "="
                    or (op == "CONTAINS" and i.target in ("values", "full"))
                    or (op == "CONTAINS_KEY" and i.target == "keys")
                ):
                    ok = True
                elif i.is_sai and op in ("<", "<=", ">", ">=", "IN", "CONTAINS", "CONTAINS_KEY"):
                    ok = True
            if ok and not indexed_used:
                indexed_used = True
            else:
                needs_filtering = True
        if needs_filtering and not s.allow_filtering and not t.virtual:
            raise Invalid(FILTERING_MSG)
        # ORDER BY
        reverse = False
        if s.ann:
            c = t.columns.get(s.ann[0])
            if c is None:
                raise Invalid(f"Undefined column name {s.ann[0]}")
            if not any(i.is_sai for i in t.index_on(c.name)):
                raise Invalid(
                    f"ANN ordering by vector requires the column to be indexed using 'StorageAttachedIndex' ({c.name})"
                )
        if s.order:
            if s.ann:
                raise Invalid("ANN ordering does not support any other ordering")
            for name, _asc in s.order:
                c = t.columns.get(name)
                if c is None:
                    raise Invalid(f"Undefined column name {name}")
                if c.kind != "clustering":
                    raise Invalid(
                        f"Order by is currently only supported on the clustered columns of the PRIMARY KEY, got {name}"
                    )
            if not full_pk:
                raise Invalid(
                    "ORDER BY is only supported when the partition key is restricted by an EQ or an IN."
                )
            names = [n for n, _ in s.order]
            if names != t.clustering[: len(names)]:
                raise Invalid(
                    "Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY"
                )
            flips = {(t.columns[n].order == "desc") == asc for n, asc in s.order}
            if len(flips) > 1:
                raise Invalid("Unsupported order by relation")
            reverse = flips.pop()
        limit = self._int(s.limit, "[limit]", binds, ctx)
        if limit is not None and limit <= 0:
            raise Invalid("LIMIT must be strictly positive")
        ppl = self._int(s.per_partition_limit, "[per_partition_limit]", binds, ctx)
        if s.ann and (limit is None or limit > 1000):
            raise Invalid(
                f"SAI based ORDER BY clause requires a LIMIT that is not greater than 1000. LIMIT was {limit or 'NO LIMIT'}"
            )
        multi_partition = full_pk and math.prod(len(v) for v in pk_vals.values()) > 1
        if s.order and multi_partition and ctx.page_size > 0:
            raise Invalid(
                "Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either "
                "remove the ORDER BY or the IN and sort client side, or disable paging for this query"
            )
        # fetch
        pks: list[bytes] = []
        if full_pk:
            combos = itertools.product(*[pk_vals[c] for c in t.partition_key])
            for combo in combos:
                if any(v is None for v in combo):
                    continue
                pks.append(self._routing(t, dict(zip(t.partition_key, combo, strict=True))))
            exact = (
                bool(t.clustering)
                and not t.virtual
                and all(
                    len(ck_rels.get(c, ())) == 1 and ck_rels[c][0][0] in ("=", "IN")
                    for c in t.clustering
                )
            )
            sels0 = s.selectors or []
            aggregate = any(
                x.kind == "count"
                or (x.kind == "func" and x.name.lower() in ("min", "max", "sum", "avg", "count"))
                for x in sels0
            )
            stream = (
                len(pks) == 1
                and not exact
                and self._orderable(t)
                and not s.ann
                and not s.distinct
                and ppl is None
                and not aggregate
            )
            if not pks:
                rows: list[Row] = []
            elif exact:
                # Full primary key by equality: read those rows by key, not the partition.
                ck_lists = [
                    v if op == "IN" else [v] for op, v in (ck_rels[c][0] for c in t.clustering)
                ]
                cks = [
                    self._ckey(t, dict(zip(t.clustering, combo, strict=True)))
                    for combo in itertools.product(*ck_lists)
                    if all(x is not None for x in combo)
                ]
                rows = self._exact_rows(t, pks, cks, ctx.now)
            elif stream:
                # One partition, clustering order from the ck_sort index: stop reading once the
                # LIMIT (or this page plus one row) is filled.
                need = limit
                offset0 = _paging_offset(ctx)
                if ctx.page_size and ctx.page_size > 0:
                    cap = offset0 + ctx.page_size + 1
                    need = cap if need is None else min(need, cap)
                ck_filters0 = [
                    (t.columns[n], op, v) for n, rels in ck_rels.items() for op, v in rels
                ]
                rows = []
                for r in self._iter_partition(t, pks[0], reverse, ctx.now):
                    if all(self._match(r, c, op, v) for c, op, v in ck_filters0 + filters):
                        rows.append(r)
                        if need is not None and len(rows) >= need:
                            break
                return self._finish(t, s, columns, rows, limit, binds, ctx)
            else:
                rows = self._partition_rows(t, pks, None, ctx.now)
        else:
            rows = self._partition_rows(t, [], token_range if not t.virtual else None, ctx.now)
        if t.virtual and full_pk:
            rows = [r for r in rows if r.pk in set(pks)]
        # group by partition, order clustering
        ordered = self._orderable(t)
        parts: list[list[Row]] = []
        for _, grp in itertools.groupby(rows, key=lambda r: r.pk):
            part = list(grp)
            if t.clustering and not ordered:
                part.sort(key=lambda r: self._ck_sort(t, r))
            if reverse:
                part.reverse()
            parts.append(part)
        if s.order and multi_partition:
            merged = [r for p in parts for r in p]
            merged.sort(key=lambda r: self._ck_sort(t, r), reverse=reverse)
            parts = [merged]
        # filter
        ck_filters = [(t.columns[n], op, v) for n, rels in ck_rels.items() for op, v in rels]
        all_filters = ck_filters + filters
        out_rows: list[Row] = []
        for part in parts:
            n_in_part = 0
            for r in part:
                if all(self._match(r, c, op, v) for c, op, v in all_filters):
                    if ppl is not None and n_in_part >= ppl:
                        continue
                    if s.distinct:
                        if n_in_part:
                            continue
                    out_rows.append(r)
                    n_in_part += 1
        if s.ann:
            qv = self.value(s.ann[1], t.columns[s.ann[0]].type, s.ann[0], binds, ctx)
            fn = self._similarity_fn(t, s.ann[0])
            scored = [(fn(r.get(s.ann[0]), qv), r) for r in out_rows if r.get(s.ann[0]) is not None]
            scored.sort(key=lambda x: -x[0])
            out_rows = [r for _, r in scored]
        return self._finish(t, s, columns, out_rows, limit, binds, ctx)

    def _finish(
        self,
        t: Table,
        s: cql.Select,
        columns: list[tuple[str, type]],
        out_rows: list[Row],
        limit: int | None,
        binds: list[Any],
        ctx: Ctx,
    ) -> Rows:
        """Aggregates, LIMIT, paging and projection of the filtered, ordered rows."""
        sels = s.selectors or []
        if sels and any(
            x.kind == "count"
            or (x.kind == "func" and x.name.lower() in ("min", "max", "sum", "avg", "count"))
            for x in sels
        ):
            if limit is not None:
                out_rows = out_rows[:limit]
            vals = []
            for sel, (_, typ) in zip(sels, columns, strict=False):
                vals.append(self._aggregate(t, sel, typ, out_rows, binds, ctx))
            return Rows(columns, [vals], t.ks, t.name)
        if limit is not None:
            out_rows = out_rows[:limit]
        offset = _paging_offset(ctx)
        paging_state = None
        if ctx.page_size and ctx.page_size > 0:
            page = out_rows[offset : offset + ctx.page_size]
            if offset + ctx.page_size < len(out_rows):
                paging_state = ctx.query_key[:8].ljust(8, b"\0") + struct.pack(
                    ">Q", offset + ctx.page_size
                )
        else:
            page = out_rows[offset:]
        data = [self._project(t, s, columns, r, binds, ctx) for r in page]
        return Rows(columns, data, t.ks, t.name, paging_state)

    def _iter_partition(self, t: Table, pk: bytes, reverse: bool, now: float) -> Any:
        order = "DESC" if reverse else "ASC"
        cur = self.db.execute(
            f"SELECT token, ck, marker, cells FROM data WHERE tid=? AND pk=? ORDER BY ck_sort {order}",
            (t.tid, pk),
        )
        for token, ck, marker, cells in cur:
            r = Row(t, token, pk, ck, marker, pickle.loads(cells))
            self._purge(r, now)
            if self._alive(r, now):
                yield r

    def _int(self, term: Any, name: str, binds: list[Any], ctx: Ctx) -> int | None:
        if term is None:
            return None
        v = self.value(term, ct.Int32Type, name, binds, ctx)
        if v is None or v is UNSET:
            return None
        return int(v)

    def _orderable(self, t: Table) -> bool:
        return not t.virtual and all(T.orderable(t.columns[c].type) for c in t.clustering)

    def _order_key(self, t: Table, row: Row) -> bytes | None:
        if not t.clustering or not self._orderable(t):
            return None
        return b"".join(
            T.order_bytes(t.columns[c].type, row.get(c), t.columns[c].order == "desc")
            for c in t.clustering
        )

    def _ck_sort(self, t: Table, r: Row) -> tuple:
        out = []
        for n in t.clustering:
            c = t.columns[n]
            k = T.sort_key(c.type, r.get(n))
            out.append(T.rev(k) if c.order == "desc" else k)
        return tuple(out)

    def _match(self, r: Row, c: Column, op: str, v: Any) -> bool:
        cur = r.get(c.name)
        if op == "IN":
            return cur is not None and any(cur == x for x in v)
        if op == "CONTAINS":
            if cur is None:
                return False
            return v in (cur.values() if T.kind_of(c.type) == "map" else cur)
        if op == "CONTAINS_KEY":
            return cur is not None and v in cur
        if cur is None:
            return False
        a, b = T.sort_key(c.type, cur), T.sort_key(c.type, v)
        if op == "=":
            return cur == v
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        if op == ">=":
            return a >= b
        raise Invalid(f"Unsupported operator {op}")

    def _similarity_fn(self, t: Table, col: str) -> Any:
        fn = "COSINE"
        for i in t.index_on(col):
            fn = str((i.options or {}).get("similarity_function", fn)).upper()
        return _SIMILARITY[fn]

    def _aggregate(
        self, t: Table, sel: cql.Selector, typ: type, rows: list[Row], binds: list[Any], ctx: Ctx
    ) -> bytes | None:
        if sel.kind == "count":
            return ct.LongType.serialize(len(rows), T.PV)
        if sel.kind == "col":
            return rows[0].raw(sel.name) if rows else None
        name = sel.name.lower()
        col = next(a.name for a in sel.args if isinstance(a, cql.Selector))
        vals = [r.get(col) for r in rows if r.get(col) is not None]
        if name == "count":
            return ct.LongType.serialize(len(vals), T.PV)
        if name == "min":
            v = min(vals, key=lambda x: T.sort_key(typ, x)) if vals else None
        elif name == "max":
            v = max(vals, key=lambda x: T.sort_key(typ, x)) if vals else None
        elif name == "sum":
            v = sum(vals) if vals else 0
        else:
            v = (
                (sum(vals) / len(vals) if vals else 0)
                if typ in (ct.FloatType, ct.DoubleType, ct.DecimalType)
                else (sum(vals) // len(vals) if vals else 0)
            )
        return T.serialize(typ, v)

    def _project(
        self,
        t: Table,
        s: cql.Select,
        columns: list[tuple[str, type]],
        r: Row,
        binds: list[Any],
        ctx: Ctx,
    ) -> list[bytes | None]:
        if s.selectors is None:
            if s.json:
                return [self._json(t, [c.name for c in t.star_columns()], r)]
            return [r.raw(c.name) for c in t.star_columns()]
        out = []
        for sel, (_, typ) in (
            zip(s.selectors, columns, strict=False)
            if not s.json
            else zip(s.selectors, s.selectors, strict=True)
        ):
            if sel.kind == "col":
                out.append(r.raw(sel.name))
                continue
            name = sel.name.lower()
            args = sel.args
            if name == "token":
                out.append(ct.LongType.serialize(murmur3(r.pk), T.PV))
            elif name in ("writetime", "ttl"):
                cell = r.cells.get(args[0].name)
                if t.columns[args[0].name].is_key:
                    raise Invalid(
                        f"Cannot use selection function {name} on PRIMARY KEY part {args[0].name}"
                    )
                if cell is None:
                    out.append(None)
                elif name == "writetime":
                    out.append(ct.LongType.serialize(cell[2], T.PV))
                else:
                    out.append(
                        None
                        if not cell[1]
                        else ct.Int32Type.serialize(max(0, math.ceil(cell[1] - ctx.now)), T.PV)
                    )
            elif name.startswith("similarity_"):
                colname = next(a.name for a in args if isinstance(a, cql.Selector))
                other = next(a for a in args if not isinstance(a, cql.Selector))
                qv = self.value(other, t.columns[colname].type, colname, binds, ctx)
                fn = _SIMILARITY[name[len("similarity_") :].upper()]
                v = r.get(colname)
                out.append(None if v is None else ct.FloatType.serialize(fn(v, qv), T.PV))
            elif name in ("totimestamp", "tounixtimestamp", "todate"):
                v = r.get(args[0].name)
                if v is None:
                    out.append(None)
                    continue
                if isinstance(v, uuid.UUID):
                    v = util.datetime_from_uuid1(v)
                if name == "tounixtimestamp":
                    v = int((v - util.datetime_from_timestamp(0)).total_seconds() * 1000)
                elif name == "todate":
                    v = util.Date(v.date())
                out.append(T.serialize(typ, v))
            else:
                raise Invalid(f"Function {sel.name} is not supported in this selection")
        if s.json:
            return [self._json(t, [sel.alias or sel.name for sel in s.selectors], r)]
        return out

    def _json(self, t: Table, names: list[str], r: Row) -> bytes:
        d = {}
        for n in names:
            v = r.get(n) if n in t.columns else None
            d[n] = _jsonable(v)
        return json.dumps(d).encode()

    # ------------------------------------------------------------------ writing
    def _key_values(
        self,
        t: Table,
        rels: list[cql.Relation],
        binds: list[Any],
        ctx: Ctx,
        *,
        need_full_ck: bool,
        verb: str,
    ) -> tuple[list[dict[str, Any]], list[tuple[Column, str, Any]]]:
        """Expand WHERE of UPDATE/DELETE into primary-key dicts (cartesian product of IN)."""
        eq: dict[str, list[Any]] = {}
        slices: list[tuple[Column, str, Any]] = []
        non_pk = []
        for r in rels:
            if r.kind != "col":
                raise Invalid(
                    f"Only EQ and IN relation are supported on the partition key (unless you use the token() function) in {verb} statements"
                )
            c = t.columns.get(r.cols[0])
            if c is None:
                raise Invalid(f"Undefined column name {r.cols[0]}")
            if not c.is_key:
                non_pk.append(c.name)
                continue
            if r.op == "=":
                v = self.value(r.value, c.type, c.name, binds, ctx)
                vals = [v]
            elif r.op == "IN":
                if isinstance(r.value, list):
                    vals = [self.value(x, c.type, c.name, binds, ctx) for x in r.value]
                else:
                    vals = list(
                        self.value(
                            r.value, ct.ListType.apply_parameters([c.type]), c.name, binds, ctx
                        )
                        or []
                    )
            elif c.kind == "clustering" and r.op in ("<", "<=", ">", ">=") and verb == "DELETE":
                slices.append((c, r.op, self.value(r.value, c.type, c.name, binds, ctx)))
                continue
            else:
                if c.kind == "partition_key":
                    raise Invalid(
                        f"Only EQ and IN relation are supported on the partition key (unless you use the token() function) in {verb} statements"
                    )
                raise Invalid(
                    f"Slice restrictions are not supported on the clustering columns in {verb} statements"
                )
            for v in vals:
                if v is None:
                    kind = "partition key" if c.kind == "partition_key" else "clustering key"
                    raise Invalid(
                        f"Invalid null value in condition for column {c.name}"
                        if verb == "DELETE"
                        else f"Invalid null value for {kind} part {c.name}"
                    )
                if v is UNSET:
                    raise Invalid(f"Invalid unset value for column {c.name}")
            eq[c.name] = vals
        if non_pk:
            raise Invalid("Non PRIMARY KEY columns found in where clause: " + ", ".join(non_pk))
        missing = [c for c in t.partition_key if c not in eq]
        if missing:
            raise Invalid("Some partition key parts are missing: " + ", ".join(missing))
        ck_present = [c for c in t.clustering if c in eq]
        if need_full_ck:
            missing = [c for c in t.clustering if c not in eq]
            if missing:
                raise Invalid("Some clustering keys are missing: " + ", ".join(missing))
        else:
            prefix = t.clustering[: len(ck_present)]
            if ck_present != prefix:
                gap = next(c for c in t.clustering if c not in eq)
                bad = next(
                    c
                    for c in t.clustering
                    if c in eq and t.clustering.index(c) > t.clustering.index(gap)
                )
                raise Invalid(
                    f'PRIMARY KEY column "{bad}" cannot be restricted as preceding column "{gap}" is not restricted'
                )
        names = [c for c in t.partition_key + t.clustering if c in eq]
        combos = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*[eq[n] for n in names])
        ]
        return combos, slices

    def _ts(self, term: Any, batch_ts: Any, binds: list[Any], ctx: Ctx) -> int:
        if term is not None:
            v = self.value(term, ct.LongType, "[timestamp]", binds, ctx)
            if v is not None and v is not UNSET:
                return int(v)
        if batch_ts is not None:
            v = self.value(batch_ts, ct.LongType, "[timestamp]", binds, ctx)
            if v is not None and v is not UNSET:
                return int(v)
        if ctx.timestamp is not None:
            return ctx.timestamp
        return int(ctx.now * 1_000_000)

    def _ttl(self, t: Table, term: Any, binds: list[Any], ctx: Ctx) -> int:
        if term is None:
            return t.default_ttl
        v = self.value(term, ct.Int32Type, "[ttl]", binds, ctx)
        if v is None or v is UNSET:
            return t.default_ttl
        if v < 0:
            raise Invalid(f"A TTL must be greater or equal to 0, but was {v}")
        if v > MAX_TTL:
            raise Invalid(f"ttl is too large. requested ({v}) maximum ({MAX_TTL})")
        return int(v)

    def write_batch(
        self,
        items: list[tuple[Any, list[Any]]],
        ctx: Ctx,
        kind: str,
        *,
        single: bool = False,
        batch_ts: Any = None,
    ) -> Any:
        """Plan every statement, check LWT conditions, then apply all mutations in one SQLite txn."""
        plans = []
        conditional = []
        for stmt, binds in items:
            t = self.table(stmt.ks, stmt.table, ctx)
            if t.virtual:
                raise Unauthorized(f"{t.ks} keyspace is not user-modifiable.")
            if not single:
                if kind == "COUNTER" and not t.is_counter:
                    raise Invalid("Cannot include non-counter statement in a counter batch")
                if kind != "COUNTER" and t.is_counter:
                    raise Invalid(
                        "Cannot include a counter statement in a logged batch"
                        if kind == "LOGGED"
                        else "Counter and non-counter mutations cannot exist in the same batch"
                    )
            plan = self._plan(t, stmt, binds, ctx, batch_ts)
            plans.append(plan)
            if plan["conditional"]:
                conditional.append(plan)
        if conditional:
            keys = {(p["table"].tid, k["pk"]) for p in conditional for k in p["keys"]}
            if len(keys) > 1 or any(len(p["keys"]) != 1 for p in conditional):
                if single:
                    raise Invalid(
                        "IN on the clustering key columns is not supported with conditional updates"
                    )
                raise Invalid("Batch with conditions cannot span multiple partitions")
            failed = []
            for p in conditional:
                ok, row_result = self._check(p, ctx)
                if not ok:
                    failed.append(row_result)
            if failed:
                return self._lwt_result(conditional, failed, ctx)
        if (
            len(plans) == 1
            and len(plans[0]["keys"]) == 1
            and not isinstance(plans[0]["stmt"], cql.Delete)
            and not self.db.in_transaction
        ):
            # One row: its single write is atomic on its own (the event loop serialises requests).
            self._apply(plans[0], ctx)
        else:
            self.db.execute("BEGIN")
            try:
                for p in plans:
                    self._apply(p, ctx)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        if conditional:
            return Rows(
                [("[applied]", ct.BooleanType)],
                [[b"\x01"]],
                conditional[0]["table"].ks,
                conditional[0]["table"].name,
            )
        return Void()

    def _lwt_result(self, conditional: list[dict], failed: list[Any], ctx: Ctx) -> Rows:
        t = conditional[0]["table"]
        p = conditional[0]
        row = failed[0]
        if row is None:
            return Rows([("[applied]", ct.BooleanType)], [[b"\x00"]], t.ks, t.name)
        if p["if_not_exists"] or (len(conditional) > 1):
            cols = t.star_columns()
        else:
            names = []
            for cd in p["conditions"]:
                if cd.col not in names:
                    names.append(cd.col)
            cols = [t.columns[n] for n in names]
        spec = [("[applied]", ct.BooleanType)] + [(c.name, c.type) for c in cols]
        return Rows(spec, [[b"\x00"] + [row.raw(c.name) for c in cols]], t.ks, t.name)

    def _plan(
        self, t: Table, stmt: Any, binds: list[Any], ctx: Ctx, batch_ts: Any
    ) -> dict[str, Any]:
        ts = self._ts(stmt.timestamp, batch_ts, binds, ctx)
        plan: dict[str, Any] = {
            "table": t,
            "stmt": stmt,
            "ts": ts,
            "if_not_exists": False,
            "if_exists": False,
            "conditions": [],
            "conditional": False,
            "binds": binds,
        }
        if isinstance(stmt, cql.Insert):
            if t.is_counter:
                raise Invalid(
                    "INSERT statements are not allowed on counter tables, use UPDATE instead"
                )
            vals: dict[str, Any] = {}
            for name, term in zip(stmt.columns, stmt.values, strict=True):
                c = t.columns.get(name)
                if c is None:
                    raise Invalid(f"Undefined column name {name}")
                if name in vals:
                    raise Invalid(f"Multiple definitions found for column {name}")
                vals[name] = self.value(term, c.type, name, binds, ctx)
            missing = [c for c in t.partition_key if c not in vals]
            if missing:
                raise Invalid("Some partition key parts are missing: " + ", ".join(missing))
            missing = [c for c in t.clustering if c not in vals]
            if missing:
                raise Invalid("Some clustering keys are missing: " + ", ".join(missing))
            for c in t.partition_key + t.clustering:
                v = vals[c]
                if v is UNSET:
                    raise Invalid(f"Invalid unset value for column {c}")
                if v is None:
                    kind = (
                        "partition key"
                        if t.columns[c].kind == "partition_key"
                        else "clustering key"
                    )
                    raise Invalid(f"Invalid null value for {kind} part {c}")
            keyd = {c: vals[c] for c in t.partition_key + t.clustering}
            plan["keys"] = [self._keyinfo(t, keyd)]
            plan["ttl"] = self._ttl(t, stmt.ttl, binds, ctx)
            plan["sets"] = {
                n: v for n, v in vals.items() if not t.columns[n].is_key and v is not UNSET
            }
            plan["if_not_exists"] = stmt.if_not_exists
            plan["conditional"] = stmt.if_not_exists
            return plan
        if isinstance(stmt, cql.Update):
            combos, _ = self._key_values(
                t, stmt.where, binds, ctx, need_full_ck=True, verb="UPDATE"
            )
            plan["keys"] = [self._keyinfo(t, k) for k in combos]
            ttl = self._ttl(t, stmt.ttl, binds, ctx)
            if t.is_counter and stmt.ttl is not None:
                raise Invalid("Cannot provide custom TTL for counter updates")
            plan["ttl"] = ttl
            ops = []
            for a in stmt.assignments:
                c = t.columns.get(a.col)
                if c is None:
                    raise Invalid(f"Undefined column name {a.col}")
                if c.is_key:
                    raise Invalid(f"PRIMARY KEY part {c.name} found in SET part")
                tu = T.unfreeze(c.type)
                k = T.kind_of(tu)
                if c.type is ct.CounterColumnType:
                    if a.op not in ("add", "sub"):
                        raise Invalid(
                            f"Cannot set the value of counter column {c.name} (counters can only be incremented/decremented, not set)"
                        )
                    v = self.value(a.value, ct.LongType, c.name, binds, ctx)
                    ops.append((c, a.op, v, None))
                    continue
                if a.op in ("add", "sub", "prepend"):
                    if k not in ("list", "set", "map") or T.is_frozen(c.type):
                        sign = "+" if a.op == "add" else "-"
                        raise Invalid(
                            f"Invalid operation ({c.name} = {c.name} {sign} ?) for non counter column {c.name}"
                        )
                    vt = (
                        ct.SetType.apply_parameters([tu.subtypes[0]])
                        if (a.op == "sub" and k == "map")
                        else c.type
                    )
                    v = self.value(a.value, vt, c.name, binds, ctx)
                    ops.append((c, a.op, v, None))
                elif a.op == "setkey":
                    if k not in ("list", "map") or T.is_frozen(c.type):
                        raise Invalid(
                            f"Invalid operation ({c.name}[?] = ?) for frozen or non-collection column {c.name}"
                        )
                    key = self.value(
                        a.key, ct.Int32Type if k == "list" else tu.subtypes[0], c.name, binds, ctx
                    )
                    v = self.value(a.value, tu.subtypes[-1], c.name, binds, ctx)
                    ops.append((c, "setkey", v, key))
                else:
                    v = self.value(a.value, c.type, c.name, binds, ctx)
                    ops.append((c, "set", v, None))
            plan["ops"] = ops
            self._conditions(t, plan, stmt, binds, ctx)
            return plan
        # DELETE
        combos, slices = self._key_values(
            t, stmt.where, binds, ctx, need_full_ck=False, verb="DELETE"
        )
        full = all(all(c in k for c in t.clustering) for k in combos)
        if (stmt.if_exists or stmt.conditions) and (not full or slices):
            raise Invalid(
                "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to use IF conditions"
            )
        if stmt.targets and (not full or slices):
            raise Invalid("Range deletions are not supported for specific columns")
        targets = []
        for name, key in stmt.targets:
            c = t.columns.get(name)
            if c is None:
                raise Invalid(f"Undefined column name {name}")
            if c.is_key:
                raise Invalid(
                    f"Invalid identifier {name} for deletion (should not be a PRIMARY KEY part)"
                )
            kv = None
            if key is not None:
                tu = T.unfreeze(c.type)
                kv = self.value(
                    key,
                    ct.Int32Type if T.kind_of(tu) == "list" else tu.subtypes[0],
                    name,
                    binds,
                    ctx,
                )
            targets.append((c, kv))
        plan["targets"] = targets
        plan["slices"] = slices
        plan["full"] = full
        plan["keys"] = [self._keyinfo(t, k) for k in combos]
        self._conditions(t, plan, stmt, binds, ctx)
        return plan

    def _conditions(self, t: Table, plan: dict, stmt: Any, binds: list[Any], ctx: Ctx) -> None:
        if stmt.if_exists or stmt.conditions:
            if t.is_counter:
                raise Invalid("Conditional updates are not supported on counter tables")
            plan["conditional"] = True
            plan["if_exists"] = stmt.if_exists
            conds = []
            for cd in stmt.conditions:
                c = t.columns.get(cd.col)
                if c is None:
                    raise Invalid(f"Undefined column name {cd.col}")
                if c.is_key:
                    raise Invalid(f"PRIMARY KEY column '{c.name}' cannot have IF conditions")
                typ = c.type
                key = None
                if cd.key is not None:
                    tu = T.unfreeze(c.type)
                    key = self.value(
                        cd.key,
                        ct.Int32Type if T.kind_of(tu) == "list" else tu.subtypes[0],
                        c.name,
                        binds,
                        ctx,
                    )
                    typ = tu.subtypes[-1]
                if cd.op == "IN":
                    if isinstance(cd.value, list):
                        v = [self.value(x, typ, c.name, binds, ctx) for x in cd.value]
                    else:
                        v = list(
                            self.value(
                                cd.value,
                                ct.ListType.apply_parameters([T.unfreeze(typ)]),
                                c.name,
                                binds,
                                ctx,
                            )
                            or []
                        )
                else:
                    v = self.value(cd.value, typ, c.name, binds, ctx)
                conds.append(cql.Condition(c.name, cd.op, v, key))
            plan["conditions"] = conds

    def _keyinfo(self, t: Table, keyd: dict[str, Any]) -> dict[str, Any]:
        pk = self._routing(t, keyd)
        full = all(c in keyd for c in t.clustering)
        ck = self._ckey(t, keyd) if full else None
        return {"pk": pk, "ck": ck, "values": keyd, "token": murmur3(pk)}

    def _check(self, p: dict, ctx: Ctx) -> tuple[bool, Row | None]:
        t = p["table"]
        k = p["keys"][0]
        row = self._load(t, k["pk"], k["ck"])
        if row is not None:
            self._purge(row, ctx.now)
            if not self._alive(row, ctx.now):
                row = None
        if p["if_not_exists"]:
            return row is None, row
        if row is None:
            return False, None
        if p["if_exists"]:
            return True, row
        for cd in p["conditions"]:
            cur = row.get(cd.col)
            if cd.key is not None and cur is not None:
                try:
                    cur = cur[cd.key]
                except (KeyError, IndexError, TypeError):
                    cur = None
            if not _compare(cur, cd.op, cd.value, t.columns[cd.col].type):
                return False, row
        return True, row

    def _apply(self, p: dict, ctx: Ctx) -> None:
        t: Table = p["table"]
        stmt = p["stmt"]
        ts = p["ts"]
        ttl = p.get("ttl", 0)
        exp = (ctx.now + ttl) if ttl else 0
        for k in p["keys"]:
            if isinstance(stmt, cql.Delete) and not p["targets"]:
                if k["ck"] is None or p["slices"]:
                    self._delete_range(t, k, p["slices"], ctx)
                else:
                    self.db.execute(
                        "DELETE FROM data WHERE tid=? AND pk=? AND ck=?", (t.tid, k["pk"], k["ck"])
                    )
                continue
            row = self._load(t, k["pk"], k["ck"] or b"")
            if row is None:
                row = Row(t, k["token"], k["pk"], k["ck"] or b"", None, {})
            self._purge(row, ctx.now)
            for name, v in k["values"].items():
                row.cells[name] = (t.columns[name].type.serialize(v, T.PV), 0, ts)
            if isinstance(stmt, cql.Insert):
                row.marker = exp
                for name, v in p["sets"].items():
                    self._set_cell(row, t.columns[name], v, exp, ts)
            elif isinstance(stmt, cql.Update):
                for c, op, v, key in p["ops"]:
                    self._update_cell(row, c, op, v, key, exp, ts, ctx)
            else:
                for c, key in p["targets"]:
                    if key is None:
                        row.cells.pop(c.name, None)
                    else:
                        cur = row.get(c.name)
                        if cur is not None:
                            if T.kind_of(c.type) == "list":
                                cur = list(cur)
                                if not 0 <= key < len(cur):
                                    raise Invalid(
                                        f"Attempted to delete an element from a list which a size of {len(cur)}"
                                    )
                                del cur[key]
                            else:
                                cur = dict(cur.items())
                                cur.pop(key, None)
                            self._set_cell(row, c, cur or None, row.cells[c.name][1], ts)
            self._store(t, row, ctx)

    def _store(self, t: Table, row: Row, ctx: Ctx) -> None:
        if not self._alive(row, ctx.now):
            self.db.execute(
                "DELETE FROM data WHERE tid=? AND pk=? AND ck=?", (t.tid, row.pk, row.ck)
            )
            return
        self.db.execute(
            "INSERT OR REPLACE INTO data (tid, token, pk, ck, marker, cells, ck_sort) VALUES (?,?,?,?,?,?,?)",
            (
                t.tid,
                row.token,
                row.pk,
                row.ck,
                row.marker,
                pickle.dumps(row.cells),
                self._order_key(t, row),
            ),
        )

    def _delete_range(self, t: Table, k: dict, slices: list, ctx: Ctx) -> None:
        rows = self._partition_rows(t, [k["pk"]], None, ctx.now)
        for r in rows:
            if all(r.get(n) == v for n, v in k["values"].items()) and all(
                self._match(r, c, op, v) for c, op, v in slices
            ):
                self.db.execute(
                    "DELETE FROM data WHERE tid=? AND pk=? AND ck=?", (t.tid, r.pk, r.ck)
                )

    def _set_cell(self, row: Row, c: Column, v: Any, exp: float, ts: int) -> None:
        row._vals.pop(c.name, None)
        if v is None:
            row.cells.pop(c.name, None)
            return
        v = _canon(c.type, v)
        k = T.kind_of(c.type)
        if k in ("list", "set", "map") and not T.is_frozen(c.type) and len(v) == 0:
            row.cells.pop(c.name, None)
            return
        row.cells[c.name] = (c.type.serialize(v, T.PV), exp, ts)

    def _update_cell(
        self, row: Row, c: Column, op: str, v: Any, key: Any, exp: float, ts: int, ctx: Ctx
    ) -> None:
        if v is UNSET:
            return
        if c.type is ct.CounterColumnType:
            cur = row.get(c.name) or 0
            delta = v or 0
            self._set_cell(row, c, cur + delta if op == "add" else cur - delta, 0, ts)
            return
        if op == "set":
            self._set_cell(row, c, v, exp, ts)
            return
        k = T.kind_of(c.type)
        cur = row.get(c.name)
        if op == "setkey":
            if k == "list":
                lst = list(cur or [])
                if not 0 <= key < len(lst):
                    raise Invalid(f"List index {key} out of bound, list has size {len(lst)}")
                lst[key] = v
                new: Any = lst
            else:
                d = dict(cur.items()) if cur else {}
                if v is None:
                    d.pop(key, None)
                else:
                    d[key] = v
                new = d
        elif k == "list":
            lst = list(cur or [])
            add = list(v or [])
            new = (
                lst + add
                if op == "add"
                else (add + lst if op == "prepend" else [x for x in lst if x not in add])
            )
        elif k == "set":
            s = list(cur or [])
            add = list(v or [])
            new = (
                s + [x for x in add if x not in s]
                if op == "add"
                else [x for x in s if x not in add]
            )
        else:
            d = dict(cur.items()) if cur else {}
            if op == "add":
                d.update(dict(v.items()) if v else {})
            else:
                for x in v or []:
                    d.pop(x, None)
            new = d
        self._set_cell(row, c, new or None, exp, ts)


def _paging_offset(ctx: Ctx) -> int:
    if not ctx.paging_state:
        return 0
    try:
        key, offset = ctx.paging_state[:8], struct.unpack(">Q", ctx.paging_state[8:16])[0]
    except struct.error:
        raise Invalid("Invalid value for the paging state") from None
    if key != ctx.query_key[:8]:
        raise Invalid("Invalid value for the paging state")
    return int(offset)


def _canon(t: type, v: Any) -> Any:
    """Sort sets and maps by Cassandra's comparator before serializing."""
    if v is None:
        return v
    tu = T.unfreeze(t)
    k = T.kind_of(tu)
    if k == "set":
        items = list(v)
        uniq = []
        for x in sorted(items, key=lambda x: T.sort_key(tu.subtypes[0], x)):
            if not uniq or uniq[-1] != x:
                uniq.append(x)
        return uniq
    if k == "map":
        items = list(v.items()) if hasattr(v, "items") else list(v)
        return dict(sorted(items, key=lambda kv: T.sort_key(tu.subtypes[0], kv[0])))
    return v


def _compare(cur: Any, op: str, v: Any, typ: type) -> bool:
    if op == "=":
        return cur == v
    if op == "!=":
        return cur != v
    if op == "IN":
        return any(cur == x for x in v)
    if cur is None or v is None:
        return False
    a, b = T.sort_key(typ, cur), T.sort_key(typ, v)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}.get(op, False)


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    if not na or not nb:
        return 0.0
    return (1 + dot / (na * nb)) / 2


def _dot(a: list[float], b: list[float]) -> float:
    return (1 + sum(x * y for x, y in zip(a, b, strict=False))) / 2


def _euclid(a: list[float], b: list[float]) -> float:
    return 1 / (1 + sum((x - y) ** 2 for x, y in zip(a, b, strict=False)))


_SIMILARITY = {"COSINE": _cosine, "DOT_PRODUCT": _dot, "EUCLIDEAN": _euclid}


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple, set)) or type(v).__name__ == "SortedSet":
        return [_jsonable(x) for x in v]
    if hasattr(v, "items"):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, bytes):
        return "0x" + v.hex()
    return str(v)


__all__ = [
    "UNSET",
    "Ctx",
    "Engine",
    "Prepared",
    "Rows",
    "SchemaChange",
    "ServerError",
    "SetKeyspace",
    "Void",
]
