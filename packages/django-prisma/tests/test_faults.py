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


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_http_errors_are_operational_and_recoverable(proxy, prisma_server, table, status):
    t = via(proxy, prisma_server)
    proxy.http_error(status)
    with pytest.raises(dbapi.OperationalError) as exc:
        t.execute(Statement("INSERT INTO faults_t (v) VALUES ($1)", ["x"]))
    assert exc.value.status == status
    assert_no_secret(exc.value, prisma_server.api_key)
    assert count(table) == 0  # the faulted request never reached the server
    t.execute(Statement("INSERT INTO faults_t (v) VALUES ($1)", ["y"]))
    assert count(table) == 1
    t.close()


@pytest.mark.parametrize("fault", ["drop", "reset"])
def test_cut_connections_raise_operational_error(proxy, prisma_server, table, fault):
    t = via(proxy, prisma_server)
    if fault == "drop":
        proxy.drop(times=1)
    else:
        proxy.reset(times=1, after_bytes=10)
    with pytest.raises(dbapi.OperationalError) as exc:
        t.execute(Statement("SELECT 1"))
    assert_no_secret(exc.value, prisma_server.api_key)
    assert t.execute(Statement("SELECT 1")).rows == [(1,)]
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
    proxy.http_error(503)
    with pytest.raises(dbapi.OperationalError):
        t.commit()
    assert not t.in_transaction
    # Not acknowledged: the server-side transaction was never committed and times out.
    assert count(table) == 0
    t.close()
