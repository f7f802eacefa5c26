"""Statement shaping for the workers-dbms wire (no server needed)."""

from __future__ import annotations

import pytest
from django_backend_core import dbapi
from django_backend_core.transport import Statement
from django_dbms.sql import analyze, transaction_command
from django_dbms.transport import DBMSTransport, fit_arguments


def test_colliding_and_integer_like_names_get_aliases():
    shape = analyze('SELECT "a"."id", "b"."id", 1, "a"."name" AS "n" FROM a JOIN b')
    assert shape.kind == "read"
    assert shape.names == ["id", "id", "1", "n"]
    assert shape.sql == (
        'SELECT "a"."id" AS "_c0", "b"."id" AS "_c1", 1 AS "_c2", "a"."name" AS "n" FROM a JOIN b'
    )


def test_unique_names_are_left_alone_and_nested_selects_untouched():
    sql = 'SELECT "t"."id", COUNT(*) c, (SELECT 1, 2) FROM t GROUP BY 1'
    shape = analyze(sql)
    assert shape.sql == sql
    assert shape.names == ["id", "c", "(SELECT 1, 2)"]


def test_kinds_returning_and_trailing_semicolon():
    assert analyze("INSERT INTO t VALUES (?);").sql == "INSERT INTO t VALUES (?)"
    assert analyze("INSERT INTO t VALUES (?) RETURNING id").returning
    assert analyze("WITH x AS (SELECT 1) UPDATE t SET a = 1").verb == "UPDATE"
    assert analyze("PRAGMA table_info(t)").kind == "rows"
    assert analyze("CREATE TABLE t (a)").kind == "other"
    assert analyze("SELECT 1; SELECT 2").multi


def test_pieces_the_worker_would_intercept_are_refused():
    with pytest.raises(dbapi.NotSupportedError, match="splits every query"):
        analyze("SELECT 'a;commit;b'")
    analyze("SELECT 'a;b'")  # a plain ';' in a literal is fine


def test_transaction_commands():
    assert transaction_command("BEGIN IMMEDIATE") == ("begin", None)
    assert transaction_command('SAVEPOINT "s1"') == ("savepoint", "s1")
    assert transaction_command('ROLLBACK TO SAVEPOINT "s1"') == ("rollback_to", "s1")
    assert transaction_command('RELEASE SAVEPOINT "s1"') == ("release", "s1")
    assert transaction_command("SELECT 1") is None


def test_fit_arguments_encodes_the_excess_exactly():
    params = [f"o'k;{i}" for i in range(103)] + [1.5, None]
    sql = "SELECT '?' WHERE a IN (" + ", ".join("?" * 1 for _ in params) + ")"
    fitted = fit_arguments(Statement(sql, params))
    assert len(fitted.params) == 100
    assert fitted.sql.startswith("SELECT '?' WHERE a IN ('o''k;0', 'o''k;1'")
    assert fitted.params[-2:] == [1.5, None]


def test_plain_ws_refused_for_remote_hosts():
    with pytest.raises(dbapi.InterfaceError, match="wss://"):
        DBMSTransport("ws://db.example.com/api/v1/databases/main/websocket")
    DBMSTransport("ws://[::1]:1/api/v1/databases/main/websocket").close()
