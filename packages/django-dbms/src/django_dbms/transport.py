"""One workers-dbms websocket per Django connection.

The protocol has no request ids, so exactly one request is in flight per socket: a lock is
held from ``send`` to ``recv`` (threads and ``sync_to_async`` callers never interleave), and any
failure in between closes the socket so a late reply can never be read as the answer to the
next request.

rowcount/lastrowid in the same round trip: the reply only carries ``rows_read``/
``rows_written`` (index writes included), and DO ``exec`` binds arguments to the LAST
statement of a multi-statement query only. So:

* DML without arguments (and without its own RETURNING) is sent as
  ``<dml>;SELECT changes(), last_insert_rowid()``: exact sqlite3 semantics;
* DML with arguments keeps them bound on itself, the last statement, and gets a RETURNING
  clause instead: ``RETURNING 1`` for UPDATE/DELETE (rowcount = rows returned) and
  ``RETURNING rowid`` for INSERT/REPLACE (lastrowid = the last one). A table without rowid
  fails at prepare time (nothing written) and is re-sent with ``RETURNING 1``;
* DML that has its own RETURNING: rowcount = rows returned.

Transactions: ``begin``/``commit``/``rollback`` are the Worker's intercepted segments.
Savepoints cannot exist on a Durable Object (``SAVEPOINT`` SQL is refused, and the Worker's
only rollback restores the bookmark taken at ``begin``), so they are emulated: the transport
journals the writes of the open transaction; ``ROLLBACK TO`` rolls the whole transaction
back, reconnects (the rollback dropped every socket), begins again and replays the writes made
before the savepoint, checking each replayed statement changes exactly as many rows as the
first time. A mismatch (another session wrote in between, or a non-deterministic statement)
raises OperationalError and leaves no transaction open.
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django_backend_core import dbapi
from django_backend_core.errors import SQLITE_RULES, ErrorMapper, Rule
from django_backend_core.metrics import RoundTrips
from django_backend_core.params import scan
from django_backend_core.secrets import Redactor
from django_backend_core.transport import Result, Statement
from websockets.exceptions import InvalidHandshake, InvalidStatus

from .sql import Shape, analyze, expand_star, transaction_command
from .wire import Closed, WebSocket

CHANGES = "SELECT changes(), last_insert_rowid()"
#: A Durable Object binds at most 100 arguments per statement.
MAX_ARGUMENTS = 100
NO_ROWID = "no such column: rowid"
#: The local server's and the Miniflare Worker's lock-wait timeout (production waits forever):
#: like sqlite3's "database is locked", an OperationalError.
LOCAL_RULES = (Rule(dbapi.OperationalError, message=r"locked by another session"),)


class SocketLost(dbapi.OperationalError):
    """The socket broke or timed out while a request was (possibly) in flight."""


@dataclass
class _Entry:
    """One write of the open transaction, or a savepoint marker (``savepoint`` set)."""

    stmt: Statement | None = None
    rowcount: int = -1
    savepoint: str | None = None
    opened: bool = False  # this SAVEPOINT began the transaction (SQLite semantics)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class DBMSTransport:
    """Transport (see ``django_backend_core.transport``) over a workers-dbms websocket."""

    def __init__(
        self,
        endpoint: str,
        *,
        access_id: str | None = None,
        access_secret: str | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        metrics: RoundTrips | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("ws", "wss"):
            raise dbapi.InterfaceError(
                f"WORKERS_DBMS_ENDPOINT must be a ws:// or wss:// URL, got scheme {parts.scheme!r}"
            )
        if parts.scheme == "ws" and not is_loopback(parts.hostname):
            raise dbapi.InterfaceError(
                "WORKERS_DBMS_ENDPOINT uses ws:// (no TLS) for a non-loopback host; use wss:// "
                "so queries and the Access secret are encrypted."
            )
        self.endpoint = endpoint
        self.loopback = is_loopback(parts.hostname)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.metrics = metrics if metrics is not None else RoundTrips()
        self.redactor = redactor if redactor is not None else Redactor()
        self.redactor.add(access_secret)
        self.errors = ErrorMapper(LOCAL_RULES + SQLITE_RULES, redactor=self.redactor)
        self._headers: dict[str, str] = {}
        if access_id:
            self._headers["CF-Access-Client-Id"] = access_id
        if access_secret:
            self._headers["CF-Access-Client-Secret"] = access_secret
        self._ws: WebSocket | None = None
        self._lock = threading.RLock()
        self.in_transaction = False
        #: ``begin`` was asked for but not sent yet: it goes in front of the next request.
        self._pending_begin = False
        #: Django's autocommit is off: the next write begins a transaction implicitly.
        self.autobegin = False
        self._journal: list[_Entry] = []
        self._columns: dict[str, list[str]] = {}
        self.connects = 0  # sockets opened (tests and benchmarks read it)
        self.closed = False

    def __repr__(self) -> str:
        state = "open" if self.connected else "idle"
        return f"<DBMSTransport {self.redactor.redact(self.endpoint)} {state}>"

    # -- socket -----------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """A socket is open (as far as this side knows; :meth:`WebSocket.alive` asks)."""
        ws = self._ws
        return ws is not None and ws.sock.fileno() >= 0

    def _connect(self) -> WebSocket:
        if self.closed:
            raise dbapi.InterfaceError("The transport is closed.")
        try:
            ws = WebSocket(
                self.endpoint,
                headers=self._headers,
                timeout=self.connect_timeout,
                max_size=64 * 1024 * 1024,
                proxy=not self.loopback,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            body = (exc.response.body or b"")[:200].decode("utf-8", "replace")
            raise self.errors.map(
                f"workers-dbms refused the websocket: HTTP {status} {body}".strip(), status=status
            ) from None
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise self.errors.map_exception(exc) from None
        self.connects += 1
        self._ws = ws
        return ws

    def _drop(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.abort()

    def is_usable(self) -> bool:
        """Not closed, and the socket (if any) was not closed by the server meanwhile."""
        if self.closed:
            return False
        with self._lock:
            return self._ws is None or self._ws.alive()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            ws, self._ws = self._ws, None
            self.in_transaction = False
            self._pending_begin = False
            self._journal.clear()
            if ws is not None:
                ws.close()

    # -- one round trip ---------------------------------------------------------------------
    def request(self, query: str, arguments: list[Any] | None, *, retry: bool) -> Any:
        """Send one execute frame, return the ``result`` object; retry once if ``retry``
        and the socket broke (only safe for reads outside a transaction).

        A ``begin`` still pending (see :meth:`begin`) travels in front of the query."""
        with self._lock:
            begin = self._pending_begin
            if begin:
                query = f"begin;{query}"
                retry = False
            frame = json.dumps(
                {
                    "type": "request",
                    "request": {
                        "type": "execute",
                        "stmt": {"query": query, "arguments": arguments},
                    },
                },
                allow_nan=False,
            )
            retried = False
            while True:
                ws = self._ws
                if ws is None or not ws.alive():
                    if self._ws is not None:  # dropped since the last request: nothing sent
                        self._drop()
                        if self.in_transaction and not begin:
                            self._lost_transaction()
                    ws = self._connect()
                try:
                    sent = ws.send(frame)
                except Closed:
                    # The socket was closed before the frame could leave.
                    self._drop()
                    if self.in_transaction and not begin:
                        self._lost_transaction()
                    if retried:
                        raise self._lost(ConnectionError("closed"), sent=False) from None
                    retried = True
                    continue
                except OSError as exc:
                    self._drop()
                    if self.in_transaction:
                        self._lost_transaction()
                    raise self._lost(exc, sent=True) from None
                try:
                    raw = ws.recv(timeout=self.timeout)
                except (Closed, OSError, TimeoutError) as exc:
                    self._drop()
                    if self.in_transaction:
                        self._lost_transaction()
                    if retry and not retried:
                        retried = True
                        self.metrics.retries += 1
                        continue
                    raise self._lost(exc, sent=True) from None
                self.metrics.record(sent=sent, received=len(raw))
                if not begin:
                    return self._decode(raw)
                try:
                    result = self._decode(raw)
                except dbapi.Error as exc:
                    # The Worker waits for the lock before it reads the query: a lock
                    # timeout means the begin never ran (the next request sends it again).
                    if "locked by another session" not in str(exc):
                        self._pending_begin = False
                    raise
                self._pending_begin = False
                return result

    def _lost_transaction(self) -> None:
        self.in_transaction = False
        self._pending_begin = False
        self._journal.clear()
        raise dbapi.OperationalError(
            "The workers-dbms socket was lost inside a transaction, which cannot go on over a "
            "new socket; this client committed nothing of it. The local server and the "
            "Miniflare Worker roll it back; production workers-dbms keeps the writes already "
            "made and its lock (see docs/backends/dbms.md). Retry the whole transaction."
        )

    def _lost(self, exc: BaseException, *, sent: bool) -> dbapi.Error:
        what = type(exc).__name__
        if isinstance(exc, TimeoutError):
            msg = f"workers-dbms did not answer within {self.timeout:g} s; the socket was closed"
        else:
            msg = f"the workers-dbms socket broke ({what})"
        if sent:
            msg += "; the statement may or may not have been applied (writes are never re-sent)"
        return SocketLost(self.redactor.redact(msg))

    def _decode(self, raw: str | bytes) -> Any:
        try:
            msg = json.loads(raw)
        except ValueError:
            self._drop()
            raise dbapi.InterfaceError("workers-dbms sent a frame that is not JSON") from None
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "execute":
            result = msg.get("result") or {}
            # Row values are JSON scalars, except a BLOB, which JSON.stringify prints as {}:
            # without those two bytes in the frame, rows need no per-value check.
            if b"{}" in raw if isinstance(raw, bytes) else "{}" in raw:
                result["_objects"] = True
            return result
        if kind == "response_error":
            text = str(msg.get("error", ""))
            if text.startswith("Error: "):
                text = text[len("Error: ") :]
            raise self.errors.map(text, payload=msg)
        self._drop()
        raise dbapi.InterfaceError(f"unexpected workers-dbms frame type {kind!r}")

    # -- Transport API ----------------------------------------------------------------------
    def execute(self, stmt: Statement) -> Result:
        command = transaction_command(stmt.sql)
        if command is not None:
            return self._transaction_command(*command)
        shape = analyze(stmt.sql)
        if self.autobegin and not self.in_transaction and shape.kind in ("dml", "other"):
            self.begin()  # autocommit off: a write opens the transaction, as sqlite3 does
        result = self._run(stmt, shape)
        if self.in_transaction and shape.kind not in ("read", "star"):
            if not (shape.kind == "rows" and not shape.multi):
                self._journal.append(_Entry(stmt, result.rowcount))
        return result

    def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Run statements atomically: inside the open transaction, or in their own one.

        Without parameters they travel as ONE request (``begin;s1;...;sn;commit``); with
        parameters each is its own round trip (only a query's last statement may carry
        arguments) between begin and commit.
        """
        if not stmts:
            return []
        if all(not s.params for s in stmts) and not any(transaction_command(s.sql) for s in stmts):
            self.script([s.sql for s in stmts])
            return [Result() for _ in stmts]
        with self._lock:
            if self.in_transaction:
                return [self.execute(s) for s in stmts]
            self.begin()
            try:
                results = [self.execute(s) for s in stmts]
            except BaseException:
                self._quiet_rollback()
                raise
            self.commit()
            return results

    def script(self, sqls: Sequence[str]) -> None:
        """Parameterless statements in one request, atomically."""
        for sql in sqls:
            if analyze(sql).multi:
                raise dbapi.ProgrammingError("script() takes one statement per item")
        body = ";".join(sql.strip().rstrip(";") for sql in sqls)
        with self._lock:
            if self.in_transaction:
                self.request(body, None, retry=False)
                self._journal.extend(_Entry(Statement(sql, []), -1) for sql in sqls)
                return
            try:
                self.request(f"begin;{body};commit", None, retry=False)
            except dbapi.DatabaseError:
                # A statement failed after begin: the transaction is open and holds the lock.
                self.in_transaction = True
                self._quiet_rollback()
                raise

    def _quiet_rollback(self) -> None:
        try:
            self.rollback()
        except dbapi.Error:
            pass

    def _table_columns(self, table: str) -> list[str]:
        """Columns ``SELECT *`` yields for a table (cached until the next DDL statement)."""
        cols = self._columns.get(table)
        if cols is None:
            result = self.request(
                "SELECT name FROM pragma_table_xinfo(?) WHERE hidden IN (0, 2, 3) ORDER BY cid",
                [table],
                retry=not self.in_transaction,
            )
            cols = [row[0] for row in result.get("results") or []]
            self._columns[table] = cols
        return cols

    def _run(self, stmt: Statement, shape: Shape) -> Result:
        if len(stmt.params) > MAX_ARGUMENTS:
            stmt = fit_arguments(stmt)
            shape = analyze(stmt.sql)
        if shape.kind == "star":
            shape = expand_star(shape, {t: self._table_columns(t) for t, _ in shape.tables})
        elif shape.kind == "other":
            self._columns.clear()  # DDL may change what SELECT * returns
        args = list(stmt.params) if stmt.params else None
        retry_read = shape.kind in ("read", "rows") and not shape.multi and not self.in_transaction
        if shape.kind == "dml" and not shape.returning:
            if not args:
                result = self.request(f"{shape.sql};{CHANGES}", None, retry=False)
                rows = result.get("results") or [[-1, None]]
                changes, lastrowid = rows[-1][0], rows[-1][1]
                return Result([], [], int(changes), _int(lastrowid), payload=result)
            if shape.verb in ("INSERT", "REPLACE"):
                try:
                    result = self.request(f"{shape.sql} RETURNING rowid", args, retry=False)
                except dbapi.OperationalError as exc:
                    if NO_ROWID not in str(exc):
                        raise
                else:
                    rows = result.get("results") or []
                    last = _int(rows[-1][0]) if rows else None
                    return Result([], [], len(rows), last, payload=result)
            result = self.request(f"{shape.sql} RETURNING 1", args, retry=False)
            return Result([], [], len(result.get("results") or []), None, payload=result)
        result = self.request(shape.sql, args, retry=retry_read)
        results = result.get("results") or []
        if result.pop("_objects", False):
            rows = [tuple(_value(v) for v in r) for r in results]
        else:
            rows = list(map(tuple, results))
        if shape.kind == "dml":  # its own RETURNING
            return Result(list(shape.names), rows, len(rows), None, payload=result)
        columns = list(shape.names)
        if not columns and rows:
            columns = [f"column{i + 1}" for i in range(len(rows[0]))]
        return Result(columns, rows, -1, None, payload=result)

    # -- transactions -----------------------------------------------------------------------
    def _transaction_command(self, command: str, name: str | None) -> Result:
        if command == "begin":
            self.begin()
        elif command == "commit":
            self.commit()
        elif command == "rollback":
            self.rollback()
        elif command == "savepoint":
            self.savepoint(name or "")
        elif command == "release":
            self.release(name or "")
        else:
            self.rollback_to(name or "")
        return Result()

    def begin(self) -> None:
        """Open a transaction; the ``begin`` travels with the transaction's first statement.

        The Worker splits each query on ``;`` and runs a ``begin`` piece before the rest, so
        ``begin;<first statement>`` is one round trip instead of two, and a transaction that
        runs no statement costs none."""
        with self._lock:
            if self.in_transaction:
                raise dbapi.OperationalError("cannot start a transaction within a transaction")
            self.in_transaction = True
            self._pending_begin = True
            self._journal.clear()

    def commit(self) -> None:
        with self._lock:
            if not self.in_transaction:
                return
            if self._pending_begin:  # nothing was sent: nothing to commit
                self._pending_begin = False
                self.in_transaction = False
                self._journal.clear()
                return
            try:
                self.request("commit", None, retry=False)
            except dbapi.DatabaseError:
                # A deferred constraint failed at commit: the object reset and rolled the
                # transaction back; it drops every socket after this answer.
                self._drop()
                raise
            finally:
                self.in_transaction = False
                self._journal.clear()

    def rollback(self) -> None:
        with self._lock:
            if not self.in_transaction:
                return
            self.in_transaction = False
            self._journal.clear()
            if self._pending_begin:  # nothing was sent: nothing to undo
                self._pending_begin = False
                return
            try:
                self.request("rollback", None, retry=False)
            except SocketLost:
                # The object aborts right after its reply, which may be lost with the socket;
                # either way the transaction is over and the socket is gone.
                pass
            finally:
                # The Worker aborts the object after replying: every socket is dropped.
                self._drop()

    def savepoint(self, name: str) -> None:
        """As in SQLite, a SAVEPOINT outside a transaction begins one."""
        with self._lock:
            opened = not self.in_transaction
            if opened:
                self.begin()
            self._journal.append(_Entry(savepoint=name, opened=opened))

    def _marker(self, name: str) -> int:
        for i in range(len(self._journal) - 1, -1, -1):
            if self._journal[i].savepoint == name:
                return i
        raise dbapi.OperationalError(f"no such savepoint: {name}")

    def release(self, name: str) -> None:
        """Forget the savepoint; releasing the one that began the transaction commits."""
        with self._lock:
            index = self._marker(name)
            if self._journal[index].opened:
                self.commit()
                return
            del self._journal[index]

    def rollback_to(self, name: str) -> None:
        """Roll the transaction back, begin again, replay the writes made before ``name``."""
        with self._lock:
            keep = self._journal[: self._marker(name) + 1]
            writes = [e for e in keep if e.stmt is not None]
            if len(writes) == sum(1 for e in self._journal if e.stmt is not None):
                self._journal = keep  # nothing written since the savepoint
                return
            self.rollback()
            self.begin()
            for entry in writes:
                assert entry.stmt is not None
                try:
                    result = self._run(entry.stmt, analyze(entry.stmt.sql))
                except dbapi.Error as exc:
                    self.rollback()
                    raise dbapi.OperationalError(
                        f"rolling back to savepoint {name!r} failed while replaying the "
                        f"transaction ({exc}); the whole transaction was rolled back"
                    ) from None
                if entry.rowcount >= 0 and result.rowcount != entry.rowcount:
                    self.rollback()
                    raise dbapi.OperationalError(
                        f"rolling back to savepoint {name!r} could not reproduce the "
                        "transaction (a replayed statement changed a different number of rows); "
                        "the whole transaction was rolled back"
                    )
            self._journal = keep


def sql_literal(value: Any) -> str | None:
    """A SQLite literal equal to the bound value, or None if there is no exact one."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        if "\x00" in value:
            return f"CAST(X'{value.encode().hex()}' AS TEXT)"
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return None


def fit_arguments(stmt: Statement) -> Statement:
    """Write the first arguments as literals until at most 100 remain bound.

    Django sends ``IN (...)`` lists and OR-ed filters of any length; SQLite accepts 32766
    variables but a Durable Object only 100. Literals are encoded exactly (quotes doubled),
    never pasted.
    """
    excess = len(stmt.params) - MAX_ARGUMENTS
    out: list[str] = []
    args: list[Any] = []
    index = 0
    for kind, text in scan(stmt.sql, "sqlite"):
        if kind != "code":
            out.append(text)
            continue
        pieces = text.split("?")
        out.append(pieces[0])
        for piece in pieces[1:]:
            value = stmt.params[index]
            index += 1
            literal = sql_literal(value) if excess > 0 else None
            if literal is not None:
                excess -= 1
                out.append(literal)
            else:
                out.append("?")
                args.append(value)
            out.append(piece)
    if index != len(stmt.params) or excess > 0:
        raise dbapi.OperationalError(
            f"too many SQL variables: {len(stmt.params)} (a Durable Object binds at most "
            f"{MAX_ARGUMENTS}); split the query"
        )
    return Statement("".join(out), args)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _value(value: Any) -> Any:
    if isinstance(value, dict | list):
        raise dbapi.NotSupportedError(
            "workers-dbms returned a BLOB, which its JSON encoding turns into {} (the bytes are "
            "lost); select hex(column) and decode it instead."
        )
    return value
