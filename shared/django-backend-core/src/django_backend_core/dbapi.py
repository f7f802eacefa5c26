"""A PEP 249 module a backend hands to Django as ``Database``.

Django's ``BaseDatabaseWrapper`` wraps driver exceptions by *name* (``Database.IntegrityError``
and friends) and reads ``Database.Binary`` etc., so every backend needs a module with the full
PEP 249 surface even when the "driver" is an HTTP client or a websocket. Writing it once here
means all backends raise the same classes, and every error carries the store's original
(redacted) payload for debugging.

``Connection`` is the PEP 249 connection over a :class:`~django_backend_core.transport.Transport`:
it owns the transport, the placeholder style and the round-trip counters of one Django
connection.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .metrics import RoundTrips

if TYPE_CHECKING:
    from .cursor import Cursor
    from .transport import Transport

apilevel = "2.0"
threadsafety = 1  # threads may share the module, not connections (Django's model).
paramstyle = "format"  # what Django emits; params.translate converts to the store's style.


class Warning(Exception):  # noqa: A001 - the PEP 249 name
    """Important warnings (PEP 249)."""


class Error(Exception):
    """Base of all PEP 249 errors.

    ``payload`` is the store's original error object (JSON dict, driver exception text, ...)
    with secrets redacted; ``code`` is the store's error code and ``sqlstate`` the SQLSTATE,
    when the store has them. ``args`` stays ``(message,)`` because Django re-raises driver
    errors as ``dj_exc_type(*exc.args)``.
    """

    def __init__(
        self,
        message: str = "",
        *,
        payload: Any = None,
        code: int | str | None = None,
        sqlstate: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.payload = payload
        self.code = code
        self.sqlstate = sqlstate
        self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InterfaceError(Error):
    """Errors of the database interface rather than the database (PEP 249)."""


class DatabaseError(Error):
    """Errors related to the database (PEP 249)."""


class DataError(DatabaseError):
    """Problems with the processed data: value too big, out of range, wrong type."""


class OperationalError(DatabaseError):
    """Errors in the database's operation: connection lost, locked, missing table, ..."""


class IntegrityError(DatabaseError):
    """Relational integrity violated: unique, foreign key, not null, check."""


class InternalError(DatabaseError):
    """The database hit an internal error."""


class ProgrammingError(DatabaseError):
    """Programming errors: wrong number of parameters, closed cursor, bad SQL usage."""


class NotSupportedError(DatabaseError):
    """The store cannot do what was asked; the message says what to do instead."""


# --- type constructors and type objects (PEP 249) -------------------------------------------

Binary = bytes
Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime


def DateFromTicks(ticks: float) -> datetime.date:  # noqa: N802 - PEP 249 name
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:  # noqa: N802 - PEP 249 name
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:  # noqa: N802 - PEP 249 name
    return Timestamp(*time.localtime(ticks)[:6])


class DBAPITypeObject:
    """Compares equal to any of the type codes it stands for (PEP 249 type objects)."""

    def __init__(self, name: str, *values: object) -> None:
        self.name = name
        self.values = frozenset(values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self.values == other.values
        try:
            return other in self.values
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.values)

    def __repr__(self) -> str:
        return f"<DBAPITypeObject {self.name}>"


STRING = DBAPITypeObject("STRING", "TEXT", "STRING", "VARCHAR", "CHAR", "text", "string", str)
BINARY = DBAPITypeObject("BINARY", "BLOB", "BINARY", "BYTEA", "blob", "bytes", bytes)
NUMBER = DBAPITypeObject(
    "NUMBER", "INTEGER", "REAL", "NUMERIC", "INT", "BIGINT", "FLOAT", "DECIMAL", "integer",
    "real", "number", int, float,
)  # fmt: skip
DATETIME = DBAPITypeObject(
    "DATETIME", "DATE", "TIME", "TIMESTAMP", "DATETIME", "date", "timestamp",
    datetime.date, datetime.time, datetime.datetime,
)  # fmt: skip
ROWID = DBAPITypeObject("ROWID", "ROWID", "rowid")


_TX_STATEMENT = re.compile(
    r"\s*(BEGIN|START(?=\s+TRANSACTION)|COMMIT|END|ROLLBACK(?!\s+(?:TRANSACTION\s+)?TO\b))\b",
    re.IGNORECASE,
)

# --- connection -----------------------------------------------------------------------------


class Connection:
    """PEP 249 connection over one transport (one per Django connection).

    ``placeholder`` is the store's parameter style (``"qmark"``, ``"dollar"`` or
    ``"numeric"``); ``adapt_param(value)`` converts each parameter before it is sent (e.g.
    ``Decimal`` -> ``str``); ``inline_param(value)`` may return a SQL literal to put in place
    of a placeholder (see :func:`django_backend_core.params.translate`). ``metrics`` defaults
    to the transport's ``metrics`` attribute, or a fresh :class:`RoundTrips`.

    Transactions: ``begin``/``commit``/``rollback`` delegate to the transport's methods of the
    same name. Without them, ``begin()`` raises NotSupportedError (nothing pretends to be
    atomic), and commit/rollback are no-ops only when no transaction is open; when SQL
    ``BEGIN`` was sent through a cursor (Django's sqlite backend does that), they send
    ``COMMIT``/``ROLLBACK`` like Python's sqlite3 does, so the store decides.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        placeholder: str = "qmark",
        adapt_param: Callable[[Any], Any] | None = None,
        inline_param: Callable[[Any], str | None] | None = None,
        metrics: RoundTrips | None = None,
        dialect: str | None = None,
    ) -> None:
        from .params import check_style

        check_style(placeholder)
        self.transport = transport
        self.placeholder = placeholder
        self.dialect = dialect
        self.adapt_param = adapt_param
        self.inline_param = inline_param
        if metrics is None:
            metrics = getattr(transport, "metrics", None)
        self.metrics: RoundTrips = metrics if isinstance(metrics, RoundTrips) else RoundTrips()
        self.closed = False
        self._in_transaction = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<{type(self).__name__} {state} transport={type(self.transport).__name__}>"

    def _check_open(self) -> None:
        if self.closed:
            raise ProgrammingError("Cannot operate on a closed database connection.")

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open (the transport's view when it has one)."""
        value = getattr(self.transport, "in_transaction", None)
        if isinstance(value, bool):
            return value
        return self._in_transaction

    def cursor(self) -> Cursor:
        from .cursor import Cursor

        self._check_open()
        return Cursor(self)

    def execute(self, sql: str, params: Any = None) -> Cursor:
        """Shortcut like ``sqlite3.Connection.execute``: a new cursor that ran ``sql``."""
        cur = self.cursor()
        cur.execute(sql, params)
        return cur

    def begin(self) -> None:
        self._check_open()
        begin = getattr(self.transport, "begin", None)
        if begin is None:
            raise NotSupportedError(
                f"{type(self.transport).__name__} cannot hold a transaction open; "
                "run the statements as one atomic batch (cursor.executemany or the "
                "backend's batch API) instead."
            )
        begin()
        self._in_transaction = True

    def commit(self) -> None:
        self._check_open()
        commit = getattr(self.transport, "commit", None)
        if commit is not None:
            commit()
        elif self.in_transaction:
            self._send("COMMIT")
        self._in_transaction = False

    def rollback(self) -> None:
        self._check_open()
        rollback = getattr(self.transport, "rollback", None)
        if rollback is not None:
            rollback()
        elif self.in_transaction:
            self._send("ROLLBACK")
        self._in_transaction = False

    def _send(self, sql: str) -> None:
        from .transport import Statement

        try:
            self.transport.execute(Statement(sql, []))
        finally:
            self._in_transaction = False

    def _note_statement(self, sql: str) -> None:
        """Track transaction state from SQL run through a cursor (BEGIN/COMMIT/ROLLBACK)."""
        m = _TX_STATEMENT.match(sql)
        if m is not None:
            self._in_transaction = m.group(1).upper() in ("BEGIN", "START")

    def close(self) -> None:
        """Close the transport; idempotent (Django may close twice)."""
        if self.closed:
            return
        self.closed = True
        self._in_transaction = False
        self.transport.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(transport: Transport, **kwargs: Any) -> Connection:
    """PEP 249 ``connect``: wrap a ready transport (backends build the transport)."""
    return Connection(transport, **kwargs)


__all__ = [
    "apilevel",
    "threadsafety",
    "paramstyle",
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
    "Binary",
    "Date",
    "Time",
    "Timestamp",
    "DateFromTicks",
    "TimeFromTicks",
    "TimestampFromTicks",
    "STRING",
    "BINARY",
    "NUMBER",
    "DATETIME",
    "ROWID",
    "Connection",
    "connect",
]
