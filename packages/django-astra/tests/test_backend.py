"""The django_astra backend: connection lifecycle, cursor contract, models, sync, sessions, vectors."""

from __future__ import annotations

import threading
import time
import uuid
import warnings

import pytest


@pytest.fixture(scope="module")
def env(django_env):
    return django_env


@pytest.fixture
def city():
    return "c" + uuid.uuid4().hex[:8]


def test_no_connection_at_setup(tmp_path):
    """django.setup() + importing models/admin with NO server listening: nothing connects;
    the first query is what fails (OperationalError), i.e. connect on first use."""
    import subprocess
    import sys
    from pathlib import Path

    from django_backend_core.servers import free_port

    script = tmp_path / "probe.py"
    script.write_text(
        f"""
import sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django_astra", "django.contrib.contenttypes", "django.contrib.auth", "partyfinder"],
    DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
               "cassandra": {{"ENGINE": "django_astra", "NAME": "ks", "HOST": "127.0.0.1",
                             "PORT": {free_port()}, "OPTIONS": {{"connect_timeout": 1}}}}}},
)
django.setup()
import partyfinder.models, partyfinder.views
from django.db import connections, OperationalError
assert connections["cassandra"].connection is None
try:
    list(partyfinder.models.Party.objects(city="x"))
except OperationalError as e:
    print("first-use:", type(e).__name__)
"""
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "first-use: OperationalError" in out.stdout


def test_cursor_dict_rows_and_lwt(env, city):
    from django.db import connections
    from partyfinder.models import Party

    p = Party.create(city=city, name="Launch", people=2)
    cur = connections["cassandra"].cursor()
    row = cur.execute("SELECT name, people FROM party WHERE city=%s AND id=%s", (city, p.id)).one()
    assert row == {"name": "Launch", "people": 2}
    res = cur.execute(
        "UPDATE party SET people=%s WHERE city=%s AND id=%s IF people=%s", (3, city, p.id, 2)
    ).one()
    assert res["[applied]"] is True
    res = cur.execute(
        "UPDATE party SET people=%s WHERE city=%s AND id=%s IF people=%s", (9, city, p.id, 2)
    ).one()
    assert res["[applied]"] is False and res["people"] == 3
    assert cur.fetchall() == [(False, 3)]


def test_count_me_in_never_below_zero(env, city):
    from partyfinder.models import Party
    from partyfinder.views import count_me_in

    p = Party.create(city=city, name="Gig")
    assert count_me_in(city, p.id, 4) == (True, 4)
    assert count_me_in(city, p.id, -5) == (False, 4)
    assert count_me_in(city, p.id, -4) == (True, 0)
    assert Party.objects(city=city).get(pk=p.id).people == 0


def test_count_me_in_concurrent(env, city):
    """Parallel joins through LWT: the final count equals the applied joins, none lost."""
    from partyfinder.models import Party
    from partyfinder.views import count_me_in

    p = Party.create(city=city, name="Rush")
    results = []

    def join():
        from django.db import connections

        try:
            results.append(count_me_in(city, p.id, 1))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=join) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    applied = sum(1 for ok, _ in results if ok)
    assert Party.objects(city=city).get(pk=p.id).people == applied


def test_batch_and_ttl_through_cursor(env, city):
    from django.db import connections

    cur = connections["cassandra"].cursor()
    a, b = uuid.uuid4(), uuid.uuid4()
    cur.batch(
        [
            ("INSERT INTO party (city, id, name) VALUES (%s, %s, %s)", (city, a, "A")),
            ("INSERT INTO party (city, id, name) VALUES (%s, %s, %s) USING TTL 1", (city, b, "B")),
        ]
    )
    assert len(cur.execute("SELECT id FROM party WHERE city=%s", (city,)).all()) == 2
    time.sleep(2.1)
    assert [r["id"] for r in cur.execute("SELECT id FROM party WHERE city=%s", (city,))] == [a]


def test_prepared_statements_reused(env, city):
    from django.db import connections

    w = connections["cassandra"]
    cur = w.cursor()
    q = "SELECT name FROM party WHERE city=%s AND id=%s"
    cur.execute(q, (city, uuid.uuid4()))
    before = dict(w.connection.prepared)
    for _ in range(5):
        cur.execute(q, (city, uuid.uuid4()))
    after = w.connection.prepared
    key = "SELECT name FROM party WHERE city=? AND id=?"
    assert key in before and after[key] is before[key]


def test_filter_requires_allow_filtering(env, city):
    from django_astra.models import FilteringRequired
    from partyfinder.models import Party

    Party.create(city=city, name="Quiet", people=7)
    with pytest.raises(FilteringRequired, match="allow_filtering"):
        list(Party.objects.filter(city=city, people=7))
    assert [p.name for p in Party.objects.filter(city=city, people=7).allow_filtering()] == [
        "Quiet"
    ]


def test_order_by_non_clustering(env, city, settings_override):
    from cassandra.cqlengine.query import QueryException
    from partyfinder.models import Party

    for name in ("b", "c", "a"):
        Party.create(city=city, name=name)
    with pytest.raises(QueryException, match="CASSANDRA_FALLBACK_ORDER_BY_PYTHON"):
        Party.objects(city=city).order_by("name")
    with settings_override(CASSANDRA_FALLBACK_ORDER_BY_PYTHON=True):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            qs = Party.objects(city=city).order_by("-name")
        assert any("Python" in str(x.message) for x in w)
        assert [p.name for p in qs] == ["c", "b", "a"]
        assert qs.count() == 3
        assert qs.filter(name="b").allow_filtering().get().name == "b"


def test_get_pk_clustering_and_composite(env, city):
    from partyfinder.models import Guest, Party

    p = Party.create(city=city, name="Keys")
    assert p.pk == p.id
    got = Party.objects.get(pk=p.pk_token)
    assert (got.city, got.id) == (city, p.id)
    assert Party.objects(city=city).get(pk=p.id).name == "Keys"
    # setting pk writes the get_pk_field column, never the partition key (DCE #116)
    new_id = uuid.uuid4()
    got.pk = new_id
    assert got.city == city and got.id == new_id
    g = Guest.create(city=city, party_id=p.id, name="bo", email=f"bo@{city}")
    same = Guest.objects.get(pk=g.pk_token)
    assert (same.city, same.party_id, same.name) == (city, p.id, "bo")
    assert Guest.objects.get(email=f"bo@{city}").name == "bo"  # indexed column, no filtering needed


def test_sync_reports_changes(env):
    from io import StringIO

    from cassandra.cqlengine import columns
    from django.core.management import call_command
    from django.db import connections
    from partyfinder import models as pf

    out = StringIO()
    call_command("sync_cassandra", stdout=out)
    assert "no changes" in out.getvalue()
    # a new column on an existing model is added with ALTER TABLE and reported
    col = columns.Text()
    col.set_column_name("mood")
    pf.Party._columns["mood"] = col
    pf.Party._defined_columns["mood"] = col
    try:
        out = StringIO()
        call_command("migrate", database="cassandra", stdout=out)
        assert "added column party.mood" in out.getvalue()
    finally:
        del pf.Party._columns["mood"]
        del pf.Party._defined_columns["mood"]
    cur = connections["cassandra"].cursor()
    assert "mood" in cur.execute("SELECT * FROM party LIMIT 1").column_names


def test_sessions_backend_uses_ttl(env):
    from django.db import connections
    from django_astra.sessions.backends.db import SessionStore

    s = SessionStore()
    s["user"] = 42
    s.set_expiry(300)
    s.save()
    key = s.session_key
    assert SessionStore(key).load() == {"user": 42, "_session_expiry": 300}
    ttl = (
        connections["cassandra"]
        .cursor()
        .execute("SELECT ttl(session_data) FROM django_session WHERE session_key=%s", (key,))
        .one()
    )
    assert 290 <= ttl["ttl(session_data)"] <= 300
    s.delete()
    assert not SessionStore().exists(key)


def test_vector_ann_helper(env):
    from partyfinder.models import Song

    base = 1000 + int(uuid.uuid4().int % 10**6) * 10
    Song.create(id=base + 1, title="north", embedding=[0.0, 1.0, 0.0])
    Song.create(id=base + 2, title="east", embedding=[1.0, 0.0, 0.0])
    Song.create(id=base + 3, title="north-east", embedding=[0.7, 0.7, 0.0])
    hits = Song.objects.ann("embedding", [0.1, 1.0, 0.0], limit=2, with_similarity=True)
    assert [h.title for h in hits][:1] == ["north"]
    assert hits[0].similarity >= hits[1].similarity


def test_atomic_is_refused(env):
    from django.db import NotSupportedError, transaction

    with pytest.raises(NotSupportedError, match="no transactions"):
        with transaction.atomic(using="cassandra"):
            pass


def test_debug_queries_logged(env, city):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext
    from partyfinder.models import Party

    with CaptureQueriesContext(connections["cassandra"]) as ctx:
        list(Party.objects(city=city))
    assert any("FROM" in q["sql"] and "party" in q["sql"] for q in ctx.captured_queries)


def test_unreachable_is_operational_error_without_secret(env):
    from django.db import OperationalError
    from django_astra.base import DatabaseWrapper
    from django_backend_core.servers import free_port
    from django_backend_core.testing import assert_no_secret

    settings = {
        "ENGINE": "django_astra",
        "NAME": "ks",
        "HOST": "127.0.0.1",
        "PORT": free_port(),
        "USER": "token",
        "PASSWORD": "AstraCS:super-secret-token",
        "OPTIONS": {"connect_timeout": 1},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {},
    }
    w = DatabaseWrapper(settings, alias="unreachable")
    with pytest.raises(OperationalError) as ei:
        w.ensure_connection()
    assert "unreachable" in str(ei.value).lower() or "no host" in str(ei.value).lower()
    assert_no_secret(ei.value, "AstraCS:super-secret-token")
    assert_no_secret(repr(w.settings_dict.get("OPTIONS")), "AstraCS:super-secret-token")


def test_close_and_is_usable(env):
    from django.db import connections

    w = connections["cassandra"]
    w.ensure_connection()
    assert w.is_usable()
    w.close()
    assert w.connection is None
    w.ensure_connection()
    assert w.is_usable()


def test_astra_mode_local_quorum(cql_server_astra, tmp_path):
    """Against an Astra-mode server the backend writes at LOCAL_QUORUM (ONE would be refused)."""
    from cassandra import ConsistencyLevel
    from django_astra.base import DatabaseWrapper

    settings = {
        "ENGINE": "django_astra",
        "NAME": "default_keyspace",
        "HOST": "127.0.0.1",
        "PORT": cql_server_astra.port,
        "OPTIONS": {},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {},
    }
    w = DatabaseWrapper(settings, alias="astra")
    w.ensure_connection()
    try:
        assert w.connection.astra is True
        assert (
            w.connection.cluster.profile_manager.default.consistency_level
            == ConsistencyLevel.LOCAL_QUORUM
        )
        cur = w.cursor()
        cur.execute("CREATE TABLE IF NOT EXISTS q (k int PRIMARY KEY, v int)")
        cur.execute("INSERT INTO q (k, v) VALUES (%s, %s)", (1, 2))
        assert cur.execute("SELECT v FROM q WHERE k=%s", (1,)).one() == {"v": 2}
    finally:
        w.close()


def test_point_read_is_one_request(env, city):
    """An ORM point read is one EXECUTE of a statement prepared once per connection."""
    from django.db import connections
    from partyfinder.models import Party

    p = Party.create(city=city, name="m")
    Party.objects(city=city).get(pk=p.id)  # first use prepares
    m = connections["cassandra"].connection.metrics
    before = m.requests
    for _ in range(3):
        assert Party.objects(city=city).get(pk=p.id).name == "m"
    assert m.requests - before == 3


def test_sync_on_astra_uses_sai_and_no_keyspace_ddl(env, local_only):
    from io import StringIO

    from django.core.management import call_command
    from django.db import connections
    from partyfinder.models import AstraNote

    out = StringIO()
    call_command("sync_cassandra", database="astra", stdout=out)
    text = out.getvalue()
    assert "created keyspace" not in text
    # (an earlier sync of every alias may already have created it)
    assert "created table default_keyspace.astra_note" in text or "no changes" in text, text
    conn = connections["astra"].connection
    assert conn.astra is True
    idx = conn.cluster.metadata.keyspaces["default_keyspace"].tables["astra_note"].indexes
    assert {i.index_options.get("class_name") for i in idx.values()} == {"StorageAttachedIndex"}
    AstraNote.create(id="n1", body="hello")
    assert AstraNote.objects.get(body="hello").id == "n1"  # indexed: no ALLOW FILTERING needed


def test_test_keyspace_lifecycle(env, local_only):
    """manage.py test's path: a test_<NAME> keyspace created, synced (via migrate), dropped."""
    from django.db import connections
    from partyfinder.models import Party

    w = connections["cassandra"]
    old = w.settings_dict["NAME"]
    name = w.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        assert name == "test_" + old and w.settings_dict["NAME"] == name
        meta = w.connection.cluster.metadata.keyspaces[name]
        assert "party" in meta.tables
        p = Party.create(city="tk", name="in test keyspace")
        assert Party._get_keyspace() == name
        assert Party.objects(city="tk").get(pk=p.id).name == "in test keyspace"
    finally:
        w.creation.destroy_test_db(old, verbosity=0)
    w.ensure_connection()
    assert w.settings_dict["NAME"] == old
    w.connection.cluster.refresh_schema_metadata()
    assert name not in w.connection.cluster.metadata.keyspaces
    assert Party._get_keyspace() == old


def test_cloud_secure_connect_bundle(django_env, tmp_path, local_only):
    """The cloud= path end to end: bundle zip, HTTPS metadata, CQL over TLS via SNI, token auth."""
    import os
    import shutil
    import sys

    from cassandra import ConsistencyLevel
    from cassandra.auth import PlainTextAuthProvider
    from django_astra.base import DatabaseWrapper
    from django_backend_core.servers import LocalServer
    from django_backend_core.testing import assert_no_secret

    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available to make certificates")
    token = "AstraCS:local-test-token"
    scb = tmp_path / "secure-connect-local.zip"
    argv = [
        sys.executable,
        "-m",
        "django_astra.server",
        "--port",
        "{port}",
        "--astra",
        "--username",
        "token",
    ]
    argv += ["--secure-bundle", str(scb)]
    env = dict(os.environ, DJANGO_ASTRA_SERVER_PASSWORD=token)
    with LocalServer(argv, env=env, ready=lambda s: scb.exists(), name="cql-scb"):
        settings = {
            "ENGINE": "django_astra",
            "NAME": "default_keyspace",
            "OPTIONS": {
                "connection": {
                    "cloud": {"secure_connect_bundle": str(scb)},
                    "auth_provider": PlainTextAuthProvider("token", token),
                }
            },
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "TEST": {},
        }
        w = DatabaseWrapper(settings, alias="scb")
        w.ensure_connection()
        try:
            assert w.connection.astra is True
            prof = w.connection.cluster.profile_manager.default
            assert prof.consistency_level == ConsistencyLevel.LOCAL_QUORUM
            cur = w.cursor()
            cur.execute("CREATE TABLE IF NOT EXISTS scb (k int PRIMARY KEY, v text)")
            cur.execute("INSERT INTO scb (k, v) VALUES (%s, %s)", (1, "over tls"))
            assert cur.execute("SELECT v FROM scb WHERE k=%s", (1,)).one() == {"v": "over tls"}
        finally:
            w.close()
        wrong = "AstraCS:wrong-secret-value"
        bad_settings = dict(settings, OPTIONS={"connection": {
            "cloud": {"secure_connect_bundle": str(scb)},
            "auth_provider": PlainTextAuthProvider("token", wrong),
        }})  # fmt: skip
        bad = DatabaseWrapper(bad_settings, alias="scb-bad")
        from django.db import OperationalError

        with pytest.raises(OperationalError) as ei:
            bad.ensure_connection()
        assert_no_secret(ei.value, wrong, token)
        assert_no_secret(ei.value.__cause__, wrong, token)


def test_queryset_consistency_reaches_the_server(env, local_only):
    """cqlengine's ``.consistency()`` is sent with the prepared statement, not dropped: the
    Astra-mode server refuses a write at ONE, and accepts the same write at LOCAL_QUORUM."""
    from cassandra import ConsistencyLevel
    from django.core.management import call_command
    from django.db import DatabaseError
    from partyfinder.models import AstraNote

    call_command("sync_cassandra", database="astra", verbosity=0)
    key = "cl-" + uuid.uuid4().hex[:6]
    with pytest.raises(DatabaseError, match="LOCAL_ONE"):
        AstraNote.objects.consistency(ConsistencyLevel.ONE).create(id=key, body="x")
    with pytest.raises(AstraNote.DoesNotExist):
        AstraNote.objects.get(id=key)
    AstraNote.objects.consistency(ConsistencyLevel.LOCAL_QUORUM).create(id=key, body="y")
    assert AstraNote.objects.get(id=key).body == "y"


def test_fast_filter_and_point_read_match_cqlengine(env, city):
    """The equality fast paths build what cqlengine builds: same WHERE clauses and deferred
    columns, shared querysets stay unchanged, and anything else falls back to cqlengine."""
    from cassandra.cqlengine.operators import EqualsOperator
    from cassandra.cqlengine.query import QueryException
    from cassandra.cqlengine.statements import WhereClause
    from partyfinder.models import Party

    p = Party.create(city=city, name="fast", people=3)
    base = Party.objects(city=city)
    a, b = base.filter(id=p.id), base.filter(name="fast").allow_filtering()
    ref = WhereClause("city", EqualsOperator(), city)  # what cqlengine's filter() builds
    (w,) = base._where
    assert type(w) is WhereClause and vars(w).keys() == vars(ref).keys()
    assert vars(w.query_value) == vars(ref.query_value)
    w.set_context_id(0), ref.set_context_id(0)
    assert str(w) == str(ref) == '"city" = %(0)s'
    assert [(w.field, w.value) for w in a._where] == [("city", city), ("id", p.id)]
    assert a._defer_fields == {"city", "id"} and base._defer_fields == {"city"}
    assert a.get().name == "fast" and b.get().id == p.id
    assert [x.id for x in base] == [p.id]  # cqlengine's own SELECT path, deferred city restored
    assert Party.objects(city=city).get(pk=p.id).city == city
    got = Party.objects.get(city=city, id=p.id)
    assert (got.city, got.id, got.name, got.people) == (city, p.id, "fast", 3)
    assert got._is_persisted and not any(v.changed for v in got._values.values())
    got.people = 4
    got.save()
    assert Party.objects(city=city).get(pk=p.id).people == 4
    with pytest.raises(Party.DoesNotExist):
        Party.objects(city=city).get(pk=uuid.uuid4())
    with pytest.raises(QueryException, match="Can't resolve column name"):
        Party.objects(nope=1)
    assert Party.objects(city=city, id__in=[p.id]).get().name == "fast"  # operator: cqlengine


def test_target_follows_environment(env, cql_target, request):
    """The whole suite runs where the environment points: CASSANDRA_HOSTS/CASSANDRA_PORT (a
    cluster), ASTRA_BUNDLE + ASTRA_TOKEN (Astra), else the local server pytest starts."""
    import os

    from django.db import connections

    w = connections["cassandra"]
    w.ensure_connection()
    cluster = w.connection.cluster
    hosts = {str(h.endpoint) for h in cluster.metadata.all_hosts()}
    if cql_target.kind == "astra":
        assert os.environ["ASTRA_BUNDLE"] and w.connection.astra
        assert cluster.cloud  # connected through the bundle (TLS + SNI)
    elif cql_target.kind == "cluster":
        port = int(os.environ.get("CASSANDRA_PORT", "9042"))
        assert cluster.contact_points == os.environ["CASSANDRA_HOSTS"].split(",")
        assert cluster.port == port
    else:
        assert "CASSANDRA_HOSTS" not in os.environ
        assert cluster.port == request.getfixturevalue("cql_server").port
    print(f"\ncql target: {cql_target.kind} {sorted(hosts)}")


def test_cqlengine_statements_prepared_once(env, city):
    """create / get / update / list: one request each, every statement prepared once per
    connection (a repeat sends no PREPARE)."""
    from django.db import connections
    from partyfinder.models import Party

    def workload():
        p = Party.create(city=city, name="m", people=1)
        Party.objects(city=city).get(pk=p.id)
        Party.objects(city=city, id=p.id).update(people=2)
        return list(Party.objects(city=city).limit(20))

    workload()  # prepares what is new
    m = connections["cassandra"].connection.metrics
    before = m.snapshot()
    for _ in range(3):
        workload()
    spent = m.since(before)
    assert (spent["requests"], spent["statements"]) == (12, 12), spent
    assert {p.people for p in workload()} == {2}


def test_open_clusters_are_shut_down_before_executors_stop_at_exit(env):
    """The driver's own atexit hook runs after concurrent.futures has stopped its executors
    (its scheduler thread then fails at exit); ours is a threading exit hook registered after
    concurrent.futures', so it runs first (they run in reverse order)."""
    from concurrent.futures import thread as futures_thread

    from django.db import connections
    from django_astra import connection as astra_connection

    w = connections["cassandra"]
    w.ensure_connection()
    cluster = w.connection.cluster
    assert cluster in astra_connection._OPEN_CLUSTERS
    # partial(func) up to Python 3.12, lambda: func() in its closure from 3.13.
    hooks = [
        getattr(h, "func", None)
        or next((c.cell_contents for c in h.__closure__ or () if callable(c.cell_contents)), h)
        for h in threading._threading_atexits
    ]
    ours = hooks.index(astra_connection._shutdown_open_clusters)
    assert ours > hooks.index(futures_thread._python_exit)
    astra_connection._shutdown_open_clusters()
    assert cluster.is_shutdown
    w.close()
    w.ensure_connection()
    assert w.is_usable()
