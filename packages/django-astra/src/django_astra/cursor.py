"""``connection.cursor()``: CQL in, the driver's ResultSet (dict rows) out.

``cursor.execute(cql, params)`` returns the ResultSet so the LWT idiom works
(``.one()["[applied]"]``); the PEP 249 fetch methods return tuples in column order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django_backend_core import dbapi

if TYPE_CHECKING:
    from .connection import CassandraConnection


class CassandraCursor:
    arraysize = 100

    def __init__(self, conn: CassandraConnection):
        self.conn = conn
        self.result: Any = None
        self._rows: list[dict[str, Any]] | None = None
        self._pos = 0
        self.rowcount = -1
        self.lastrowid = None
        self.description: list[tuple[Any, ...]] | None = None
        self.closed = False

    def execute(self, cql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """Run one CQL statement with bound params; ``%s``/``%(name)s`` placeholders as in Django."""
        if self.closed:
            raise dbapi.InterfaceError("Cursor is closed.")
        rs = self.conn.execute(cql, params)
        self._set(rs)
        return rs

    def executemany(self, cql: str, seq_of_params: Sequence[Any]) -> None:
        """All parameter sets in one unlogged BATCH round trip (Cassandra batches are per statement list)."""
        self.conn.batch([(cql, p) for p in seq_of_params], logged=False)
        self._set(None)
        self.rowcount = len(seq_of_params)

    def batch(
        self, statements: Sequence[tuple[str, Any]], *, logged: bool = True, counter: bool = False
    ) -> Any:
        """Run several INSERT/UPDATE/DELETE statements as one Cassandra BATCH (COUNTER for counters)."""
        rs = self.conn.batch(list(statements), logged=logged, counter=counter)
        self._set(rs)
        return rs

    def _set(self, rs: Any) -> None:
        self.result = rs
        self._rows = None
        self._pos = 0
        self.rowcount = -1
        self.description = None
        names = getattr(rs, "column_names", None) if rs is not None else None
        if names:
            self.description = [(n, None, None, None, None, None, None) for n in names]

    def _materialize(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = list(self.result) if self.result is not None else []
            self.rowcount = len(self._rows)
        return self._rows

    def _tuple(self, row: Any) -> tuple[Any, ...]:
        if isinstance(row, dict):
            return tuple(row.values())
        return tuple(row)

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self._materialize()
        if self._pos >= len(rows):
            return None
        self._pos += 1
        return self._tuple(rows[self._pos - 1])

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        rows = self._materialize()
        n = size or self.arraysize
        out = rows[self._pos : self._pos + n]
        self._pos += len(out)
        return [self._tuple(r) for r in out]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self._materialize()
        out = rows[self._pos :]
        self._pos = len(rows)
        return [self._tuple(r) for r in out]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        self.closed = True

    def setinputsizes(self, *args: Any) -> None:
        pass

    def setoutputsize(self, *args: Any) -> None:
        pass

    def __enter__(self) -> CassandraCursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
