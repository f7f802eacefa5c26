"""A local stand-in for the Cloudflare D1 REST API (``python -m django_d1.server``).

It serves ``/client/v4/accounts/{account}/d1/database/{database}/query`` and ``/raw`` over one
SQLite file per database id and reproduces the production behaviour documented in
``shared/reference/cloudflare.md``: the envelope, error codes and ``...: SQLITE_XXX`` texts,
Bearer auth, the transaction refusal, the 100-parameter / 100,000-byte limits, JSON numbers bound
as REAL, ``true``/``false`` bound as TEXT, BLOBs returned as arrays of byte values, big integers
rounded like JavaScript numbers, atomic batches, the ``_cf_KV`` table, the refused and missing
SQL functions, and the sticky ``meta.last_row_id``.

Decision on unknown databases: by default a database id is created on first use (like
Miniflare / ``wrangler dev``). With ``--no-autocreate`` an unknown id answers HTTP 404 with
code 7404, and databases are created with ``POST /client/v4/accounts/{account}/d1/database``
(``{"name": ...}``) as in production.

Needs the ``server`` extra (uvicorn, httptools, uvloop). The application is a plain ASGI
callable.
"""

from __future__ import annotations

import argparse
import decimal
import json
import math
import os
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_PARAMS = 100
MAX_STATEMENT_BYTES = 100_000
MAX_VALUE_BYTES = 2_000_000  # D1 documents 1 MB per string/BLOB/row; Miniflare accepted 2.1 MB.
MAX_COLUMNS = 100
MAX_FUNCTION_ARGS = 32
MAX_LIKE_PATTERN = 50
JS_SAFE_INT = 2**53

TRANSACTION_MESSAGE = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing."
)
AUTH_MESSAGE = "not authorized: SQLITE_AUTH"
FK_RESET_PREFIX = (
    "Durable Object was reset and rolled back to its last known good state because the "
    "following error was thrown: "
)

#: Functions D1 refuses with SQLITE_AUTH (probed in production).
REFUSED_FUNCTIONS = frozenset({"sqlite_version", "power", "ceiling"})
#: PRAGMAs D1 refuses with SQLITE_AUTH.
REFUSED_PRAGMAS = frozenset({"journal_mode", "wal_checkpoint", "locking_mode", "mmap_size"})

_WRITE_ACTIONS = {
    sqlite3.SQLITE_INSERT,
    sqlite3.SQLITE_UPDATE,
    sqlite3.SQLITE_DELETE,
    sqlite3.SQLITE_CREATE_INDEX,
    sqlite3.SQLITE_CREATE_TABLE,
    sqlite3.SQLITE_CREATE_TRIGGER,
    sqlite3.SQLITE_CREATE_VIEW,
    sqlite3.SQLITE_DROP_INDEX,
    sqlite3.SQLITE_DROP_TABLE,
    sqlite3.SQLITE_DROP_TRIGGER,
    sqlite3.SQLITE_DROP_VIEW,
    sqlite3.SQLITE_ALTER_TABLE,
    sqlite3.SQLITE_CREATE_VTABLE,
    sqlite3.SQLITE_DROP_VTABLE,
}
#: Authorizer actions of a read-only statement (they cannot change the database size).
_READ_ACTIONS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
}
_PRIMARY_NAMES: dict[int, str] = {
    getattr(sqlite3, n): n
    for n in dir(sqlite3)
    if n.startswith("SQLITE_") and n.count("_") == 1 and isinstance(getattr(sqlite3, n), int)
}
_PRIMARY_NAMES.update({19: "SQLITE_CONSTRAINT", 1: "SQLITE_ERROR", 23: "SQLITE_AUTH"})
_DB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_FK_PRAGMA = re.compile(r"^\s*PRAGMA\s+(?:main\.)?foreign_keys\s*=", re.IGNORECASE)


class D1Error(Exception):
    """An error answered with the Cloudflare envelope."""

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def js_number(value: Any) -> Any:
    """Return ``value`` as JavaScript's JSON.stringify would print it (D1 runs in workerd)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if -JS_SAFE_INT <= value <= JS_SAFE_INT:
            return value
        # JSON.stringify prints the shortest decimal of the double: 2**63-1 -> 9223372036854776000.
        return int(decimal.Decimal(repr(float(value))))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
    return value


def out_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return list(value)
    return js_number(value)


def bind_value(value: Any) -> Any:
    """Bind a JSON value the way D1 does: numbers as REAL, booleans as TEXT, arrays as BLOB."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return bytes(v & 0xFF for v in value)
    kind = "object" if isinstance(value, dict) else "array"
    raise D1Error(7500, f"D1_TYPE_ERROR: Type '{kind}' not supported for value '{value!r}'")


def split_sql(sql: str) -> list[str]:
    """Split on top-level semicolons, respecting strings, comments and trigger bodies."""
    out: list[str] = []
    start = 0
    pos = sql.find(";")
    while pos >= 0:
        buf = sql[start : pos + 1]
        if sqlite3.complete_statement(buf):
            if buf.strip().rstrip(";").strip() and not _only_comments(buf):
                out.append(buf)
            start = pos + 1
        pos = sql.find(";", pos + 1)
    buf = sql[start:]
    if buf.strip() and not _only_comments(buf):
        out.append(buf)
    return out


def _only_comments(sql: str) -> bool:
    if "--" not in sql and "/*" not in sql:
        return not sql.strip().strip(";").strip()
    stripped = re.sub(r"--[^\n]*|/\*.*?\*/", "", sql, flags=re.S).strip().strip(";").strip()
    return not stripped


# What count_placeholders skips (quoted text, identifiers, comments; an unterminated one runs
# to the end) and the placeholder itself, in one scan.
_PLACEHOLDER_SCAN = re.compile(
    r"'[^']*'?|\"[^\"]*\"?|`[^`]*`?|\[[^\]]*\]?|--[^\n]*\n?|/\*(?:.*?\*/|.*)|\?", re.S
)


def count_placeholders(sql: str) -> tuple[int, int | None]:
    """Count ``?`` placeholders outside strings/comments; return (count, offset of the 101st)."""
    if "?" not in sql:
        return 0, None
    n, over = 0, None
    for m in _PLACEHOLDER_SCAN.finditer(sql):
        if m.group() == "?":
            n += 1
            if n == MAX_PARAMS + 1:
                over = m.start()
    return n, over


def sqlite_message(exc: sqlite3.Error) -> str:
    """Format an sqlite3 exception as D1 does: ``<text>: SQLITE_X (extended: SQLITE_X_Y)``."""
    text = str(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    ext_name = getattr(exc, "sqlite_errorname", None)
    if code is None:
        return f"{text}: SQLITE_ERROR"
    primary = _PRIMARY_NAMES.get(code & 0xFF, "SQLITE_ERROR")
    if ext_name and ext_name != primary:
        return f"{text}: {primary} (extended: {ext_name})"
    return f"{text}: {primary}"


@dataclass
class _Guard:
    """State the authorizer writes while a statement is prepared."""

    internal: bool = False
    refusal: str | None = None
    writes: bool = False
    # Set by any action that is not a plain read: the database size may have changed.
    touched: bool = False
    tables_read: set[str] = field(default_factory=set)


class Database:
    """One D1 database: a SQLite file, a lock and D1's authorizer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.guard = _Guard()
        # cached_statements=0: the authorizer must see every statement (a cached statement is
        # not re-prepared, so its writes/refusals would go unnoticed).
        conn = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, cached_statements=0
        )
        conn.execute("PRAGMA foreign_keys = ON")
        # Local durability trade-off (D1 replicates; a dev server need not fsync every commit).
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB)")
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, MAX_PARAMS)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        conn.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, MAX_COLUMNS)
        conn.setlimit(sqlite3.SQLITE_LIMIT_FUNCTION_ARG, MAX_FUNCTION_ARGS)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, MAX_LIKE_PATTERN)
        conn.set_authorizer(self._authorize)
        self.conn = conn
        self.last_row_id = 0
        self._size: int | None = None  # meta.size_after, re-read after anything but reads

    # -- the authorizer mimics what D1 refuses ---------------------------------------------
    def _authorize(self, action: int, arg1: Any, arg2: Any, dbname: Any, source: Any) -> int:
        g = self.guard
        if g.internal:
            return sqlite3.SQLITE_OK
        if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
            g.refusal = TRANSACTION_MESSAGE
            return sqlite3.SQLITE_DENY
        if (
            action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH)
            or (action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in REFUSED_FUNCTIONS)
            or (action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in REFUSED_PRAGMAS)
        ):
            g.refusal = AUTH_MESSAGE
            return sqlite3.SQLITE_DENY
        table = arg1 if action != sqlite3.SQLITE_FUNCTION else None
        if action in (sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_DROP_INDEX):
            table = arg2
        if (
            isinstance(table, str)
            and table.lower().startswith("_cf_")
            and action in (_WRITE_ACTIONS | {sqlite3.SQLITE_READ})
        ):
            g.refusal = AUTH_MESSAGE
            return sqlite3.SQLITE_DENY
        if action in _WRITE_ACTIONS:
            g.writes = True
        if action not in _READ_ACTIONS:
            g.touched = True
        return sqlite3.SQLITE_OK

    def _internal(self, sql: str) -> None:
        self.guard.internal = True
        try:
            self.conn.execute(sql)
        finally:
            self.guard.internal = False

    def size(self) -> int:
        self.guard.internal = True
        try:
            pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
            page_size = self.conn.execute("PRAGMA page_size").fetchone()[0]
        finally:
            self.guard.internal = False
        return int(pages * page_size)

    # -- execution -------------------------------------------------------------------------
    def run(self, items: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Run statements as one implicit transaction (a request or a batch)."""
        with self.lock:
            self.guard.touched = False
            self._internal("BEGIN IMMEDIATE")
            try:
                results: list[dict[str, Any]] = []
                for sql, params in items:
                    results.extend(self._run_one(sql, params))
                try:
                    self._internal("COMMIT")
                except sqlite3.IntegrityError as exc:
                    raise D1Error(7500, FK_RESET_PREFIX + sqlite_message(exc)) from None
            except BaseException:
                if self.conn.in_transaction:
                    self._internal("ROLLBACK")
                raise
            if self._size is None or self.guard.touched:
                self._size = self.size()
            size = self._size
            for r in results:
                r["meta"]["size_after"] = size
            return results

    def _run_one(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        statements = split_sql(sql)
        if not statements:
            raise D1Error(7500, "No SQL statements detected.")
        bound = [bind_value(p) for p in params]
        results = []
        for i, stmt in enumerate(statements):
            # D1 binds the parameters to a single statement; with several statements every
            # statement takes the next ones in order.
            n, over = count_placeholders(stmt)
            if len(stmt.encode()) > MAX_STATEMENT_BYTES:
                raise D1Error(7500, "statement too long: SQLITE_TOOBIG")
            if over is not None:
                raise D1Error(7500, f"too many SQL variables at offset {over}: SQLITE_ERROR")
            if len(statements) == 1:
                args = bound
            else:
                args, bound = bound[:n], bound[n:]
            results.append(self._statement(stmt, args))
            del i
        return results

    def _statement(self, sql: str, args: list[Any]) -> dict[str, Any]:
        started = time.perf_counter()
        if _FK_PRAGMA.match(sql):
            # D1 accepts PRAGMA foreign_keys=OFF but keeps enforcing foreign keys.
            return _result([], [], started, changes=0, last=self.last_row_id, writes=False)
        g = self.guard
        g.refusal, g.writes = None, False
        before = self.conn.total_changes
        try:
            cur = self.conn.execute(sql, args)
            rows = cur.fetchall()
        except sqlite3.Error as exc:
            if g.refusal:
                raise D1Error(7500, g.refusal) from None
            if isinstance(exc, sqlite3.ProgrammingError) and "bindings" in str(exc):
                raise D1Error(7500, "Wrong number of parameter bindings for SQL query.") from None
            raise D1Error(7500, sqlite_message(exc)) from None
        columns = [d[0] for d in cur.description] if cur.description else []
        changes = self.conn.total_changes - before
        if changes and g.writes:
            self.last_row_id = self.conn.execute("SELECT last_insert_rowid()").fetchone()[0]
        return _result(
            columns,
            [[out_value(v) for v in row] for row in rows],
            started,
            changes=changes if g.writes else 0,
            last=self.last_row_id,
            writes=g.writes,
        )


def _result(
    columns: list[str],
    rows: list[list[Any]],
    started: float,
    *,
    changes: int,
    last: int,
    writes: bool,
) -> dict[str, Any]:
    ms = (time.perf_counter() - started) * 1000
    return {
        "columns": columns,
        "rows": rows,
        "meta": {
            "served_by": "django-d1-local",
            "served_by_region": "LOCAL",
            "served_by_primary": True,
            "timings": {"sql_duration_ms": ms},
            "duration": ms,
            "changes": changes,
            "last_row_id": js_number(last),
            "changed_db": writes,
            "size_after": 0,
            # Approximations: SQLite's C API counters are not reachable from Python.
            "rows_read": len(rows) if not writes else changes,
            "rows_written": changes if writes else 0,
        },
    }


class Registry:
    """Databases by id, with the --data directory and the auto-create policy."""

    def __init__(self, data: Path, autocreate: bool = True) -> None:
        self.data = data
        self.autocreate = autocreate
        self.data.mkdir(parents=True, exist_ok=True)
        self._dbs: dict[str, Database] = {}
        self._lock = threading.Lock()

    def path(self, db_id: str) -> Path:
        return self.data / f"{db_id}.sqlite3"

    def get(self, account: str, db_id: str) -> Database:
        with self._lock:
            db = self._dbs.get(db_id)
            if db is not None:
                return db
            if not _DB_ID.match(db_id) or (not self.autocreate and not self.path(db_id).exists()):
                raise D1Error(
                    7404,
                    f"Could not route to /client/v4/accounts/{account}/d1/database/{db_id}/query, "
                    "perhaps your object identifier is invalid?",
                    status=404,
                )
            db = self._dbs[db_id] = Database(self.path(db_id))
            return db

    def create(self, name: str) -> dict[str, Any]:
        db_id = str(uuid.uuid4())
        with self._lock:
            self._dbs[db_id] = Database(self.path(db_id))
        return {"uuid": db_id, "name": name, "version": "production", "num_tables": 0}


def envelope(result: Any, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"result": result, "errors": errors or [], "messages": [], "success": not errors}


def parse_body(body: bytes) -> list[tuple[str, list[Any]]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise D1Error(7400, "The request is malformed: failed to decode JSON body.") from None
    if not isinstance(data, dict):
        raise D1Error(7400, "The request is malformed: expected an object.")
    raw_items = data["batch"] if "batch" in data else [data]
    if not isinstance(raw_items, list) or not raw_items:
        raise D1Error(7400, "The request is malformed: batch must be a non-empty array.")
    items = []
    for item in raw_items:
        if not isinstance(item, dict) or not isinstance(item.get("sql"), str):
            raise D1Error(7400, "The request is malformed: sql is required and must be a string.")
        params = item.get("params", [])
        if params is None:
            params = []
        if not isinstance(params, list):
            raise D1Error(7400, "The request is malformed: params must be an array.")
        items.append((item["sql"], params))
    return items


def shape(results: list[dict[str, Any]], raw: bool) -> list[dict[str, Any]]:
    out = []
    for r in results:
        if raw:
            body: Any = {"columns": r["columns"], "rows": r["rows"]}
        else:
            # /query returns objects, so duplicate column names collapse (last one wins).
            body = [dict(zip(r["columns"], row, strict=True)) for row in r["rows"]]
        out.append({"results": body, "success": True, "meta": r["meta"]})
    return out


def _json_body(content: Any) -> bytes:
    """The JSON body as Starlette's JSONResponse renders it (compact, UTF-8, no NaN)."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode()


_JSON_HEADERS = [(b"content-type", b"application/json")]
_TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
_QUERY_ROUTE = re.compile(r"^/client/v4/accounts/([^/]+)/d1/database/([^/]+)/(query|raw)$")
_CREATE_ROUTE = re.compile(r"^/client/v4/accounts/([^/]+)/d1/database$")


class _Disconnected(Exception):
    """The client went away before its request body arrived."""


class D1App:
    """The ASGI application: D1's REST routes over a :class:`Registry`.

    A plain ASGI callable (no framework): per request it reads the body, checks the Bearer
    token and runs the statements on the event loop's thread. SQLite work is short and each
    database is serialised by its lock anyway; a thread hop per request cost more (about 0.2 ms
    of CPU and a context switch) than most statements take.
    """

    def __init__(self, registry: Registry, token: str | None) -> None:
        self.registry = registry
        self.token = token
        self._expected = f"Bearer {token}".encode() if token is not None else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path, method = scope["path"], scope["method"]
        match = _QUERY_ROUTE.match(path)
        if match is not None:
            if (body := await _post_body(method, receive, send)) is None:
                return
            status, content = self._query(scope, match, body)
        elif path == "/healthz":
            if method not in ("GET", "HEAD"):
                return await _text(send, 405, b"Method Not Allowed", [(b"allow", b"GET, HEAD")])
            status, content = 200, {"ok": True}
        elif (match := _CREATE_ROUTE.match(path)) is not None:
            if (body := await _post_body(method, receive, send)) is None:
                return
            status, content = self._create(scope, body)
        else:
            return await _text(send, 404, b"Not Found")
        data = _json_body(content)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", b"%d" % len(data)), *_JSON_HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def _check_auth(self, scope: dict[str, Any]) -> None:
        if self._expected is None:
            return
        header = b""
        for name, value in scope["headers"]:
            if name.lower() == b"authorization":
                header = value
                break
        if header != self._expected:
            raise D1Error(10000, "Authentication error", status=401 if not header else 403)

    def _query(
        self, scope: dict[str, Any], match: re.Match[str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        account, database, endpoint = match.groups()
        try:
            self._check_auth(scope)
            db = self.registry.get(account, database)
            results = db.run(parse_body(body))
        except D1Error as exc:
            return exc.status, envelope(None, [{"code": exc.code, "message": exc.message}])
        return 200, envelope(shape(results, endpoint == "raw"))

    def _create(self, scope: dict[str, Any], body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            self._check_auth(scope)
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                raise D1Error(
                    7400, "The request is malformed: failed to decode JSON body."
                ) from None
            if not isinstance(data, dict):
                raise D1Error(7400, "The request is malformed: expected an object.")
            return 200, envelope(self.registry.create(str(data.get("name", ""))))
        except D1Error as exc:
            return exc.status, envelope(None, [{"code": exc.code, "message": exc.message}])


async def _read_body(receive: Any) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise _Disconnected
    body = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _post_body(method: str, receive: Any, send: Any) -> bytes | None:
    """The body of a POST; None once a 405 was sent or the client went away."""
    if method != "POST":
        await _text(send, 405, b"Method Not Allowed", [(b"allow", b"POST")])
        return None
    try:
        return await _read_body(receive)
    except _Disconnected:
        return None


async def _text(
    send: Any, status: int, text: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", b"%d" % len(text)), *_TEXT_HEADERS, *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": text})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(data: str | Path, token: str | None, *, autocreate: bool = True) -> D1App:
    """Build the ASGI application (served by uvicorn; any ASGI test client works too)."""
    return D1App(Registry(Path(data), autocreate=autocreate), token)


class _CoalescingTransport:
    """Wraps an asyncio transport so the writes of one loop iteration leave as one ``send``.

    uvicorn writes the response head and body separately; on a real path each extra segment
    is one more packet (and one more TLS record behind a terminating proxy) for the client to
    wait for. Everything else is the wrapped transport's.
    """

    def __init__(self, transport: Any) -> None:
        import asyncio

        self._transport = transport
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _http_protocol() -> Any:
    """uvicorn's HTTP protocol (httptools when installed, else h11) with coalesced writes."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    except ImportError:  # no httptools: uvicorn's pure-Python parser
        from uvicorn.protocols.http.h11_impl import H11Protocol as base

    class CoalescingProtocol(base):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(_CoalescingTransport(transport))

    return CoalescingProtocol


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m django_d1.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--data", default="./d1-data", help="directory of <database_id>.sqlite3")
    parser.add_argument(
        "--token",
        default=os.environ.get("D1_SERVER_TOKEN"),
        help="Bearer token required (default: $D1_SERVER_TOKEN; none = no auth)",
    )
    parser.add_argument(
        "--no-autocreate",
        action="store_true",
        help="answer 7404 for unknown database ids instead of creating them",
    )
    args = parser.parse_args(argv)
    import uvicorn

    app = create_app(args.data, args.token, autocreate=not args.no_autocreate)
    # httptools and uvloop (the server extra installs both; loop="auto" picks uvloop): uvicorn's
    # pure-Python h11 parser and asyncio loop cost about twice the CPU per request.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        http=_http_protocol(),
        ws="none",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
