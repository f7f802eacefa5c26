"""The workers-dbms Durable Object, re-implemented over one SQLite file per database id.

Faithful to the production Worker (G4brym/workers-dbms) where it matters to a client:

* the query is split on every ``;`` (even inside string literals, as the Worker does), a
  segment equal to ``begin``/``commit``/``rollback`` (trimmed, any case) is intercepted, the
  rest run in order and only the LAST statement receives the arguments (DO ``exec`` rule);
* ``begin`` locks the database to the session; other sessions wait for the lock (the Worker's
  bug made them wait forever: here they give up after ``lock_timeout`` with a clear error);
* ``rollback`` replies, restores the state saved at ``begin`` and drops every socket of the
  database (the Worker calls ``ctx.abort()``);
* values travel as JSON built by JavaScript: ``true`` binds as the TEXT ``"true"``, numbers
  are doubles (integers beyond 2**53 are rounded), BLOBs serialise as ``{}``, integral REALs
  print without a fraction, and rows are built as JS objects (duplicate column names collapse,
  integer-like names move first) before ``Object.values``;
* SQLite errors read ``Error: <message>: SQLITE_<NAME> (extended: ...)`` (workerd adds
  ``at offset N`` for syntax errors, which Python's sqlite3 cannot report); ``BEGIN``/``SAVEPOINT`` SQL is refused
  like DO ``exec`` refuses it; no Django Python functions are registered.
"""

from __future__ import annotations

import asyncio
import math
import re
import sqlite3
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django_backend_core.params import split_statements

ID_RE = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$")
MAX_SAFE_INTEGER = 2**53 - 1
#: DO's documented limits (https://developers.cloudflare.com/durable-objects/platform/limits/).
MAX_SQL_LENGTH = 100_000
MAX_BOUND_PARAMETERS = 100
#: Durable Objects' SQLite refuses LIKE/GLOB patterns longer than 50 bytes (seen under workerd).
MAX_LIKE_PATTERN = 50

TX_REFUSED = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing."
)
MULTI_PARAMS = (
    "When executing multiple SQL statements in a single call, only the last statement can have "
    "parameters."
)
WRONG_BINDINGS = "Wrong number of parameter bindings for SQL query."
DENIED_FUNCTIONS = frozenset(
    {
        "sqlite_version",
        "sqlite_source_id",
        "sqlite_compileoption_get",
        "sqlite_compileoption_used",
        "load_extension",
    }
)
_TX_SQL = re.compile(
    r"^\s*(begin|commit|end|rollback|savepoint|release)\b", re.IGNORECASE | re.DOTALL
)
_ARRAY_INDEX = re.compile(r"^(?:0|[1-9][0-9]*)$")

#: SQLite primary result codes (the sqlite3 module mixes them with authorizer action codes).
_CODE_NAMES: dict[int, str] = dict(
    enumerate(
        "OK ERROR INTERNAL PERM ABORT BUSY LOCKED NOMEM READONLY INTERRUPT IOERR CORRUPT "
        "NOTFOUND FULL CANTOPEN PROTOCOL EMPTY SCHEMA TOOBIG CONSTRAINT MISMATCH MISUSE NOLFS "
        "AUTH FORMAT RANGE NOTADB NOTICE WARNING".split()
    )
)
_CODE_NAMES = {k: f"SQLITE_{v}" for k, v in _CODE_NAMES.items()}


def valid_database_id(database_id: str) -> bool:
    """The Worker's zod rule for ``database_id``: 4-32 chars of ``[a-z0-9_]`` joined by ``-``."""
    return 4 <= len(database_id) <= 32 and ID_RE.match(database_id) is not None


class Aborted(Exception):
    """The object was reset (``ctx.abort()``) while this request waited: it never runs."""


class DOError(Exception):
    """An error the DO turns into ``{"type":"response_error","error":"Error: ..."}``."""

    def __init__(self, message: str, kind: str = "Error") -> None:
        super().__init__(message)
        self.kind = kind

    def __str__(self) -> str:  # JS ``e.toString()``
        return f"{self.kind}: {self.args[0]}"


class DOReset(Exception):
    """The object reset (its sockets drop) after answering this error."""

    def __str__(self) -> str:
        return f"Error: {self.args[0]}"


def _sqlite_error(exc: sqlite3.Error, denied: str | None = None) -> DOError:
    """workerd's text: ``<sqlite message>: SQLITE_X (extended: SQLITE_X_Y)``."""
    if isinstance(exc, sqlite3.ProgrammingError) and "bindings" in str(exc):
        return DOError(WRONG_BINDINGS)
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return DOError(str(exc))
    primary = _CODE_NAMES.get(code & 0xFF, "SQLITE_ERROR")
    message = str(exc)
    if denied and message == "not authorized":
        message, primary = f"not authorized to use function: {denied}", "SQLITE_ERROR"
    extended = getattr(exc, "sqlite_errorname", primary)
    if extended != primary and extended.startswith(primary):
        return DOError(f"{message}: {primary} (extended: {extended})")
    return DOError(f"{message}: {primary}")


def _js_string(value: Any) -> str:
    """JavaScript ``String(value)`` for what JSON can carry."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(_js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def js_bind(value: Any) -> Any:
    """What a JSON argument becomes once JavaScript hands it to ``sql.exec``.

    JSON numbers are JS doubles and bind as REAL (``SELECT typeof(?)`` with 5 is ``real``);
    anything else that is not a string or null is converted with ``String()``.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return float(value)
    return _js_string(value)


def js_value(value: Any) -> Any:
    """A SQLite value as ``JSON.stringify`` prints the JS value the DO returns for it."""
    if isinstance(value, bytes):
        return {}  # an ArrayBuffer serialises as an empty object: the bytes are lost
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        value = float(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value.is_integer() and abs(value) < 1e21:
            # JS prints the shortest digits that round-trip, then zeros: 2**62+1 reads back
            # as 4611686018427388000, not 4611686018427387904.
            return int(Decimal(repr(value)))
    return value


def js_object(names: list[str], row: tuple) -> dict[str, Any]:
    """The row object the DO cursor yields, keys in JavaScript's property order."""
    obj: dict[str, Any] = {}
    for name, value in zip(names, row, strict=True):
        obj[name] = js_value(value)  # a repeated name keeps its first slot, last value
    ints = sorted((k for k in obj if _ARRAY_INDEX.match(k) and int(k) < 2**32 - 1), key=int)
    if not ints:
        return obj
    first = set(ints)
    return {k: obj[k] for k in ints + [k for k in obj if k not in first]}


def js_row(names: list[str], row: tuple) -> list[Any]:
    """``Object.values`` of the row object (what ``arrayMode`` returns)."""
    return list(js_object(names, row).values())


def split_query(query: str) -> list[str]:
    """The Worker's ``query.split(";")``: no SQL awareness, empty segments dropped."""
    return [seg for seg in query.split(";") if seg.strip()]


@dataclass
class Database:
    """One DO instance: its SQLite file, transaction lock and open sockets."""

    database_id: str
    path: Path
    lock_timeout: float
    conn: sqlite3.Connection = field(init=False)
    holder: str | None = None
    lock_changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    sockets: dict[str, Any] = field(default_factory=dict)
    epoch: int = 0  # bumped by every ctx.abort()

    def __post_init__(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")  # DO enforces foreign keys
        self.conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, MAX_LIKE_PATTERN)
        self.denied: str | None = None
        self.conn.set_authorizer(self._authorize)

    def _authorize(self, action: int, arg1: Any, arg2: Any, *_: Any) -> int:
        """DO's authorizer refuses introspection of the engine itself (``sqlite_version()``)."""
        if action == sqlite3.SQLITE_FUNCTION and arg2 in DENIED_FUNCTIONS:
            self.denied = arg2
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    # -- the lock -------------------------------------------------------------------------
    async def wait_unlocked(self, session: str) -> None:
        """Wait until no OTHER session holds the transaction lock, or fail clearly."""
        if self.holder is None or self.holder == session:
            return
        deadline = time.monotonic() + self.lock_timeout
        async with self.lock_changed:
            while self.holder is not None and self.holder != session:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DOError(
                        f"database {self.database_id!r} is locked by another session's open "
                        f"transaction; gave up after {self.lock_timeout:g} s"
                    )
                try:
                    await asyncio.wait_for(self.lock_changed.wait(), remaining)
                except TimeoutError:
                    pass

    async def _release(self) -> None:
        self.holder = None
        async with self.lock_changed:
            self.lock_changed.notify_all()

    async def abandon(self, session: str) -> None:
        """The lock holder went away without commit: undo its transaction, free the lock."""
        if self.holder == session:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            await self._release()

    # -- execution ------------------------------------------------------------------------
    async def execute(
        self,
        session: str | None,
        query: Any,
        arguments: Any,
        *,
        intercept: bool = True,
        array_mode: bool = True,
    ) -> tuple[dict[str, Any], bool]:
        """Run one request; return (result, drop_every_socket)."""
        if not isinstance(query, str):
            raise DOError("Cannot read properties of undefined (reading 'split')", "TypeError")
        if arguments is not None and not isinstance(arguments, list):
            raise DOError("arguments is not iterable", "TypeError")
        args = [js_bind(a) for a in (arguments or [])]
        epoch = self.epoch
        await self.wait_unlocked(session or "")
        if self.epoch != epoch:
            raise Aborted()
        segments = split_query(query) if intercept else [query]
        controls = ("begin", "commit", "rollback") if intercept else ()
        if args and (not segments or segments[-1].strip().lower() in controls):
            raise DOError(WRONG_BINDINGS)
        # Consecutive ordinary segments go back together (joined with ';') into one DO
        # ``exec``: a ';' inside a literal survives, and only the statement that ends the
        # query receives the arguments.
        groups: list[str | list[str]] = []
        for segment in segments:
            word = segment.strip().lower()
            if word in controls:
                groups.append(word)
            elif groups and isinstance(groups[-1], list):
                groups[-1].append(segment)
            else:
                groups.append([segment])
        rows: list[Any] = []
        before = self.conn.total_changes
        read = 0
        abort = False
        for i, group in enumerate(groups):
            if isinstance(group, str):
                rows = []
                abort = await self._control(session or "", group)
                continue
            last = i == len(groups) - 1
            rows, n = self._exec_multi(";".join(group), args if last else [], array_mode)
            read += n
        meta = {"rows_read": read, "rows_written": self.conn.total_changes - before}
        return {"results": rows, "meta": meta}, abort

    def _exec_multi(self, sql: str, args: list[Any], array_mode: bool) -> tuple[list[Any], int]:
        """DO ``exec`` of a string that may hold several statements: rows of the last one."""
        statements = split_statements(sql) or [sql]
        rows: list[Any] = []
        read = 0
        for i, statement in enumerate(statements):
            last = i == len(statements) - 1
            rows, n = self._exec(
                statement, args if last else [], last_one=last, array_mode=array_mode
            )
            read += n
        return rows, read

    async def _control(self, session: str, word: str) -> bool:
        if word == "begin":
            await self.wait_unlocked(session)
            if self.holder == session:
                raise DOError("cannot start a transaction within a transaction")
            self.holder = session
            self.conn.execute("BEGIN")
            return False
        if self.holder != session:
            raise DOError(f"cannot {word} - no transaction is active")
        if word == "commit":
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                # A deferred constraint failed: the object resets to its last good state.
                self.conn.execute("ROLLBACK")
                self.epoch += 1
                await self._release()
                raise DOReset(
                    "Durable Object was reset and rolled back to its last known good state "
                    f"because of an error: {_sqlite_error(exc).args[0]}"
                ) from None
            await self._release()
            return False
        self.conn.execute("ROLLBACK")
        self.epoch += 1  # the object restarts: requests waiting for the lock die with it
        await self._release()
        return True

    def _exec(
        self, sql: str, args: list[Any], *, last_one: bool, array_mode: bool = True
    ) -> tuple[list[Any], int]:
        if _TX_SQL.match(sql):
            raise DOError(TX_REFUSED)
        if len(sql.encode()) > MAX_SQL_LENGTH:
            raise DOError("statement too long: SQLITE_TOOBIG")
        if len(args) > MAX_BOUND_PARAMETERS:
            raise DOError("too many SQL variables: SQLITE_ERROR")
        try:
            cur = self.conn.execute(sql, args)
            raw = cur.fetchall()
        except sqlite3.ProgrammingError as exc:
            if not last_one and "bindings" in str(exc):
                raise DOError(MULTI_PARAMS)
            raise _sqlite_error(exc)
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.denied)
        finally:
            self.denied = None
        names = [d[0] for d in cur.description or ()]
        build = js_row if array_mode else js_object
        return [build(names, r) for r in raw], len(raw)

    def close(self) -> None:
        self.conn.close()


@dataclass
class Registry:
    """All databases under ``data_dir``; a database exists once a websocket opened it."""

    data_dir: Path
    lock_timeout: float = 5.0
    databases: dict[str, Database] = field(default_factory=dict)

    def path(self, database_id: str) -> Path:
        return self.data_dir / f"{database_id}.sqlite3"

    def open(self, database_id: str, *, create: bool) -> Database | None:
        db = self.databases.get(database_id)
        if db is None:
            if not create and not self.path(database_id).exists():
                return None
            self.data_dir.mkdir(parents=True, exist_ok=True)
            db = Database(database_id, self.path(database_id), self.lock_timeout)
            self.databases[database_id] = db
        return db

    def close(self) -> None:
        for db in self.databases.values():
            db.close()
