"""The local server speaks workers-dbms as the production Worker does (raw frames only).

Each expectation below was observed on workerd (Miniflare 4.20260420) or is stated by the
Worker's source; the same tests run against the Miniflare Worker with CLOUDFLARE_MINIFLARE=1.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from django_dbms.testing import Raw
from websockets.exceptions import ConnectionClosed


def test_plain_http_gets_426_and_bad_ids_are_refused(dbms_target, db_id):
    http = dbms_target.endpoint(db_id).replace("ws://", "http://")
    r = httpx.get(http)
    assert r.status_code == 426
    assert "Upgrade: websocket" in r.text
    for bad in ("abc", "a" * 33, "Upper", "a--b", "-abc", "ab.cd"):
        url = dbms_target.endpoint(bad).replace("ws://", "http://")
        assert httpx.get(url).status_code in (400, 404), bad


def test_execute_frame_and_error_frame(raw):
    reply = raw.send("CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT UNIQUE)")
    assert reply == {"type": "execute", "result": reply["result"]}
    assert reply["result"]["results"] == []
    assert set(reply["result"]["meta"]) >= {"rows_read", "rows_written"}
    raw.rows("INSERT INTO t (n) VALUES (?)", ["a"])
    err = raw.send("INSERT INTO t (n) VALUES (?)", ["a"])
    assert err["type"] == "response_error"
    assert err["error"].startswith("Error: UNIQUE constraint failed: t.n: SQLITE_CONSTRAINT")
    assert "SQLITE_CONSTRAINT_UNIQUE" in err["error"]
    err = raw.send("SELECT * FROM nope")
    assert err["error"] == "Error: no such table: nope: SQLITE_ERROR"


def test_unknown_frame_types_get_no_reply(raw):
    raw.ws.send(json.dumps({"type": "hello"}))
    raw.ws.send(json.dumps({"type": "request", "request": {"type": "batch"}}))
    raw.ws.send("not json")
    # The next real request gets the next (and only) reply.
    assert raw.rows("SELECT 7 AS x") == [[7]]


def test_do_type_quirks(raw):
    # JSON numbers are JS doubles: they bind as REAL, so 5 / 2 is 2.5 (not sqlite3's 2).
    assert raw.rows("SELECT typeof(?) AS t, ? / 2 AS d", [5, 5]) == [["real", 2.5]]
    # true binds as the TEXT 'true'.
    assert raw.rows("SELECT typeof(?) AS t, ? AS v", [True, True]) == [["text", "true"]]
    # integral REALs print without a fraction; big integers are rounded to doubles.
    assert raw.rows("SELECT 2.0 AS r, 9007199254740993 AS b") == [[2, 9007199254740992]]
    assert raw.rows("SELECT 4611686018427387905 AS b") == [[4611686018427388000]]
    # a BLOB is an ArrayBuffer, which JSON.stringify prints as {}.
    assert raw.rows("SELECT X'00ff' AS b") == [[{}]]
    # arrays and objects are converted with String().
    assert raw.rows("SELECT ? AS a, ? AS o", [[1, 2], {"a": 1}]) == [["1,2", "[object Object]"]]


def test_rows_are_js_objects(raw):
    # Duplicate names collapse (first slot, last value); integer-like names move first.
    assert raw.rows("SELECT 1 AS id, 2 AS id, 3 AS x") == [[2, 3]]
    assert raw.rows("SELECT 'a' AS z, 'b' AS \"1\", 'c' AS \"0\"") == [["c", "b", "a"]]


def test_splitting_and_parameters_on_the_last_statement(raw):
    assert raw.rows("SELECT 1; SELECT ? AS v", [9]) == [[9]]
    err = raw.send("SELECT ?; SELECT ?", [1])
    assert err["error"] == (
        "Error: When executing multiple SQL statements in a single call, only the last "
        "statement can have parameters."
    )
    err = raw.send("SELECT ?", [1, 2])
    assert err["error"] == "Error: Wrong number of parameter bindings for SQL query."
    # The Worker splits on every ';' and re-joins the pieces it does not intercept, so a
    # ';' in a literal survives, but a piece reading 'commit' is cut out even there.
    assert raw.rows("SELECT 'a;b' AS v") == [["a;b"]]
    err = raw.send("SELECT 'a;commit;b' AS v")
    assert err["type"] == "response_error"  # "SELECT 'a" ran alone and failed


def test_sql_transactions_are_refused_like_do_exec(raw):
    for sql in ("BEGIN TRANSACTION", "SAVEPOINT x", "BEGIN IMMEDIATE"):
        err = raw.send(sql)
        assert err["error"].startswith("Error: To execute a transaction, please use")


def test_limits(raw):
    err = raw.send("SELECT '" + "x" * 101_000 + "'")
    assert err["error"] == "Error: statement too long: SQLITE_TOOBIG"
    err = raw.send("SELECT " + ",".join(["?"] * 101), [1] * 101)
    assert "too many SQL variables" in err["error"]


def test_sqlite_engine_functions_are_not_authorized(raw):
    err = raw.send("SELECT sqlite_version()")
    assert err["error"].startswith("Error: not authorized to use function: sqlite_version")


def test_changes_and_last_insert_rowid_in_the_same_request(raw):
    raw.rows("CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT)")
    rows = raw.rows(
        "INSERT INTO t (n) VALUES ('a'), ('b'); SELECT changes() AS c, last_insert_rowid() AS l"
    )
    assert rows == [[2, 2]]


def test_no_django_functions(raw):
    err = raw.send("SELECT django_date_extract('year', '2020-01-01')")
    assert "no such function: django_date_extract" in err["error"]


def test_http_query_route(dbms_target, raw, db_id):
    raw.rows("CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT)")
    raw.rows("INSERT INTO t (n) VALUES ('a')")
    url = dbms_target.http(db_id)
    r = httpx.post(url, json={"query": "SELECT id, n FROM t WHERE n = ?", "arguments": ["a"]})
    assert r.status_code == 200
    assert r.json()["results"] == [{"id": 1, "n": "a"}]
    r = httpx.post(url, json={"query": "SELECT id, n FROM t", "arrayMode": True})
    assert r.json()["results"] == [[1, "a"]]
    r = httpx.post(url, json={"query": "SELECT * FROM nope"})
    assert r.status_code == 500
    assert r.json() == {"success": False, "error": "no such table: nope: SQLITE_ERROR"}
    missing = dbms_target.http("never-opened")
    r = httpx.post(missing, json={"query": "SELECT 1"})
    assert r.json() == {"success": False, "error": "This database doesn't exist"}


# --- transactions: the local server only (Miniflare cannot hold one across messages) -------


def test_begin_locks_other_sessions_until_commit(dbms_target, db_id):
    a = Raw(dbms_target.endpoint(db_id))
    b = Raw(dbms_target.endpoint(db_id))
    a.rows("CREATE TABLE t (n INTEGER)")
    a.rows("begin; INSERT INTO t VALUES (1)")
    got: list = []
    started = time.monotonic()
    reader = threading.Thread(target=lambda: got.append(b.rows("SELECT count(*) AS c FROM t")))
    reader.start()
    time.sleep(0.3)
    assert not got  # b waits for the lock
    a.rows("INSERT INTO t VALUES (2); commit")
    reader.join(5)
    assert got == [[[2]]]
    assert time.monotonic() - started < 2
    a.close()
    b.close()


def test_waiting_session_gets_a_clear_error_instead_of_hanging(emulated, db_id):
    a = Raw(emulated.endpoint(db_id))
    b = Raw(emulated.endpoint(db_id))
    a.rows("begin")
    started = time.monotonic()
    err = b.send("SELECT 1 AS x")
    assert err["type"] == "response_error"
    assert "locked by another session's open transaction" in err["error"]
    assert emulated.lock_timeout - 0.5 < time.monotonic() - started < emulated.lock_timeout + 3
    a.rows("commit")
    assert b.rows("SELECT 1 AS x") == [[1]]
    a.close()
    b.close()


def test_rollback_replies_restores_and_drops_every_socket(dbms_target, db_id):
    a = Raw(dbms_target.endpoint(db_id))
    b = Raw(dbms_target.endpoint(db_id))
    a.rows("CREATE TABLE t (n INTEGER)")
    a.rows("INSERT INTO t VALUES (1)")
    a.rows("begin; INSERT INTO t VALUES (2)")
    assert a.send("rollback")["type"] == "execute"
    # The Miniflare Worker can only close the rolling-back session's socket (see its README).
    dropped = (a,) if dbms_target.kind == "miniflare" else (a, b)
    for client in dropped:
        with pytest.raises(ConnectionClosed):
            client.ws.recv(timeout=5)
    c = Raw(dbms_target.endpoint(db_id))
    assert c.rows("SELECT n FROM t") == [[1]]
    c.close()


def test_holder_disconnect_rolls_back_and_frees_the_lock(emulated, db_id):
    a = Raw(emulated.endpoint(db_id))
    a.rows("CREATE TABLE t (n INTEGER)")
    a.rows("begin; INSERT INTO t VALUES (1)")
    a.close()
    b = Raw(emulated.endpoint(db_id))
    assert b.rows("SELECT count(*) AS c FROM t") == [[0]]
    b.close()


def test_access_headers_checked_when_configured(tmp_path):
    import sys

    from django_backend_core.servers import LocalServer

    env = {"WORKERS_DBMS_ACCESS_SECRET": "s3cret-value", "PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-m", "django_dbms.server", "--port", "{port}", "--data"]
    argv += [str(tmp_path), "--access-id", "client-id"]
    with LocalServer(argv, env=env, ready="tcp") as server:
        url = f"ws://127.0.0.1:{server.port}/api/v1/databases/main/websocket"
        with pytest.raises(Exception, match="403"):
            Raw(url)
        with pytest.raises(Exception, match="403"):
            Raw(url, {"CF-Access-Client-Id": "client-id", "CF-Access-Client-Secret": "wrong"})
        ok = Raw(
            url, {"CF-Access-Client-Id": "client-id", "CF-Access-Client-Secret": "s3cret-value"}
        )
        assert ok.rows("SELECT 1 AS x") == [[1]]
        ok.close()
