"""The local D1 server reproduces production's documented behaviour (reference: cloudflare.md)."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("starlette")

from django_d1.server import TRANSACTION_MESSAGE, create_app  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

TOKEN = "tok"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path, TOKEN)) as c:
        yield c


def post(client, body, endpoint="raw", db="db1", headers=AUTH):
    r = client.post(
        f"/client/v4/accounts/acc/d1/database/{db}/{endpoint}", json=body, headers=headers
    )
    return r.status_code, r.json()


def ok(client, sql, params=None, endpoint="raw"):
    body = {"sql": sql} if params is None else {"sql": sql, "params": params}
    status, data = post(client, body, endpoint)
    assert status == 200 and data["success"], data
    return data["result"]


def err(client, body, endpoint="raw"):
    status, data = post(client, body, endpoint)
    assert not data["success"] and data["result"] is None
    assert data["messages"] == []
    return status, data["errors"][0]


def test_envelope_raw_and_query_shapes(client):
    ok(client, "CREATE TABLE t (a, b)")
    ok(client, "INSERT INTO t VALUES ('x', 'y')")
    raw = ok(client, "SELECT a, b, a AS b FROM t")
    assert raw[0]["results"] == {"columns": ["a", "b", "b"], "rows": [["x", "y", "x"]]}
    query = ok(client, "SELECT a, b, a AS b FROM t", endpoint="query")
    # /query returns objects: duplicate column names collapse, /raw keeps both values.
    assert query[0]["results"] == [{"a": "x", "b": "x"}]
    empty = ok(client, "SELECT a FROM t WHERE 0")
    assert empty[0]["results"] == {"columns": ["a"], "rows": []}
    dml = ok(client, "UPDATE t SET a = 'z'")
    assert dml[0]["results"] == {"columns": [], "rows": []}


def test_meta_fields_and_sticky_last_row_id(client):
    ok(client, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
    meta = ok(client, "INSERT INTO t (v) VALUES ('a'), ('b')")[0]["meta"]
    assert meta["changes"] == 2 and meta["last_row_id"] == 2 and meta["changed_db"] is True
    for key in ("duration", "rows_read", "rows_written", "size_after", "served_by_primary"):
        assert key in meta
    assert meta["size_after"] > 0
    meta = ok(client, "UPDATE t SET v = 'c' WHERE id = 1")[0]["meta"]
    assert meta["changes"] == 1 and meta["last_row_id"] == 2  # sticky: not the updated row
    meta = ok(client, "SELECT * FROM t")[0]["meta"]
    assert meta["changes"] == 0 and meta["changed_db"] is False and meta["last_row_id"] == 2
    # The same UPDATE again still reports its changes (no statement-cache blind spot).
    assert ok(client, "UPDATE t SET v = 'c' WHERE id = 1")[0]["meta"]["changes"] == 1


def test_numbers_bind_as_real_and_booleans_as_text(client):
    ok(client, "CREATE TABLE t (s TEXT, n)")
    ok(client, "INSERT INTO t VALUES (?, ?)", [7, 7])
    rows = ok(client, "SELECT s, typeof(n), ? / 2, ? FROM t", [7, True])[0]["results"]["rows"]
    assert rows == [["7.0", "real", 3.5, "true"]]


def test_blobs_are_byte_arrays_and_big_integers_round(client):
    row = ok(client, "SELECT ?, typeof(?), x'00ff10', 9223372036854775807", [[1, 2], [1]])
    assert row[0]["results"]["rows"] == [[[1, 2], "blob", [0, 255, 16], 9223372036854776000]]


def test_sql_error_format_and_code(client):
    ok(client, "CREATE TABLE t (u TEXT UNIQUE)")
    ok(client, "INSERT INTO t VALUES ('a')")
    status, e = err(client, {"sql": "INSERT INTO t VALUES ('a')"})
    assert status == 400 and e["code"] == 7500
    assert e["message"] == (
        "UNIQUE constraint failed: t.u: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_UNIQUE)"
    )
    _, e = err(client, {"sql": "SELEC 1"})
    assert e["message"] == 'near "SELEC": syntax error: SQLITE_ERROR'


@pytest.mark.parametrize(
    "sql", ["BEGIN", "BEGIN TRANSACTION", "SAVEPOINT s1", "COMMIT", "ROLLBACK", "RELEASE s1"]
)
def test_transactions_refused_with_d1_message(client, sql):
    _, e = err(client, {"sql": sql})
    assert e == {"code": 7500, "message": TRANSACTION_MESSAGE}


def test_parameter_and_statement_limits(client):
    ok(client, "SELECT " + ", ".join(["?"] * 100), [1] * 100)
    _, e = err(client, {"sql": "SELECT " + ", ".join(["?"] * 101), "params": [1] * 101})
    assert e["message"].startswith("too many SQL variables at offset ")
    assert e["message"].endswith(": SQLITE_ERROR")
    long_sql = "SELECT '" + "x" * 100_000 + "'"
    _, e = err(client, {"sql": long_sql})
    assert e["message"] == "statement too long: SQLITE_TOOBIG"


def test_batch_is_atomic(client):
    ok(client, "CREATE TABLE t (u TEXT UNIQUE)")
    status, e = err(
        client,
        {"batch": [{"sql": "INSERT INTO t VALUES ('a')"}, {"sql": "INSERT INTO t VALUES (1, 2)"}]},
    )
    assert e["code"] == 7500
    assert ok(client, "SELECT count(*) FROM t")[0]["results"]["rows"] == [[0]]
    status, data = post(
        client,
        {
            "batch": [
                {"sql": "INSERT INTO t VALUES (?)", "params": ["b"]},
                {"sql": "SELECT u FROM t"},
            ]
        },
    )
    assert [r["results"]["rows"] for r in data["result"]] == [[], [["b"]]]


def test_multi_statement_sql_returns_one_item_per_statement(client):
    result = ok(client, "SELECT 1; SELECT 2 AS two; -- trailing comment")
    assert [r["results"]["rows"] for r in result] == [[[1]], [[2]]]


def test_internal_table_and_refused_functions(client):
    names = ok(client, "SELECT name FROM sqlite_master WHERE type = 'table'")
    assert ["_cf_KV"] in names[0]["results"]["rows"]
    for sql in (
        "SELECT * FROM _cf_KV",
        "INSERT INTO _cf_KV VALUES ('k', 'v')",
        "SELECT sqlite_version()",
        "SELECT power(2, 3)",
        "SELECT ceiling(1.5)",
        "PRAGMA journal_mode",
        "ATTACH DATABASE 'x.db' AS x",
    ):
        _, e = err(client, {"sql": sql})
        assert e["message"] == "not authorized: SQLITE_AUTH", sql
    assert ok(client, "SELECT pow(2, 3), ceil(1.5)")[0]["results"]["rows"] == [[8, 2]]


@pytest.mark.parametrize("fn", ["md5('a')", "sha1('a')", "lpad('a', 3, 'x')", "reverse('ab')"])
def test_missing_functions(client, fn):
    _, e = err(client, {"sql": f"SELECT {fn}"})
    assert e["message"].startswith("no such function: ") and e["message"].endswith("SQLITE_ERROR")


def test_regexp_operator_missing(client):
    _, e = err(client, {"sql": "SELECT 'a' REGEXP 'a'"})
    assert e["message"] == "no such function: REGEXP: SQLITE_ERROR"


def test_foreign_keys_cannot_be_disabled(client):
    ok(client, "CREATE TABLE p (id INTEGER PRIMARY KEY)")
    ok(client, "CREATE TABLE c (p_id INTEGER REFERENCES p (id))")
    ok(client, "PRAGMA foreign_keys = OFF")
    assert ok(client, "PRAGMA foreign_keys")[0]["results"]["rows"] == [[1]]
    _, e = err(client, {"sql": "INSERT INTO c VALUES (5)"})
    assert "FOREIGN KEY constraint failed" in e["message"]
    # Deferred: fine inside one batch if fixed before the end.
    ok_batch = post(
        client,
        {
            "batch": [
                {"sql": "PRAGMA defer_foreign_keys = on"},
                {"sql": "INSERT INTO c VALUES (5)"},
                {"sql": "INSERT INTO p VALUES (5)"},
            ]
        },
    )
    assert ok_batch[1]["success"], ok_batch


def test_auth(client):
    status, data = post(client, {"sql": "SELECT 1"}, headers={})
    assert status == 401 and data["errors"] == [{"code": 10000, "message": "Authentication error"}]
    status, data = post(client, {"sql": "SELECT 1"}, headers={"Authorization": "Bearer nope"})
    assert status == 403 and data["errors"][0]["code"] == 10000


def test_unknown_database_without_autocreate(tmp_path):
    with TestClient(create_app(tmp_path, TOKEN, autocreate=False)) as c:
        status, data = post(c, {"sql": "SELECT 1"}, db="missing")
        assert status == 404 and data["errors"][0]["code"] == 7404
        created = c.post("/client/v4/accounts/acc/d1/database", json={"name": "x"}, headers=AUTH)
        uuid = created.json()["result"]["uuid"]
        status, data = post(c, {"sql": "SELECT 1 AS one"}, db=uuid)
        assert status == 200 and data["result"][0]["results"]["rows"] == [[1]]


def test_malformed_body(client):
    r = client.post("/client/v4/accounts/acc/d1/database/db1/raw", content=b"{nope", headers=AUTH)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == 7400
    _, e = err(client, {"sql": "SELECT ?", "params": [{"a": 1}]})
    assert e["message"].startswith("D1_TYPE_ERROR")


def test_unknown_routes_and_methods(client):
    assert client.get("/client/v4/nothing").status_code == 404
    r = client.get("/client/v4/accounts/acc/d1/database/db1/raw", headers=AUTH)
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert client.get("/healthz").json() == {"ok": True}


def test_response_head_and_body_leave_in_one_write():
    import asyncio

    from django_d1.server import _CoalescingTransport

    class Recorder:
        def __init__(self) -> None:
            self.writes: list[bytes] = []
            self.closed = False

        def write(self, data: bytes) -> None:
            self.writes.append(data)

        def is_closing(self) -> bool:
            return self.closed

        def close(self) -> None:
            self.closed = True

        def get_extra_info(self, name: str) -> str:
            return f"info:{name}"

    async def scenario() -> Recorder:
        inner = Recorder()
        t = _CoalescingTransport(inner)
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        t.write(b"{}")
        assert inner.writes == []  # nothing leaves before the loop turns
        await asyncio.sleep(0)
        assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
        assert t.get_extra_info("peername") == "info:peername"
        t.write(b"last")
        t.close()  # close flushes first
        assert inner.writes[-1] == b"last" and inner.closed
        return inner

    asyncio.run(scenario())


def test_split_sql_and_count_placeholders_respect_strings_comments_and_triggers():
    """The server's own SQL scanning (statement splitting for multi-statement bodies and the
    100-parameter limit) must not see `;` or `?` inside strings, identifiers or comments."""
    from django_d1.server import MAX_PARAMS, count_placeholders, split_sql

    parts = split_sql(
        "SELECT 1; SELECT ';' AS \"a;b\"; -- a comment; still one\n"
        "CREATE TRIGGER t AFTER INSERT ON x BEGIN UPDATE x SET n = 1; END; /* only ; */"
    )
    assert [p.strip() for p in parts] == [
        "SELECT 1;",
        "SELECT ';' AS \"a;b\";",
        "-- a comment; still one\nCREATE TRIGGER t AFTER INSERT ON x BEGIN UPDATE x SET n = 1; END;",
    ]
    assert split_sql("SELECT 2") == ["SELECT 2"]
    assert split_sql("  ; -- nothing\n ;") == []

    sql = "SELECT ?, '?', \"?\", [?], `?` -- ?\n, /* ? */ ?"
    assert count_placeholders(sql) == (2, None)
    assert count_placeholders("SELECT '?") == (0, None)  # an unterminated string runs to the end
    many = "SELECT " + ", ".join(["?"] * (MAX_PARAMS + 5))
    n, over = count_placeholders(many)
    assert n == MAX_PARAMS + 5
    assert over == [i for i, ch in enumerate(many) if ch == "?"][MAX_PARAMS]
