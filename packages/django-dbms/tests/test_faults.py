"""Fault tests on the transport: dropped sockets, a killed and restarted server.

Invariants: no acknowledged write is lost or applied twice, a broken transaction surfaces as
an error (never half-committed), reads are retried on a fresh socket, writes never blindly,
and the next request reconnects.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from django_backend_core import dbapi
from django_backend_core.servers import LocalServer
from django_backend_core.transport import Statement
from django_dbms.testing import Raw
from django_dbms.transport import DBMSTransport


def q(sql, *params):
    return Statement(sql, list(params))


@pytest.fixture
def endpoint(local_only, db_id):
    """Our Python server: these tests drop every socket or kill the server."""
    return local_only.endpoint(db_id)


@pytest.fixture
def emulated_endpoint(emulated, db_id):
    """The local server or the Miniflare Worker (both give up waiting for a lock)."""
    return emulated.endpoint(db_id)


def test_idle_socket_dropped_by_another_sessions_rollback_reconnects(endpoint):
    t = DBMSTransport(endpoint)
    other = DBMSTransport(endpoint)
    t.execute(q("CREATE TABLE t (n INTEGER)"))
    other.begin()
    other.execute(q("INSERT INTO t VALUES (1)"))
    other.rollback()  # the Worker drops every socket of the database, t's too
    time.sleep(0.2)
    assert t.execute(q("SELECT count(*) FROM t")).rows == [(0,)]
    assert t.execute(q("INSERT INTO t VALUES (?)", "x")).rowcount == 1  # writes reconnect too
    assert t.connects == 2
    t.close()
    other.close()


def test_read_in_flight_is_retried_write_is_not(endpoint):
    holder = DBMSTransport(endpoint)
    reader = DBMSTransport(endpoint)
    writer = DBMSTransport(endpoint)
    holder.execute(q("CREATE TABLE t (n INTEGER)"))
    reader.execute(q("SELECT 1"))
    writer.execute(q("SELECT 1"))
    holder.begin()
    holder.execute(q("SELECT 1"))  # the begin travels with it and takes the lock
    got: dict = {}

    def read():
        got["read"] = reader.execute(q("SELECT count(*) FROM t")).rows

    def write():
        try:
            writer.execute(q("INSERT INTO t VALUES (?)", "w"))
        except dbapi.OperationalError as exc:
            got["write"] = exc

    threads = [threading.Thread(target=read), threading.Thread(target=write)]
    for th in threads:
        th.start()
    time.sleep(0.3)  # both wait for the lock, their requests are on the wire
    holder.rollback()  # ... and the rollback drops their sockets
    for th in threads:
        th.join(10)
    assert got["read"] == [(0,)]
    assert reader.metrics.retries == 1
    assert "may or may not have been applied" in str(got["write"])
    # The write was not re-sent: nothing is in the table.
    assert reader.execute(q("SELECT count(*) FROM t")).rows == [(0,)]
    for t in (holder, reader, writer):
        t.close()


def test_socket_lost_inside_a_transaction_is_an_error_and_nothing_commits(emulated_endpoint):
    t = DBMSTransport(emulated_endpoint)
    t.execute(q("CREATE TABLE t (n INTEGER)"))
    t.begin()
    t.execute(q("INSERT INTO t VALUES (1)"))
    t._ws.close()  # the socket dies mid-transaction
    with pytest.raises(dbapi.OperationalError, match="inside a transaction"):
        t.execute(q("INSERT INTO t VALUES (2)"))
    assert not t.in_transaction
    assert t.execute(q("SELECT count(*) FROM t")).rows == [(0,)]  # reconnected, rolled back
    t.close()


@pytest.fixture
def restartable(tmp_path):
    argv = [sys.executable, "-m", "django_dbms.server", "--port", "{port}", "--data"]
    server = LocalServer(argv + [str(tmp_path)], ready="tcp", name="dbms-restart")
    server.start()
    yield server
    server.stop()


def test_server_killed_mid_write_and_restarted(restartable):
    url = f"ws://127.0.0.1:{restartable.port}/api/v1/databases/fault-db/websocket"
    t = DBMSTransport(url, timeout=10)
    t.execute(q("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    acknowledged = []
    for i in range(20):
        t.execute(q("INSERT INTO t (v) VALUES (?)", f"ack{i}"))
        acknowledged.append(f"ack{i}")
    # A slow write (a big recursive insert) in flight when the server dies.
    slow = (
        "INSERT INTO t (v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
        "WHERE x < 3000000) SELECT 'slow' || x FROM c WHERE ? IS NOT NULL"
    )
    outcome: dict = {}

    def run():
        try:
            t.execute(q(slow, "go"))
            outcome["ok"] = True
        except dbapi.Error as exc:
            outcome["error"] = exc

    th = threading.Thread(target=run)
    th.start()
    time.sleep(0.4)
    restartable.stop()
    th.join(15)
    assert "may or may not have been applied" in str(outcome.get("error"))
    restartable.start()
    rows = t.execute(q("SELECT v FROM t WHERE v LIKE 'ack%' ORDER BY id")).rows
    assert [r[0] for r in rows] == acknowledged  # nothing lost, nothing doubled
    slow_rows = t.execute(q("SELECT count(*) FROM t WHERE v LIKE 'slow%'")).rows[0][0]
    assert slow_rows in (0, 3000000)  # all or nothing, never re-sent
    t.close()


def test_no_reply_is_a_timeout_and_the_socket_is_not_reused(emulated_endpoint):
    holder = Raw(emulated_endpoint)
    holder.rows("begin")
    t = DBMSTransport(emulated_endpoint, timeout=0.5)
    with pytest.raises(dbapi.OperationalError, match="did not answer"):
        t.execute(q("INSERT INTO x VALUES (1)"))
    holder.rows("commit")
    # A late reply to the abandoned request can never be read as this one's answer.
    assert t.execute(q("SELECT 42")).rows == [(42,)]
    holder.close()
    t.close()


def test_lock_timeout_on_the_first_statement_leaves_begin_pending(emulated_endpoint):
    holder = DBMSTransport(emulated_endpoint)
    t = DBMSTransport(emulated_endpoint)
    holder.execute(q("CREATE TABLE t (n INTEGER)"))
    holder.begin()
    holder.execute(q("INSERT INTO t VALUES (1)"))  # holds the lock (server --lock-timeout 2)
    t.begin()
    with pytest.raises(dbapi.OperationalError, match="locked by another session"):
        t.execute(q("INSERT INTO t VALUES (?)", 2))
    holder.commit()
    # The begin never ran: it goes again with the next statement, and commits.
    assert t.execute(q("INSERT INTO t VALUES (?)", 3)).rowcount == 1
    t.commit()
    assert holder.execute(q("SELECT n FROM t ORDER BY n")).rows == [(1,), (3,)]
    holder.close()
    t.close()


def test_wss_through_a_tls_proxy(emulated, db_id, monkeypatch):
    """wss:// with certificate checks (the proxy's self-signed cert trusted via
    SSL_CERT_FILE), latency on the path, and an idle socket the server closes."""
    root = Path(__file__).resolve().parents[3] / "tests-integration"
    monkeypatch.syspath_prepend(str(root))
    proxy_mod = pytest.importorskip("faults.proxy")
    with proxy_mod.FaultProxy(("127.0.0.1", emulated.server.port), latency_ms=2, tls=True) as p:
        url = f"wss://127.0.0.1:{p.port}/api/v1/databases/{db_id}/websocket"
        with pytest.raises(dbapi.OperationalError):  # not trusted yet
            DBMSTransport(url, connect_timeout=5).execute(q("SELECT 1"))
        monkeypatch.setenv("SSL_CERT_FILE", str(p.cert_path))
        t = DBMSTransport(url, connect_timeout=5)
        t.execute(q("CREATE TABLE t (n INTEGER)"))
        t.begin()
        assert t.execute(q("INSERT INTO t VALUES (?)", 7)).rowcount == 1
        t.commit()
        assert t.execute(q("SELECT n FROM t")).rows == [(7,)]
        p.disconnect_all()
        time.sleep(0.1)
        assert not t.is_usable()  # the server's close was noticed without a request
        assert t.execute(q("SELECT count(*) FROM t")).rows == [(1,)]  # read retried/reconnected
        assert t.connects == 2
        t.close()


def test_raw_blob_values_are_refused_and_look_alikes_are_not(dbms_target, db_id):
    t = DBMSTransport(dbms_target.endpoint(db_id))
    with pytest.raises(dbapi.NotSupportedError, match="hex"):
        t.execute(q("SELECT X'00ff'"))
    assert t.execute(q("SELECT '{}', 1")).rows == [("{}", 1)]
    t.close()
