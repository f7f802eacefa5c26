"""One PEP 249 cursor for every backend, over a :class:`~.transport.Transport`.

Django drives backends through a DB-API cursor (``description``, ``rowcount``, ``lastrowid``,
``fetch*``, ``executemany``). Stores answer with JSON or driver rows instead, so each backend
would otherwise re-implement the same bookkeeping; here it lives once, with parameter
translation (``params.translate``) on the way in. ``executemany`` is one ``transport.batch``
call, i.e. one round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .dbapi import Connection, NotSupportedError, ProgrammingError
from .params import translate
from .transport import Result, Statement

if TYPE_CHECKING:
    from .transport import Transport

Description = tuple[tuple[str, Any, None, None, None, None, None], ...]
Params = Sequence[Any] | Mapping[str, Any] | None


class Cursor:
    """PEP 249 cursor. Build it with ``connection.cursor()`` (or ``Cursor(transport, ...)``,
    which wraps the transport in a ``dbapi.Connection`` with the same keyword arguments).

    Subclasses (e.g. one that splits statements to fit a store's limits) may override
    ``execute``/``executemany`` and use these stable helpers: ``_check_open()``,
    ``_reset()``, ``_statement(sql, params) -> Statement`` (adapt + translate) and
    ``_load(result)`` (sets description, rows, rowcount, lastrowid).
    """

    def __init__(self, connection: Connection | Transport, **connection_kwargs: Any) -> None:
        if not isinstance(connection, Connection):
            connection = Connection(connection, **connection_kwargs)
        elif connection_kwargs:
            raise TypeError("connection options belong to the Connection, not the Cursor")
        self.connection = connection
        self.arraysize = 1
        self.description: Description | None = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.result: Result | None = None  # the last Result (payload, meta) for backends
        self.closed = False
        self._rows: list[Any] = []
        self._pos = 0

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<{type(self).__name__} {state} rowcount={self.rowcount}>"

    # --- helpers --------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise ProgrammingError("Cannot operate on a closed cursor.")
        if self.connection.closed:
            raise ProgrammingError("Cannot operate on a closed database connection.")

    def _statement(self, sql: str, params: Params) -> Statement:
        conn = self.connection
        adapt = conn.adapt_param
        if adapt is not None and params is not None:
            if isinstance(params, Mapping):
                params = {k: adapt(v) for k, v in params.items()}
            else:
                params = [adapt(v) for v in params]
        text, args = translate(
            sql, params, conn.placeholder, conn.inline_param, dialect=conn.dialect
        )
        return Statement(text, args)

    def _load(self, result: Result) -> None:
        self.result = result
        if result.columns:
            types = result.types or [None] * len(result.columns)
            self.description = tuple(
                (name, type_code, None, None, None, None, None)
                for name, type_code in zip(result.columns, types, strict=False)
            )
        else:
            self.description = None
        self._rows = result.rows
        self._pos = 0
        self.rowcount = result.rowcount
        if result.lastrowid is not None:
            self.lastrowid = result.lastrowid

    def _reset(self) -> None:
        self.description = None
        self.rowcount = -1
        self.result = None
        self._rows = []
        self._pos = 0

    # --- PEP 249 --------------------------------------------------------------------------

    def execute(self, sql: str, params: Params = None) -> Cursor:
        self._check_open()
        self._reset()
        stmt = self._statement(sql, params)
        self._load(self.connection.transport.execute(stmt))
        self.connection._note_statement(sql)
        return self

    def executemany(self, sql: str, seq_of_params: Iterable[Params]) -> Cursor:
        """All parameter sets in one ``transport.batch`` call (one round trip)."""
        self._check_open()
        self._reset()
        stmts = [self._statement(sql, params) for params in seq_of_params]
        if not stmts:
            self.rowcount = 0
            return self
        results = self.connection.transport.batch(stmts)
        if len(results) != len(stmts):
            raise ProgrammingError(
                f"transport returned {len(results)} results for {len(stmts)} statements"
            )
        counts = [r.rowcount for r in results]
        self.rowcount = -1 if any(c < 0 for c in counts) else sum(counts)
        for r in results:
            if r.lastrowid is not None:
                self.lastrowid = r.lastrowid
        self.result = results[-1]
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        self._check_open()
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row if type(row) is tuple else tuple(row)

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        self._check_open()
        if size is None:
            size = self.arraysize
        end = min(self._pos + max(size, 0), len(self._rows))
        rows = self._rows[self._pos : end]
        self._pos = end
        return [r if type(r) is tuple else tuple(r) for r in rows]

    def fetchall(self) -> list[tuple[Any, ...]]:
        self._check_open()
        rows = self._rows[self._pos :]
        self._pos = len(self._rows)
        return [r if type(r) is tuple else tuple(r) for r in rows]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self

    def __next__(self) -> tuple[Any, ...]:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    @property
    def rownumber(self) -> int | None:
        """Index of the next row in the result set (PEP 249 extension)."""
        return self._pos if self.description is not None else None

    def close(self) -> None:
        """Drop the result; later use raises ProgrammingError. Idempotent."""
        self.closed = True
        self._rows = []
        self._pos = 0

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def setinputsizes(self, sizes: Any) -> None:
        """PEP 249 says implementations may do nothing here; the stores need no sizes."""

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        """PEP 249 says implementations may do nothing here; the stores need no sizes."""

    def callproc(self, procname: str, parameters: Sequence[Any] = ()) -> Sequence[Any]:
        raise NotSupportedError(
            "Stored procedures are not supported by this store; run the SQL with execute()."
        )

    def nextset(self) -> bool | None:
        raise NotSupportedError("Multiple result sets are not supported; run one statement.")
