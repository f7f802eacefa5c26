"""Faults between django-prisma and the server: 429/5xx, dropped and reset connections, stalls.

Invariants: every failure is a DB-API OperationalError (or TransactionManagementError) within
the timeout, nothing acknowledged is lost, the connection recovers, and the API key never shows.
Uses the fault proxy of ``tests-integration/faults`` in front of the local @prisma/dev.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests-integration"))
proxy_mod = pytest.importorskip("faults.proxy")

from django_backend_core import dbapi  # noqa: E402
from django_backend_core.testing import assert_no_secret  # noqa: E402
from django_backend_core.transport import Statement  # noqa: E402
from django_prisma.transport import PrismaTransport  # noqa: E402


@pytest.fixture
def proxy(prisma_server):
    with proxy_mod.FaultProxy(("127.0.0.1", prisma_server.port), http=True) as p:
        yield p


@pytest.fixture
def table(prisma_server):
    t = PrismaTransport(f"http://127.0.0.1:{prisma_server.port}", prisma_server.api_key)
    t.execute(Statement("DROP TABLE IF EXISTS faults_t"))
    t.execute(Statement("CREATE TABLE faults_t (id serial PRIMARY KEY, v text)"))
    yield t
    t.close()


def via(proxy, prisma_server, timeout=5.0) -> PrismaTransport:
    return PrismaTransport(proxy.url("http"), prisma_server.api_key, timeout=timeout)


def count(t: PrismaTransport) -> int:
    return t.execute(Statement("SELECT count(*) FROM faults_t")).rows[0][0]


INSERT = Statement("INSERT INTO faults_t (v) VALUES ($1)", ["x"])


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_writes_are_not_retried_on_5xx(proxy, prisma_server, table, status):
    t = via(proxy, prisma_server)
    proxy.http_error(status)
    with pytest.raises(dbapi.OperationalError) as exc:
        t.execute(INSERT)
    assert exc.value.status == status
    assert_no_secret(exc.value, prisma_server.api_key)
    assert proxy.stats.requests == 1  # sent once: a 5xx may come after the write was applied
    assert t.metrics.retries == 0
    assert count(table) == 0  # the faulted request never reached the server
    t.execute(INSERT)
    assert count(table) == 1
    t.close()


def test_429_is_retried_for_writes_honouring_retry_after(proxy, prisma_server, table):
    t = via(proxy, prisma_server)
    proxy.http_error(429, times=2, retry_after=0.3)
    start = time.monotonic()
    t.execute(INSERT)  # rate limited before execution: safe to send again
    assert time.monotonic() - start >= 0.6
    assert proxy.stats.requests == 3
    assert t.metrics.retries == 2
    assert count(table) == 1  # applied exactly once
    t.close()


def test_429_with_retry_after_beyond_the_cap_is_not_waited_for(proxy, prisma_server, table):
    t = PrismaTransport(proxy.url("http"), prisma_server.api_key, retry_max_wait=1.0)
    proxy.http_error(429, retry_after=30)
    start = time.monotonic()
    with pytest.raises(dbapi.OperationalError) as exc:
        t.execute(Statement("SELECT 1"))
    assert exc.value.status == 429
    assert time.monotonic() - start < 1
    assert proxy.stats.requests == 1
    t.close()


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_reads_are_retried_on_429_and_5xx(proxy, prisma_server, table, status):
    t = via(proxy, prisma_server)
    # An empty body: a gateway's answer (a 500 carrying a query-engine error is not retried).
    proxy.http_error(status, times=2, body=b"")
    assert t.execute(Statement("SELECT 1")).rows == [(1,)]
    assert proxy.stats.requests == 3
    assert t.metrics.retries == 2
    t.close()


def test_read_retries_are_bounded(proxy, prisma_server, table):
    t = PrismaTransport(proxy.url("http"), prisma_server.api_key, retries=2)
    proxy.http_error(503, times=10)
    with pytest.raises(dbapi.OperationalError) as exc:
        t.execute(Statement("SELECT 1"))
    assert exc.value.status == 503
    assert proxy.stats.requests == 3  # 1 + 2 retries
    proxy.clear()
    t.close()


@pytest.mark.parametrize("fault", ["drop", "reset"])
def test_cut_connections_retry_reads_but_not_writes(proxy, prisma_server, table, fault):
    def cut() -> None:
        if fault == "drop":
            proxy.drop(times=1)  # the request is not forwarded
        else:
            proxy.reset(times=1, after_bytes=10)  # forwarded; the answer is cut

    t = via(proxy, prisma_server)
    cut()
    assert t.execute(Statement("SELECT 1")).rows == [(1,)]
    assert t.metrics.retries == 1
    cut()
    with pytest.raises(dbapi.OperationalError) as exc:
        t.execute(INSERT)  # it may have been applied: reported, never sent twice
    assert_no_secret(exc.value, prisma_server.api_key)
    assert t.metrics.retries == 1
    assert count(table) == (0 if fault == "drop" else 1)
    assert t.execute(Statement("SELECT 1")).rows == [(1,)]
    t.close()


def test_transaction_start_is_retried(proxy, prisma_server, table):
    t = via(proxy, prisma_server)
    t.begin()
    proxy.http_error(503)  # answers /transaction/start
    t.execute(INSERT)
    t.commit()
    assert t.metrics.retries == 1
    assert count(table) == 1
    t.close()


def test_stall_times_out_within_the_timeout(proxy, prisma_server, table):
    t = via(proxy, prisma_server, timeout=1.0)
    proxy.stall(times=1, seconds=5)
    start = time.monotonic()
    with pytest.raises(dbapi.OperationalError):
        t.execute(Statement("SELECT 1"))
    assert time.monotonic() - start < 3
    proxy.clear()
    t.close()


def test_failed_commit_is_reported_not_silently_acknowledged(proxy, prisma_server, table):
    t = via(proxy, prisma_server)
    t.begin()
    t.execute(Statement("INSERT INTO faults_t (v) VALUES ($1)", ["tx"]))
    sent = proxy.stats.requests
    proxy.http_error(503)
    with pytest.raises(dbapi.OperationalError):
        t.commit()
    assert t.metrics.retries == 0  # a commit is never sent twice
    assert proxy.stats.requests == sent + 2  # the commit, then the best-effort rollback
    assert not t.in_transaction
    # Not acknowledged: the server-side transaction was never committed and times out.
    assert count(table) == 0
    t.close()
