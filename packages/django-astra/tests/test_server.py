"""CQL semantics through the real cassandra-driver: the local server must answer as Cassandra does.

These run against a real cluster too (CASSANDRA_HOSTS), so they only assert Cassandra behaviour.
"""

from __future__ import annotations

import time
import uuid

import pytest
from cassandra import InvalidRequest
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement, SimpleStatement


@pytest.fixture(scope="module")
def t(session):
    session.execute(
        "CREATE TABLE IF NOT EXISTS ev (p text, c int, d text, v int, tags set<text>, m map<text,int>, "
        "l list<int>, PRIMARY KEY (p, c)) WITH CLUSTERING ORDER BY (c DESC)"
    )
    session.execute("TRUNCATE ev")
    return session


def test_upsert_and_clustering_order(t):
    for c in (2, 5, 1):
        t.execute("INSERT INTO ev (p, c, v) VALUES (%s, %s, %s)", ("a", c, c * 10))
    t.execute("INSERT INTO ev (p, c, v) VALUES ('a', 5, 55)")  # upsert, no error
    rows = list(t.execute("SELECT c, v FROM ev WHERE p='a'"))
    assert [r["c"] for r in rows] == [5, 2, 1]  # DESC clustering
    assert rows[0]["v"] == 55
    asc = list(t.execute("SELECT c FROM ev WHERE p='a' ORDER BY c ASC"))
    assert [r["c"] for r in asc] == [1, 2, 5]
    rng = list(t.execute("SELECT c FROM ev WHERE p='a' AND c > 1 AND c <= 5"))
    assert [r["c"] for r in rng] == [5, 2]


def test_in_limit_and_count(t):
    for p in ("x", "y", "z"):
        for c in range(3):
            t.execute("INSERT INTO ev (p, c) VALUES (%s, %s)", (p, c))
    rows = list(t.execute("SELECT p, c FROM ev WHERE p IN ('x', 'z') AND c IN (0, 2)"))
    assert sorted((r["p"], r["c"]) for r in rows) == [("x", 0), ("x", 2), ("z", 0), ("z", 2)]
    assert len(list(t.execute("SELECT * FROM ev WHERE p='x' LIMIT 2"))) == 2
    assert t.execute("SELECT count(*) FROM ev WHERE p='y'").one()["count"] == 3
    ps = t.prepare("SELECT c FROM ev WHERE p=? LIMIT ?")
    assert [r["c"] for r in t.execute(ps, ("y", 1))] == [2]


def test_token_order_scan_and_paging(t):
    t.execute("CREATE TABLE IF NOT EXISTS kv (k int PRIMARY KEY, v text)")
    for k in range(25):
        t.execute("INSERT INTO kv (k, v) VALUES (%s, %s)", (k, str(k)))
    rows = list(t.execute("SELECT k, token(k) FROM kv"))
    tokens = [r["system.token(k)"] for r in rows]
    assert tokens == sorted(tokens) and len(rows) == 25
    rs = t.execute(SimpleStatement("SELECT k FROM kv", fetch_size=10))
    assert rs.has_more_pages and len(rs.current_rows) == 10
    assert [r["k"] for r in rs] == [r["k"] for r in rows]  # all pages, same order
    after = list(t.execute("SELECT k FROM kv WHERE token(k) > %s", (tokens[9],)))
    assert [r["k"] for r in after] == [r["k"] for r in rows[10:]]


def test_lwt_applied_and_current_values(t):
    r = t.execute("INSERT INTO ev (p, c, v) VALUES ('lwt', 1, 1) IF NOT EXISTS").one()
    assert r == {"[applied]": True}
    r = t.execute("INSERT INTO ev (p, c, v) VALUES ('lwt', 1, 9) IF NOT EXISTS").one()
    assert r["[applied]"] is False and r["v"] == 1
    r = t.execute("UPDATE ev SET v=2 WHERE p='lwt' AND c=1 IF v=5").one()
    assert r == {"[applied]": False, "v": 1}
    assert t.execute("UPDATE ev SET v=2 WHERE p='lwt' AND c=1 IF v=1").one()["[applied]"] is True
    assert (
        t.execute("UPDATE ev SET v=3 WHERE p='lwt' AND c=99 IF EXISTS").one()["[applied]"] is False
    )
    assert t.execute("DELETE FROM ev WHERE p='lwt' AND c=1 IF EXISTS").one()["[applied]"] is True
    assert t.execute("SELECT * FROM ev WHERE p='lwt'").one() is None


def test_ttl_expires(t):
    t.execute("INSERT INTO ev (p, c, v) VALUES ('ttl', 1, 1) USING TTL 1")
    assert t.execute("SELECT ttl(v) FROM ev WHERE p='ttl' AND c=1").one()["ttl(v)"] in (0, 1)
    time.sleep(2.1)
    assert t.execute("SELECT * FROM ev WHERE p='ttl'").one() is None


def test_counters(t):
    t.execute("CREATE TABLE IF NOT EXISTS hits (k text PRIMARY KEY, n counter)")
    t.execute("UPDATE hits SET n = n + 5 WHERE k='a'")
    t.execute("UPDATE hits SET n = n - 2 WHERE k='a'")
    assert t.execute("SELECT n FROM hits WHERE k='a'").one()["n"] == 3
    with pytest.raises(InvalidRequest, match="Cannot set the value of counter column n"):
        t.execute("UPDATE hits SET n = 1 WHERE k='a'")
    with pytest.raises(InvalidRequest, match="INSERT statements are not allowed on counter tables"):
        t.execute("INSERT INTO hits (k, n) VALUES ('b', 1)")


def test_collections(t):
    t.execute("INSERT INTO ev (p, c, tags, m, l) VALUES ('col', 1, {'b', 'a'}, {'x': 1}, [1, 2])")
    t.execute("UPDATE ev SET tags = tags + {'c'}, m['y'] = 2, l = l + [3] WHERE p='col' AND c=1")
    t.execute("UPDATE ev SET tags = tags - {'a'}, l = [0] + l WHERE p='col' AND c=1")
    t.execute("DELETE m['x'] FROM ev WHERE p='col' AND c=1")
    r = t.execute("SELECT tags, m, l FROM ev WHERE p='col' AND c=1").one()
    assert r["tags"] == {"b", "c"} and dict(r["m"]) == {"y": 2} and r["l"] == [0, 1, 2, 3]
    ps = t.prepare("SELECT c FROM ev WHERE p=? AND tags CONTAINS ? ALLOW FILTERING")
    assert [x["c"] for x in t.execute(ps, ("col", "c"))] == [1]


def test_batch_logged(t):
    b = BatchStatement()
    ins = t.prepare("INSERT INTO ev (p, c, v) VALUES (?, ?, ?)")
    b.add(ins, ("batch", 1, 1))
    b.add(ins, ("batch", 2, 2))
    b.add(SimpleStatement("UPDATE ev SET v = 7 WHERE p='batch' AND c=1"))
    t.execute(b)
    assert {r["c"]: r["v"] for r in t.execute("SELECT c, v FROM ev WHERE p='batch'")} == {
        1: 7,
        2: 2,
    }
    t.execute(
        "BEGIN BATCH INSERT INTO ev (p, c) VALUES ('batch', 3); DELETE FROM ev WHERE p='batch' AND c=2; APPLY BATCH"
    )
    assert sorted(r["c"] for r in t.execute("SELECT c FROM ev WHERE p='batch'")) == [1, 3]


def test_cassandra_refusals(t):
    with pytest.raises(
        InvalidRequest, match="Order by is currently only supported on the clustered columns"
    ):
        t.execute("SELECT * FROM ev WHERE p='a' ORDER BY v")
    with pytest.raises(InvalidRequest, match="ALLOW FILTERING"):
        t.execute("SELECT * FROM ev WHERE v = 1")
    assert isinstance(list(t.execute("SELECT * FROM ev WHERE v = 1 ALLOW FILTERING")), list)
    with pytest.raises(InvalidRequest, match="Some partition key parts are missing: p"):
        t.execute("INSERT INTO ev (c, v) VALUES (1, 1)")
    with pytest.raises(InvalidRequest, match="Some clustering keys are missing: c"):
        t.execute("UPDATE ev SET v = 1 WHERE p='a'")
    with pytest.raises(InvalidRequest, match="Undefined column name nope"):
        t.execute("SELECT nope FROM ev")
    with pytest.raises(InvalidRequest, match="unconfigured table nosuch"):
        t.execute("SELECT * FROM nosuch")
    with pytest.raises(SyntaxException):
        t.execute("SELEC * FROM ev")


def test_schema_metadata_visible_to_driver(t):
    t.execute("CREATE TABLE IF NOT EXISTS meta_t (a text, b timeuuid, x int, PRIMARY KEY ((a), b))")
    t.execute("CREATE INDEX IF NOT EXISTS meta_t_x ON meta_t (x)")
    cluster = t.cluster
    cluster.refresh_table_metadata(t.keyspace, "meta_t")
    tm = cluster.metadata.keyspaces[t.keyspace].tables["meta_t"]
    assert [c.name for c in tm.partition_key] == ["a"] and [c.name for c in tm.clustering_key] == [
        "b"
    ]
    assert "meta_t_x" in tm.indexes
    assert list(t.execute("SELECT * FROM meta_t WHERE x = 1")) == []


def test_vector_ann(t, cql_target):
    t.execute("CREATE TABLE IF NOT EXISTS vec (id int PRIMARY KEY, v vector<float, 2>)")
    with pytest.raises(InvalidRequest):
        t.execute("SELECT id FROM vec ORDER BY v ANN OF [1.0, 0.0] LIMIT 2")
    t.execute(
        "CREATE CUSTOM INDEX IF NOT EXISTS vec_v ON vec (v) USING 'StorageAttachedIndex' "
        "WITH OPTIONS = {'similarity_function': 'COSINE'}"
    )
    ins = t.prepare("INSERT INTO vec (id, v) VALUES (?, ?)")
    for i, vec in enumerate([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]):
        t.execute(ins, (i, vec))
    rows = list(
        t.execute(t.prepare("SELECT id FROM vec ORDER BY v ANN OF ? LIMIT 2"), ([1.0, 0.1],))
    )
    assert [r["id"] for r in rows] == [0, 2]


def test_restart_keeps_data_and_unprepared_is_reprepared(local_only, tmp_path):
    """Data persists in --data; after a restart the driver re-prepares (Unprepared) by itself."""
    import sys

    from cassandra.cluster import Cluster
    from django_backend_core.servers import LocalServer

    argv = [
        sys.executable,
        "-m",
        "django_astra.server",
        "--port",
        "{port}",
        "--data",
        str(tmp_path),
    ]
    srv = LocalServer(argv, name="cql-restart").start()
    try:
        cluster = Cluster(
            ["127.0.0.1"], port=srv.port, protocol_version=4, reconnection_policy=_fast_reconnect()
        )
        s = cluster.connect()
        s.execute(
            "CREATE KEYSPACE r WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        s.execute("CREATE TABLE r.t (k int PRIMARY KEY, v text)")
        ps = s.prepare("INSERT INTO r.t (k, v) VALUES (?, ?)")
        s.execute(ps, (1, "one"))
        port = srv.port
        srv.stop()
        srv = LocalServer(argv, port=port, name="cql-restart").start()
        _wait_up(s)
        s.execute(ps, (2, "two"))
        assert sorted(r.k for r in s.execute("SELECT k FROM r.t")) == [1, 2]
        cluster.shutdown()
    finally:
        srv.stop()


def test_astra_mode(cql_server_astra):
    from cassandra import ConsistencyLevel, Unauthorized
    from cassandra.cluster import Cluster

    cluster = Cluster(["127.0.0.1"], port=cql_server_astra.port, protocol_version=4)
    s = cluster.connect()
    try:
        assert cluster.metadata.dbaas is True
        with pytest.raises(Unauthorized):
            s.execute(
                "CREATE KEYSPACE nope WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
            )
        s.execute("CREATE TABLE IF NOT EXISTS default_keyspace.t (k int PRIMARY KEY, v int)")
        one = SimpleStatement(
            "INSERT INTO default_keyspace.t (k, v) VALUES (1, 1)",
            consistency_level=ConsistencyLevel.ONE,
        )
        with pytest.raises(InvalidRequest, match="LOCAL_ONE"):
            s.execute(one)
        quorum = SimpleStatement(
            "INSERT INTO default_keyspace.t (k, v) VALUES (1, 1)",
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
        )
        s.execute(quorum)
        assert s.execute("SELECT v FROM default_keyspace.t WHERE k=1").one().v == 1
    finally:
        cluster.shutdown()


def test_plaintext_auth(tmp_path):
    import os
    import sys

    from cassandra import AuthenticationFailed
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster, NoHostAvailable
    from django_backend_core.servers import LocalServer

    env = dict(os.environ, DJANGO_ASTRA_SERVER_PASSWORD="s3cret-pw")
    argv = [sys.executable, "-m", "django_astra.server", "--port", "{port}", "--username", "token"]
    with LocalServer(argv, env=env, name="cql-auth") as srv:
        good = Cluster(
            ["127.0.0.1"],
            port=srv.port,
            protocol_version=4,
            auth_provider=PlainTextAuthProvider("token", "s3cret-pw"),
        )
        assert good.connect().execute("SELECT key FROM system.local").one().key == "local"
        good.shutdown()
        bad = Cluster(
            ["127.0.0.1"],
            port=srv.port,
            protocol_version=4,
            auth_provider=PlainTextAuthProvider("token", "wrong"),
        )
        with pytest.raises(NoHostAvailable) as ei:
            bad.connect()
        assert any(isinstance(e, AuthenticationFailed) for e in ei.value.errors.values())
        bad.shutdown()


def _fast_reconnect():
    from cassandra.policies import ConstantReconnectionPolicy

    return ConstantReconnectionPolicy(0.2, max_attempts=None)


def _wait_up(s, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            s.execute("SELECT key FROM system.local")
            return
        except Exception:  # noqa: BLE001
            time.sleep(0.2)
    raise AssertionError("driver did not reconnect")


def test_uuid_and_timestamp_literals(t):
    t.execute("CREATE TABLE IF NOT EXISTS lit (id uuid PRIMARY KEY, at timestamp, tu timeuuid)")
    u = uuid.uuid4()
    t.execute(f"INSERT INTO lit (id, at, tu) VALUES ({u}, 1700000000000, now())")
    r = t.execute("SELECT at, tu FROM lit WHERE id=%s", (u,)).one()
    assert r["at"].year == 2023 and r["tu"].version == 1


def test_clustering_order_mixed_types_and_streamed_limit(t):
    import datetime

    t.execute(
        "CREATE TABLE IF NOT EXISTS ord (p int, a text, b timestamp, c double, PRIMARY KEY (p, a, b, c)) "
        "WITH CLUSTERING ORDER BY (a ASC, b DESC, c ASC)"
    )
    base = datetime.datetime(2024, 1, 1)
    rows = []
    for a in ("b", "a", "ä", "aa"):
        for days in (0, 2, 1):
            for c in (-1.5, 2.0, -0.0, 10.25):
                rows.append((a, base + datetime.timedelta(days=days), c))
    ins = t.prepare("INSERT INTO ord (p, a, b, c) VALUES (1, ?, ?, ?)")
    for r in rows:
        t.execute(ins, r)
    expected = sorted(rows, key=lambda r: (r[0].encode(), -r[1].timestamp(), r[2]))
    got = [(r["a"], r["b"], r["c"]) for r in t.execute("SELECT a, b, c FROM ord WHERE p=1")]
    assert got == expected
    assert [
        (r["a"], r["b"], r["c"]) for r in t.execute("SELECT a, b, c FROM ord WHERE p=1 LIMIT 5")
    ] == expected[:5]
    rev = [
        (r["a"], r["b"], r["c"])
        for r in t.execute("SELECT a, b, c FROM ord WHERE p=1 ORDER BY a DESC LIMIT 7")
    ]
    assert rev == expected[::-1][:7]
    sl = [
        (r["a"], r["b"], r["c"])
        for r in t.execute("SELECT a, b, c FROM ord WHERE p=1 AND a > 'a' AND a < 'b'")
    ]
    assert sl == [r for r in expected if "a" < r[0] < "b"]
    rs = t.execute(SimpleStatement("SELECT a, b, c FROM ord WHERE p=1", fetch_size=10))
    assert [(r["a"], r["b"], r["c"]) for r in rs] == expected


def test_schema_change_event_reaches_other_clients(cql_target, session):
    """DDL from one client is pushed (EVENT SCHEMA_CHANGE) to another client's metadata."""
    other = cql_target.cluster(schema_event_refresh_window=0.1)
    other.connect()
    try:
        session.execute("CREATE TABLE IF NOT EXISTS pushed (k int PRIMARY KEY)")
        deadline = time.time() + 10
        seen = False
        while time.time() < deadline and not seen:
            ks = other.metadata.keyspaces.get(session.keyspace)
            seen = ks is not None and "pushed" in ks.tables
            time.sleep(0.1)
        assert seen
    finally:
        other.shutdown()
