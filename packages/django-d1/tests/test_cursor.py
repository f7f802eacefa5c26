"""D1Cursor keeps statements inside D1's limits (pure functions, scripted transport)."""

from __future__ import annotations

import pytest
from django_backend_core import dbapi
from django_backend_core.testing import ScriptedTransport
from django_backend_core.transport import Result
from django_d1.cursor import MAX_STATEMENT_BYTES, D1Cursor, inline_any, inline_int, split_insert


def test_inline_literals():
    assert inline_int(7) == "7" and inline_int(True) is None and inline_int("7") is None
    assert inline_any("it's") == "'it''s'"
    assert inline_any(None) == "NULL"
    assert inline_any(1.5) == "1.5" and inline_any(2.0) == "2.0" and inline_any(1e300) == "1e+300"
    assert inline_any([0, 255]) == "X'00ff'"
    assert inline_any("nul\x00byte") is None  # kept bound
    with pytest.raises(dbapi.DataError):
        inline_any(float("nan"))


def test_split_insert_rows_and_suffix():
    sql = 'INSERT INTO "t" ("a", "b") VALUES (%s, \'(x,%%s)\'), (%s, NULL) RETURNING "t"."id"'
    head, rows, tail = split_insert(sql)
    assert head == 'INSERT INTO "t" ("a", "b") VALUES '
    assert rows == [("(%s, '(x,%%s)')", 1), ("(%s, NULL)", 1)]
    assert tail == ' RETURNING "t"."id"'
    assert split_insert("UPDATE t SET a = %s") is None
    assert split_insert("INSERT INTO t VALUES (%s)") is None  # one row: nothing to split


def conn(respond=None):
    transport = ScriptedTransport(respond)
    return dbapi.Connection(transport, inline_param=inline_int, adapt_param=lambda v: v), transport


def test_more_than_100_parameters_are_inlined():
    c, transport = conn()
    D1Cursor(c).execute(
        "SELECT * FROM t WHERE a IN (" + ", ".join(["%s"] * 150) + ")",
        [f"v{i}" for i in range(150)],
    )
    (kind, stmt) = transport.calls[0]
    assert kind == "execute" and stmt.params == [] and "'v149'" in stmt.sql


def test_ints_never_use_parameter_slots():
    c, transport = conn()
    D1Cursor(c).execute("SELECT %s, %s", [5, "x"])
    assert transport.calls[0][1].sql == "SELECT 5, ?" and transport.calls[0][1].params == ["x"]


def test_long_insert_is_split_into_one_batch():
    def respond(stmt):
        n = stmt.sql.count("), (") + 1
        return Result(columns=["id"], rows=[(i,) for i in range(n)], rowcount=n, lastrowid=n)

    c, transport = conn(respond)
    rows = [(i, "x" * 200) for i in range(2000)]
    sql = "INSERT INTO t (a, b) VALUES " + ", ".join(["(%s, %s)"] * len(rows)) + " RETURNING id"
    cur = D1Cursor(c)
    cur.execute(sql, [v for row in rows for v in row])
    assert [kind for kind, _ in transport.calls] == ["batch"]
    stmts = transport.calls[0][1]
    assert len(stmts) >= 4
    assert all(len(s.sql.encode()) <= MAX_STATEMENT_BYTES and len(s.params) <= 100 for s in stmts)
    assert all(s.sql.endswith(" RETURNING id") for s in stmts)
    assert cur.rowcount == 2000 and len(cur.fetchall()) == 2000


def test_a_long_non_insert_statement_is_refused():
    c, _ = conn()
    # (Long bound values are fine: D1's limit is on the statement text.)
    with pytest.raises(dbapi.DataError, match="100000 bytes"):
        D1Cursor(c).execute("SELECT '" + "x" * MAX_STATEMENT_BYTES + "', %s", [1])
