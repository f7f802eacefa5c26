"""Faults between the backend and D1: killed, slowed, 429/5xx, cut connections.

Invariants: no acknowledged write is lost, no write is applied twice, every failure is an
OperationalError within the timeout, and the token never shows in exceptions or logs.
Uses the fault proxy of ``tests-integration/faults`` in front of the local D1 server.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests-integration"))
proxy_mod = pytest.importorskip("faults.proxy")

from django_backend_core import dbapi  # noqa: E402
from django_backend_core.transport import Statement  # noqa: E402
from django_d1.pytest_plugin import TOKEN  # noqa: E402
from django_d1.transport import D1Transport  # noqa: E402


@pytest.fixture
def proxy(d1_server):
    with proxy_mod.FaultProxy(("127.0.0.1", d1_server.port), http=True) as p:
        yield p


def transport(base_url: str, db: str, timeout: float = 5.0, **kw) -> D1Transport:
    return D1Transport(
        api_base=base_url + "/client/v4",
        account_id="acc",
        database_id=db,
        token=TOKEN,
        timeout=timeout,
        **kw,
    )


@pytest.fixture
def db(d1_server):
    name = "faults-" + uuid.uuid4().hex[:8]
    t = transport(d1_server.url("http"), name)
    t.execute(Statement("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield name, t
    t.close()


def count(t: D1Transport) -> int:
    return t.execute(Statement("SELECT count(*) FROM t")).rows[0][0]


def insert(t: D1Transport, v: str):
    return t.execute(Statement("INSERT INTO t (v) VALUES (?)", [v]))


def assert_clean(exc: BaseException) -> None:
    text = f"{exc!r} {exc} {getattr(exc, 'payload', '')}"
    assert TOKEN not in text


def test_429_is_retried_after_retry_after_and_applies_once(db, proxy):
    name, direct = db
    t = transport(proxy.url("http"), name)
    proxy.http_error(429, times=2, retry_after=0.2)
    started = time.monotonic()
    insert(t, "a")
    assert time.monotonic() - started >= 0.4
    assert t.metrics.retries == 2 and t.metrics.requests == 3
    assert count(direct) == 1


def test_5xx_on_a_write_is_not_retried(db, proxy):
    name, direct = db
    t = transport(proxy.url("http"), name)
    proxy.http_error(503)
    with pytest.raises(dbapi.OperationalError) as info:
        insert(t, "a")
    assert_clean(info.value)
    assert t.metrics.requests == 1
    assert count(direct) == 0  # the proxy never forwarded it: nothing acknowledged, nothing applied


def test_5xx_on_a_read_is_retried(db, proxy):
    name, direct = db
    insert(direct, "a")
    t = transport(proxy.url("http"), name)
    proxy.http_error(502, times=2)
    assert count(t) == 1
    assert t.metrics.retries == 2


def test_cut_response_to_a_write_raises_and_is_not_resent(db, proxy):
    name, direct = db
    t = transport(proxy.url("http"), name)
    proxy.reset(after_bytes=5)
    with pytest.raises(dbapi.OperationalError) as info:
        insert(t, "maybe")
    assert_clean(info.value)
    # It may have been applied (the server answered), but never twice.
    assert count(direct) <= 1
    insert(t, "b")  # the connection recovers
    assert count(direct) in (1, 2)


def test_slow_server_times_out_as_operational_error(db, proxy):
    name, _ = db
    t = transport(proxy.url("http"), name, timeout=1.0, retries=0)
    proxy.stall(seconds=5)
    started = time.monotonic()
    with pytest.raises(dbapi.OperationalError) as info:
        insert(t, "slow")
    assert time.monotonic() - started < 3
    assert "not retried" in str(info.value)
    proxy.clear()


def test_killed_server_is_operational_error_within_timeout(tmp_path):
    from django_backend_core.servers import LocalServer

    argv = [sys.executable, "-m", "django_d1.server", "--port", "{port}", "--data", str(tmp_path)]
    argv += ["--token", TOKEN]
    server = LocalServer(argv, ready="http:/healthz").start()
    t = transport(server.url("http"), "killed", timeout=3.0)
    insert_ok = t.execute(Statement("CREATE TABLE t (v)"))
    assert insert_ok.rowcount == 0
    server.stop()
    started = time.monotonic()
    with pytest.raises(dbapi.OperationalError) as info:
        t.execute(Statement("INSERT INTO t VALUES (1)"))
    assert time.monotonic() - started < 4
    assert_clean(info.value)


def test_mixed_workload_under_faults_loses_and_duplicates_nothing(db, proxy):
    name, direct = db
    t = transport(proxy.url("http"), name, timeout=5.0)
    acknowledged = []
    failed = []
    faults = [
        lambda: proxy.http_error(429, retry_after=0.05),
        lambda: proxy.http_error(500),
        lambda: proxy.reset(after_bytes=3),
        lambda: proxy.drop(),
        lambda: None,
    ]
    for i in range(40):
        faults[i % len(faults)]()
        value = f"v{i}"
        try:
            insert(t, value)
        except dbapi.OperationalError as exc:
            assert_clean(exc)
            failed.append(value)
        else:
            acknowledged.append(value)
        proxy.clear()
    rows = [r[0] for r in direct.execute(Statement("SELECT v FROM t")).rows]
    assert len(rows) == len(set(rows)), "a write was applied twice"
    assert set(acknowledged) <= set(rows), "an acknowledged write was lost"
    assert set(rows) <= set(acknowledged) | set(failed)
    assert acknowledged and failed


def test_token_never_logged(db, proxy, caplog):
    name, _ = db
    caplog.set_level(logging.DEBUG)
    t = transport(proxy.url("http"), name, timeout=1.0)
    proxy.http_error(503, times=10)
    with pytest.raises(dbapi.OperationalError):
        insert(t, "x")
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(t)
    bad = D1Transport(
        api_base=proxy.url("http") + "/client/v4",
        account_id="acc",
        database_id=name,
        token="s3cret-token-value",
    )
    proxy.clear()
    with pytest.raises(dbapi.OperationalError) as info:
        bad.execute(Statement("SELECT 1"))
    assert info.value.code == 10000
    assert "s3cret-token-value" not in f"{info.value!r} {info.value} {info.value.payload}"
    assert "s3cret-token-value" not in caplog.text
