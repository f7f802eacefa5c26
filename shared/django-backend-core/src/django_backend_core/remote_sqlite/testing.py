"""A transport over a plain Python ``sqlite3`` connection WITHOUT Django's functions.

For tests of the remote-SQLite dialect: if Django emitted any ``django_*`` function, REGEXP,
LPAD, POWER... it fails here exactly as on a remote server ("no such function").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from .. import dbapi
from ..errors import SQLITE_RULES, ErrorMapper
from ..metrics import RoundTrips
from ..transport import Result, Statement

_MAPPER = ErrorMapper(SQLITE_RULES)


class PlainSQLiteTransport:
    """Each execute/batch is one implicit transaction, like D1 and Durable Objects."""

    def __init__(self, path: str = ":memory:") -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA foreign_keys = ON")
        # D1 and Durable Objects refuse LIKE/GLOB patterns longer than 50 bytes.
        self.conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50)
        self.metrics = RoundTrips()

    def _run(self, stmts: Sequence[Statement]) -> list[Result]:
        out = []
        self.conn.execute("BEGIN")
        try:
            for stmt in stmts:
                before = self.conn.total_changes
                cur = self.conn.execute(stmt.sql, stmt.params)
                rows = [tuple(r) for r in cur.fetchall()]
                columns = [d[0] for d in cur.description] if cur.description else []
                changes = self.conn.total_changes - before
                out.append(
                    Result(
                        columns=columns,
                        rows=rows,
                        rowcount=changes if not columns or changes else -1,
                        lastrowid=cur.lastrowid if changes else None,
                    )
                )
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise _MAPPER.map(str(exc), sqlite=getattr(exc, "sqlite_errorcode", None)) from None
        self.metrics.record(statements=len(stmts))
        return out

    def execute(self, stmt: Statement) -> Result:
        return self._run([stmt])[0]

    def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        return self._run(stmts)

    def close(self) -> None:
        self.conn.close()


__all__ = ["PlainSQLiteTransport", "dbapi"]
