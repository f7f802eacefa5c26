"""Fault tests on a private local server: it dies mid-workload, then comes back."""

from __future__ import annotations

import sys
import threading
import time
import uuid

import pytest


def _server(data, port=None):
    from django_backend_core.servers import LocalServer

    argv = [sys.executable, "-m", "django_astra.server", "--port", "{port}", "--data", str(data)]
    return LocalServer(argv, port=port, name="cql-faults").start()


def _wrapper(port, alias):
    from cassandra.policies import ConstantReconnectionPolicy
    from django_astra.base import DatabaseWrapper

    settings = {
        "ENGINE": "django_astra",
        "NAME": "faults",
        "HOST": "127.0.0.1",
        "PORT": port,
        "OPTIONS": {
            "connection": {
                "reconnection_policy": ConstantReconnectionPolicy(0.2, max_attempts=None)
            },
            "request_timeout": 3,
            "connect_timeout": 2,
        },
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {},
    }
    return DatabaseWrapper(settings, alias=alias)


@pytest.fixture
def faulty(django_env, tmp_path, local_only):
    srv = _server(tmp_path)
    w = _wrapper(srv.port, "faults-" + uuid.uuid4().hex[:6])
    w.ensure_connection()
    cur = w.cursor()
    cur.execute(
        "CREATE KEYSPACE IF NOT EXISTS faults WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    w.connection.use_keyspace("faults")
    cur.execute(
        "CREATE TABLE IF NOT EXISTS party (city text, id uuid, people int, PRIMARY KEY (city, id))"
    )
    state = {"srv": srv, "w": w, "data": tmp_path}
    yield state
    w.close()
    state["srv"].stop()


def _until(fn, timeout=20.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            return fn()
        except Exception as e:  # noqa: BLE001
            last = e
            time.sleep(0.2)
    raise AssertionError(f"not recovered in {timeout}s: {last!r}")


def test_stop_mid_workload_then_reconnect(faulty):
    from django.db import OperationalError

    w = faulty["w"]
    cur = w.cursor()
    pid = uuid.uuid4()
    cur.execute("INSERT INTO party (city, id, people) VALUES (%s, %s, %s)", ("x", pid, 1))
    port = faulty["srv"].port
    faulty["srv"].stop()
    with pytest.raises(OperationalError):
        for _ in range(3):
            w.cursor().execute("SELECT people FROM party WHERE city=%s AND id=%s", ("x", pid))
    assert not w.is_usable()
    faulty["srv"] = _server(faulty["data"], port=port)
    row = _until(
        lambda: (
            w.cursor().execute("SELECT people FROM party WHERE city=%s AND id=%s", ("x", pid)).one()
        )
    )
    assert row == {"people": 1}  # data survived, same Django connection reconnected
    assert w.is_usable()


def test_lwt_never_reports_applied_when_not(faulty):
    """Kill -9 the server during a stream of conditional increments: every increment reported
    applied is in the data afterwards; failed ones are errors, never applied=True."""
    w = faulty["w"]
    pid = uuid.uuid4()
    w.cursor().execute("INSERT INTO party (city, id, people) VALUES (%s, %s, %s)", ("lwt", pid, 0))
    port = faulty["srv"].port
    applied = errors = 0
    known = 0
    killer = threading.Timer(0.6, lambda: faulty["srv"].process.kill())
    killer.start()
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            res = (
                w.cursor()
                .execute(
                    "UPDATE party SET people=%s WHERE city=%s AND id=%s IF people=%s",
                    (known + 1, "lwt", pid, known),
                )
                .one()
            )
        except Exception as e:  # noqa: BLE001 - outcome unknown: the server may have died after writing
            from django.db import OperationalError

            assert isinstance(e, OperationalError), repr(e)  # a clear error, never a driver one
            errors += 1
            break
        if res["[applied]"]:
            applied += 1
            known += 1
        else:
            known = res["people"]
    killer.join()
    faulty["srv"].stop()
    faulty["srv"] = _server(faulty["data"], port=port)
    row = _until(
        lambda: (
            w.cursor()
            .execute("SELECT people FROM party WHERE city=%s AND id=%s", ("lwt", pid))
            .one()
        )
    )
    assert errors == 1 and applied > 0
    assert applied <= row["people"] <= applied + errors


@pytest.fixture
def orm_alias(django_env, tmp_path, local_only):
    """A Django alias (in ``connections``, registered with cqlengine) on a private server."""
    from django.db import connections
    from django_astra import cqlengine_bridge
    from django_astra.models import _ALIAS_CACHE

    srv = _server(tmp_path)
    alias = "faults-orm-" + uuid.uuid4().hex[:6]
    w = _wrapper(srv.port, alias)
    connections.settings[alias] = w.settings_dict
    cqlengine_bridge.register(alias, default=False)
    cur = connections[alias].cursor()
    cur.execute(
        "CREATE KEYSPACE IF NOT EXISTS faults WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    cur.execute(
        "CREATE TABLE IF NOT EXISTS faults.party (city text, id uuid, people int, PRIMARY KEY (city, id))"
    )
    state = {"srv": srv, "alias": alias, "data": tmp_path}
    yield state
    connections[alias].close()
    del connections[alias]
    del connections.settings[alias]
    from cassandra.cqlengine import connection as cqlengine_connection

    cqlengine_connection._connections.pop(alias, None)
    _ALIAS_CACHE.clear()
    state["srv"].stop()


def test_orm_workload_server_killed_then_back(orm_alias):
    """The server is killed while ORM reads and writes run: each call either works or raises
    django.db.OperationalError (no driver exception, no hang); after a restart on the same port
    the same Django connection serves the ORM again, data intact."""
    from cassandra.cqlengine import columns
    from django.db import OperationalError, connections
    from django_astra.models import DjangoCassandraModel

    class FaultParty(DjangoCassandraModel):
        __database__ = orm_alias["alias"]
        __keyspace__ = "faults"
        __table_name__ = "party"
        city = columns.Text(primary_key=True)
        id = columns.UUID(primary_key=True, default=uuid.uuid4)
        people = columns.Integer(default=0)

        class Meta:
            app_label = "faults"
            get_pk_field = "id"

    first = FaultParty.create(city="f", people=1)
    killer = threading.Timer(0.5, lambda: orm_alias["srv"].process.kill())
    killer.start()
    done = 0
    failure = None
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            p = FaultParty.create(city="f", people=done)
            assert FaultParty.objects(city="f").get(pk=p.id).people == done
            done += 1
        except Exception as e:  # noqa: BLE001 - checked below
            failure = e
            break
    killer.join()
    assert isinstance(failure, OperationalError), repr(failure)
    assert done > 0  # the failure came mid-workload, not before it started
    assert not connections[orm_alias["alias"]].is_usable()
    port = orm_alias["srv"].port
    orm_alias["srv"].stop()
    orm_alias["srv"] = _server(orm_alias["data"], port=port)
    got = _until(lambda: FaultParty.objects(city="f").get(pk=first.id))
    assert got.people == 1
    assert FaultParty.objects(city="f").count() >= done + 1
