"""Transport and wire format against recorded Prisma 7 answers (httpx.MockTransport)."""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid

import httpx
import pytest
from django.db.transaction import TransactionManagementError
from django_backend_core import dbapi
from django_backend_core.testing import assert_no_secret
from django_backend_core.transport import Statement
from django_prisma.transport import CacheStrategy, PrismaTransport, parse_url, returns_rows
from django_prisma.wire import JsonText, decode_rows, encode_args

KEY = "eyJzZWNyZXQiOiJrZXkifQ-very-secret"

# Recorded from @prisma/dev 0.25.2 (shared/reference/prisma.md section 3).
QUERY_OK = {
    "data": {
        "columns": ["id", "created", "big", "price", "data", "blob", "f", "b", "d", "arr"],
        "types": [
            "int",
            "datetime",
            "bigint",
            "decimal",
            "json",
            "bytes",
            "double",
            "bool",
            "date",
            "int-array",
        ],
        "rows": [
            [
                1,
                "2026-11-22T20:38:22.531+00:00",
                "9007199254740993",
                "12.50",
                {"k": 1},
                "aGVsbG8=",
                1.5,
                True,
                "2026-11-22",
                [1, 2],
            ]
        ],
    }
}
DUPLICATE = {
    "code": "P2010",
    "error": "Raw query failed. Code: `23505`. Message: `duplicate key value`",
    "meta": {
        "driverAdapterError": {
            "cause": {"originalCode": "23505", "kind": "UniqueConstraintViolation"}
        }
    },
}
CLOSED = {"code": "P2028", "error": "Transaction API error: Transaction already closed", "meta": {}}


class Recorder:
    def __init__(self, answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body, headers = self.answers.pop(0)
        return httpx.Response(status, json=body, headers=headers)


def make(answers, **kwargs):
    rec = Recorder(answers)
    t = PrismaTransport(
        "https://accelerate.example", KEY, http_transport=httpx.MockTransport(rec), **kwargs
    )
    return t, rec


def test_query_request_shape_and_typed_decoding():
    t, rec = make([(200, QUERY_OK, {})])
    res = t.execute(Statement('SELECT * FROM "User" WHERE email = $1', ["a@b.c"]))
    req = rec.requests[0]
    assert req.url.path == "/query"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["prisma-engine-hash"] == "7.2.0"
    assert req.headers["cache-control"] == "no-cache"
    body = json.loads(req.content)
    assert body["plan"]["type"] == "query"
    assert body["plan"]["args"] == {
        "type": "rawSql",
        "sql": 'SELECT * FROM "User" WHERE email = $1',
        "args": ["a@b.c"],
        "argTypes": [{"scalarType": "string", "arity": "scalar"}],
    }
    row = res.rows[0]
    assert row[1] == datetime.datetime(2026, 11, 22, 20, 38, 22, 531000, tzinfo=datetime.UTC)
    assert row[2] == 9007199254740993
    assert row[3] == decimal.Decimal("12.50")
    assert json.loads(row[4]) == {"k": 1}
    assert row[5] == b"hello"
    assert row[6:] == (1.5, True, datetime.date(2026, 11, 22), [1, 2])
    assert t.metrics.requests == 1 and t.metrics.statements == 1


def test_execute_returns_rowcount():
    t, rec = make([(200, {"data": 3}, {})])
    assert t.execute(Statement("UPDATE t SET a = $1", [1])).rowcount == 3
    assert json.loads(rec.requests[0].content)["plan"]["type"] == "execute"


def test_transaction_lifecycle_jwt_and_cookie_echo():
    t, rec = make(
        [
            (
                200,
                {"id": "tx1"},
                {"set-cookie": "route=abc; Path=/", "accelerate-query-engine-jwt": "jwt1"},
            ),
            (200, {"data": 1}, {}),
            (200, {}, {}),
        ]
    )
    t.begin()
    assert rec.requests == []  # lazy: nothing sent until the first statement
    t.execute(Statement("INSERT INTO t VALUES (1)", []))
    t.commit()
    start, query, commit = rec.requests
    assert start.url.path == "/transaction/start"
    assert json.loads(start.content) == {"timeout": 15000, "maxWait": 5000}
    assert query.url.path == "/transaction/tx1/query"
    assert query.headers["cookie"] == "route=abc"
    assert query.headers["accelerate-query-engine-jwt"] == "jwt1"
    assert commit.url.path == "/transaction/tx1/commit"
    assert not t.in_transaction


def test_error_mapping_keeps_payload_and_classes():
    t, _ = make(
        [
            (400, DUPLICATE, {}),
            (409, CLOSED, {}),
            (429, {"message": "rate limited"}, {}),
            (503, {"message": "down"}, {}),
            (400, {"code": "P6004", "error": "query timeout"}, {}),
            (400, {"code": "P2010", "error": "Raw query failed. Code: `40001`. Message: `x`"}, {}),
            (500, {"error": "ForeignKeyConstraintViolation"}, {}),
        ],
        retries=0,
    )
    stmt = Statement("SELECT 1", [])
    with pytest.raises(dbapi.IntegrityError) as exc:
        t.execute(stmt)
    assert exc.value.payload == DUPLICATE and exc.value.sqlstate == "23505"
    with pytest.raises(TransactionManagementError) as exc2:
        t.execute(stmt)
    assert exc2.value.payload == CLOSED
    for _ in range(4):  # 429, 503, P6004, SQLSTATE 40001
        with pytest.raises(dbapi.OperationalError):
            t.execute(stmt)
    with pytest.raises(dbapi.IntegrityError):
        t.execute(stmt)


def test_cache_strategy_headers_and_status():
    t, rec = make([(200, QUERY_OK, {"accelerate-cache-status": "ttl"})])
    with t.using_cache(CacheStrategy(ttl=60, swr=10, tags=["a", "b_2"])):
        t.execute(Statement("SELECT 1", []))
    assert rec.requests[0].headers["cache-control"] == "max-age=60,stale-while-revalidate=10"
    assert rec.requests[0].headers["accelerate-cache-tags"] == "a,b_2"
    assert t.last_cache_status == "ttl"
    assert t.cache_strategy is None


@pytest.mark.parametrize("tags", [["a"] * 6, ["has-dash"], ["x" * 65], "abc", [""]])
def test_cache_tags_validated(tags):
    with pytest.raises(ValueError):
        CacheStrategy(ttl=1, tags=tags)


def test_invalidate_posts_tags():
    t, rec = make([(200, None, {})])
    t.invalidate(["users"])
    assert rec.requests[0].url.path == "/invalidate"
    assert json.loads(rec.requests[0].content) == {"tags": ["users"]}


def test_key_never_in_errors_or_repr():
    body = {"message": f"bad key {KEY}"}
    t, _ = make([(401, body, {})])
    with pytest.raises(dbapi.OperationalError) as exc:
        t.execute(Statement("SELECT 1", []))
    assert_no_secret(exc.value, KEY)
    assert_no_secret(repr(t), KEY)

    def boom(request):
        raise httpx.ConnectError(f"cannot connect to {request.url}?api_key={KEY}")

    t2 = PrismaTransport("https://h", KEY, http_transport=httpx.MockTransport(boom))
    with pytest.raises(dbapi.OperationalError) as exc3:
        t2.execute(Statement("SELECT 1", []))
    assert_no_secret(exc3.value, KEY)


def test_parse_url_rules():
    assert parse_url("prisma+postgres://accelerate.prisma-data.net/?api_key=k") == (
        "https://accelerate.prisma-data.net",
        "k",
    )
    assert parse_url("prisma://localhost:51213/?api_key=k")[0] == "http://localhost:51213"
    assert parse_url("prisma://127.0.0.1:5/")[1] is None
    with pytest.raises(ValueError):
        parse_url("postgres://x/")


def test_returns_rows_heuristic():
    assert returns_rows("SELECT 1")
    assert returns_rows("  (SELECT 1) UNION (SELECT 2)")
    assert returns_rows('INSERT INTO "t" ("a") VALUES ($1) RETURNING "t"."id"')
    assert returns_rows("WITH x AS (SELECT 1) SELECT * FROM x")
    assert not returns_rows('UPDATE "t" SET "a" = $1')
    assert not returns_rows("CREATE TABLE t (id int)")


def test_encode_args_keeps_precision():
    args, types = encode_args(
        [
            2**63 - 1,
            5,
            decimal.Decimal("1.10"),
            datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
            b"\x00",
            uuid.UUID(int=1),
            JsonText('{"a": 1}'),
            None,
            float("nan"),
            [1, 2],
            datetime.timedelta(days=-1, microseconds=5),
        ]
    )
    assert args[:4] == ["9223372036854775807", 5, "1.10", "2024-01-02T03:04:05.000006"]
    assert [t["scalarType"] for t in types[:9]] == [
        "bigint", "int", "decimal", "string", "bytes", "uuid", "json", "unknown", "string",
    ]  # fmt: skip
    assert args[4] == base64.b64encode(b"\x00").decode()
    assert types[9] == {"scalarType": "int", "arity": "list"}
    assert args[10] == "-1 days 0 seconds 5 microseconds"


def test_decode_arrays_and_nulls():
    rows = decode_rows(
        ["decimal-array", "bytes", "time", "uuid"],
        [[["1.5", None], None, "24:00:00", "00000000-0000-0000-0000-000000000001"]],
    )
    assert rows == [([decimal.Decimal("1.5"), None], None, datetime.time.max, uuid.UUID(int=1))]


def test_typed_parameters_get_casts_outside_literals():
    from django_prisma.wire import add_casts

    sql = "SELECT $1, '$2', \"c$3\" -- $4\n FROM t WHERE a = $5 AND b = $6::text AND c = $7"
    out = add_casts(sql, [1, 2, 3, 4, datetime.date(2020, 1, 1), 5, "str"])
    assert out == (
        "SELECT $1::int4, '$2', \"c$3\" -- $4\n FROM t WHERE a = $5::date AND b = $6::text AND c = $7"
    )
    t, rec = make([(200, QUERY_OK, {})])
    t.execute(Statement("SELECT $1 + $2", [1, decimal.Decimal("1.5")]))
    assert (
        json.loads(rec.requests[0].content)["plan"]["args"]["sql"]
        == "SELECT $1::int4 + $2::numeric"
    )


# --- retries -------------------------------------------------------------------------------


class Scripted:
    """MockTransport handler: each answer is a (status, body, headers) tuple or an exception."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        return httpx.Response(status, json=body, headers=headers)


def scripted(answers, **kwargs):
    handler = Scripted(answers)
    kwargs.setdefault("retry_backoff", 0.001)
    t = PrismaTransport(
        "https://accelerate.example", KEY, http_transport=httpx.MockTransport(handler), **kwargs
    )
    return t, handler


OK_ROW = (200, {"data": {"columns": ["x"], "types": ["int"], "rows": [[1]]}}, {})


def test_connect_errors_are_retried_even_for_writes():
    # Failing to connect proves the request was never sent.
    t, h = scripted(
        [httpx.ConnectError("refused"), httpx.ConnectError("refused"), (200, {"data": 1}, {})]
    )
    assert t.execute(Statement("INSERT INTO t VALUES ($1)", [1])).rowcount == 1
    assert len(h.paths) == 3 and t.metrics.retries == 2 and t.metrics.requests == 3


def test_write_cut_after_sending_is_not_retried():
    t, h = scripted([httpx.RemoteProtocolError("Server disconnected"), (200, {"data": 1}, {})])
    with pytest.raises(dbapi.OperationalError):
        t.execute(Statement("INSERT INTO t VALUES ($1)", [1]))
    assert len(h.paths) == 1 and t.metrics.retries == 0


def test_read_cut_after_sending_is_retried():
    t, h = scripted([httpx.ReadError("reset"), OK_ROW])
    assert t.execute(Statement("SELECT $1::int", [1])).rows == [(1,)]
    assert len(h.paths) == 2 and t.metrics.retries == 1


def test_read_timeouts_are_not_retried():
    t, h = scripted([httpx.ReadTimeout("slow"), OK_ROW])
    with pytest.raises(dbapi.OperationalError):
        t.execute(Statement("SELECT 1", []))
    assert len(h.paths) == 1


def test_query_engine_errors_are_never_retried():
    t, h = scripted([(500, {"code": "P2010", "error": "boom", "meta": {}}, {}), OK_ROW])
    with pytest.raises(dbapi.Error):
        t.execute(Statement("SELECT 1", []))
    assert len(h.paths) == 1
    t, h = scripted([(400, DUPLICATE, {}), OK_ROW])
    with pytest.raises(dbapi.IntegrityError):
        t.execute(Statement("SELECT 1", []))
    assert len(h.paths) == 1


def test_retry_after_is_honoured_and_bounded(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("django_prisma.transport.time.sleep", slept.append)
    t, h = scripted([(429, {"message": "slow down"}, {"retry-after": "2"}), OK_ROW])
    assert t.execute(Statement("SELECT 1", [])).rows == [(1,)]
    assert slept == [2.0]
    t, h = scripted([(429, {"message": "slow down"}, {"retry-after": "60"}), OK_ROW])
    with pytest.raises(dbapi.OperationalError) as exc:
        t.execute(Statement("SELECT 1", []))
    assert exc.value.status == 429 and len(h.paths) == 1  # 60 s > retry_max_wait: not waited


def test_retry_after_http_date():
    from django_prisma.transport import retry_after_seconds

    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_backoff_grows_and_retries_stop_at_the_budget(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("django_prisma.transport.time.sleep", slept.append)
    t, h = scripted([(503, {"message": "unavailable"}, {})] * 4, retries=3, retry_backoff=0.1)
    with pytest.raises(dbapi.OperationalError):
        t.execute(Statement("SELECT 1", []))
    assert len(h.paths) == 4 and len(slept) == 3
    assert 0.1 <= slept[0] <= 0.2 and 0.2 <= slept[1] <= 0.4 and 0.4 <= slept[2] <= 0.8


def test_commit_is_never_retried():
    t, h = scripted(
        [(200, {"id": "tx1"}, {}), (200, {"data": 1}, {}), (503, {}, {}), (200, {}, {})]
    )
    t.begin()
    t.execute(Statement("INSERT INTO t VALUES ($1)", [1]))
    with pytest.raises(dbapi.OperationalError):
        t.commit()
    assert h.paths == [
        "/transaction/start",
        "/transaction/tx1/query",
        "/transaction/tx1/commit",
        "/transaction/tx1/rollback",  # best effort, so the server frees the transaction
    ]


# --- USE_TZ=False and the local-server write workaround -------------------------------------


def test_naive_datetimes_are_utc_wall_time():
    rows = decode_rows(
        ["datetime", "datetime-array", "date"],
        [["2026-11-22T20:38:22.531+02:00", ["2026-01-01T00:00:00+00:00", None], "2026-11-22"]],
        naive_datetimes=True,
    )
    assert rows == [
        (
            datetime.datetime(2026, 11, 22, 18, 38, 22, 531000),
            [datetime.datetime(2026, 1, 1), None],
            datetime.date(2026, 11, 22),
        )
    ]


def test_local_dev_keys_are_recognised():
    from django_prisma.transport import is_local_dev_key

    local = base64.urlsafe_b64encode(
        json.dumps({"databaseUrl": "postgres://x", "name": "n"}).encode()
    ).decode()
    assert is_local_dev_key(local.rstrip("="))
    assert not is_local_dev_key(KEY)
    assert not is_local_dev_key("eyJhbGciOiJIUzI1NiJ9.eyJ0aWQiOiIxIn0.c2ln")  # a JWT


def test_autocommit_writes_run_in_a_transaction_when_asked():
    t, h = scripted(
        [
            (200, {"id": "tx1"}, {}),
            (200, {"data": 1}, {}),
            (200, {}, {}),
            OK_ROW,
            (200, {"data": 0}, {}),
        ],
        autocommit_write_transactions=True,
    )
    assert t.execute(Statement("INSERT INTO t VALUES ($1)", [1])).rowcount == 1
    assert t.execute(Statement("SELECT $1::int", [1])).rows == [(1,)]  # reads: one request
    t.execute(Statement("CREATE TABLE x (a int)", []))  # no parameters: one request
    assert h.paths == [
        "/transaction/start",
        "/transaction/tx1/query",
        "/transaction/tx1/commit",
        "/query",
        "/query",
    ]
    assert not t.in_transaction


def test_deferred_violation_at_commit_is_an_integrity_error():
    # Recorded from @prisma/dev 0.25.2: a COMMIT failing a deferred FK check.
    t, h = scripted(
        [
            (200, {"id": "tx1"}, {}),
            (200, {"data": 1}, {}),
            (500, {"error": "ForeignKeyConstraintViolation"}, {}),
        ],
        autocommit_write_transactions=True,
    )
    with pytest.raises(dbapi.IntegrityError):
        t.execute(Statement("INSERT INTO t VALUES ($1)", [1]))
    assert len(h.paths) == 3 and not t.in_transaction
