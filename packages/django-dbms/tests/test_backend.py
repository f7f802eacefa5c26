"""The Django backend over a real workers-dbms server (local by default, see pytest_plugin)."""

from __future__ import annotations

import datetime
import threading
import uuid
from decimal import Decimal

import pytest
from django_backend_core.testing import assert_no_secret


@pytest.fixture(scope="module")
def dj(dbms_target):
    import django
    from django.conf import settings

    db_id = f"b{uuid.uuid4().hex[:12]}"
    database = {
        "ENGINE": "django_dbms",
        "WORKERS_DBMS_ENDPOINT": dbms_target.endpoint(db_id),
        "TEST": {"NAME": f"test-{db_id}"},
    }
    if not settings.configured:
        settings.configure(
            DATABASES={"default": database, "other": dict(database)},
            INSTALLED_APPS=["django_dbms"],
            USE_TZ=False,
            DEBUG=False,
        )
        django.setup()
    from django.db import connection, models

    class Author(models.Model):
        name = models.CharField(max_length=50, unique=True)
        born = models.DateTimeField(null=True)
        note = models.CharField(max_length=50, default="")
        blob = models.BinaryField(null=True)
        score = models.DecimalField(max_digits=8, decimal_places=3, null=True)
        big = models.BigIntegerField(null=True)

        class Meta:
            app_label = "django_dbms"

    class Book(models.Model):
        author = models.ForeignKey(Author, models.CASCADE)
        title = models.CharField(max_length=50)
        pages = models.IntegerField(default=0)

        class Meta:
            app_label = "django_dbms"

    with connection.schema_editor() as editor:
        editor.create_model(Author)
        editor.create_model(Book)
    yield type("Models", (), {"Author": Author, "Book": Book, "connection": connection})
    connection.close()


@pytest.fixture
def m(dj):
    dj.Book.objects.all().delete()
    dj.Author.objects.all().delete()
    return dj


def test_crud_rowcount_and_lastrowid(m):
    a = m.Author.objects.create(name="ann")
    assert a.pk is not None
    assert m.Author.objects.filter(name="ann").update(note="x") == 1
    assert m.Author.objects.filter(name="nobody").update(note="x") == 0
    m.Author.objects.bulk_create([m.Author(name=f"n{i}") for i in range(30)])
    assert m.Author.objects.filter(name__startswith="n").update(note="bulk") == 30
    with m.connection.cursor() as cur:
        cur.execute("INSERT INTO django_dbms_author (name, note) VALUES (%s, %s)", ["raw", ""])
        assert cur.rowcount == 1
        assert cur.lastrowid == m.Author.objects.get(name="raw").pk
        cur.execute("DELETE FROM django_dbms_author WHERE name LIKE 'n%%'")
        assert cur.rowcount == 30
    assert m.Author.objects.count() == 2


def test_joins_with_duplicate_column_names_keep_every_column(m):
    a = m.Author.objects.create(name="ann")
    m.Book.objects.create(author=a, title="t1", pages=7)
    book = m.Book.objects.select_related("author").get()
    assert (book.id, book.author.id, book.author.name, book.pages) == (
        m.Book.objects.get().id,
        a.id,
        "ann",
        7,
    )
    with m.connection.cursor() as cur:
        cur.execute("SELECT b.id, a.id, 1, 2 FROM django_dbms_book b JOIN django_dbms_author a")
        assert cur.fetchall() == [(book.id, a.id, 1, 2)]
        assert [d[0] for d in cur.description] == ["id", "id", "1", "2"]


def test_integers_keep_integer_semantics(m):
    with m.connection.cursor() as cur:
        cur.execute("SELECT %s / %s, CAST(%s AS TEXT), typeof(%s)", [5, 2, 2**62 + 1, True])
        assert cur.fetchone() == (2, str(2**62 + 1), "integer")
        # Reading a big integer back goes through a JS number: rounded (documented limit).
        cur.execute("SELECT %s", [2**62 + 1])
        assert cur.fetchone() == (4611686018427388000,)  # as JavaScript prints the double


def test_values_round_trip(m):
    born = datetime.datetime(2020, 1, 2, 3, 4, 5, 123456)
    a = m.Author.objects.create(
        name="2020-01-02 03:04:05", born=born, blob=b"\x00\xffdata", score=Decimal("1.250")
    )
    got = m.Author.objects.get(pk=a.pk)
    assert got.born == born  # microseconds kept
    assert got.name == "2020-01-02 03:04:05"  # a string that looks like a date stays a string
    assert bytes(got.blob) == b"\x00\xffdata"
    assert got.score == Decimal("1.250")
    assert m.Author.objects.values_list("blob", flat=True).get(pk=a.pk) == b"\x00\xffdata"
    assert m.Author.objects.filter(blob=b"\x00\xffdata").count() == 1


def test_integrity_error_is_mapped(m, rollback_works):
    from django.db import IntegrityError, transaction

    m.Author.objects.create(name="dup")
    with pytest.raises(IntegrityError, match="UNIQUE constraint failed"):
        with transaction.atomic():
            m.Author.objects.create(name="dup")


@pytest.fixture
def rollback_works(dbms_target):
    """Every target rolls back: production with its PITR bookmark, our server with SQLite's
    ROLLBACK, the Miniflare Worker by dropping its statement log (see its worker.mjs)."""
    return dbms_target


def test_atomic_commits_and_rolls_back(m, rollback_works):
    from django.db import transaction

    with transaction.atomic():
        m.Author.objects.create(name="kept")
    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            m.Author.objects.create(name="gone")
            assert m.Author.objects.filter(name="gone").exists()  # reads its own write
            raise ZeroDivisionError
    assert list(m.Author.objects.values_list("name", flat=True)) == ["kept"]
    # The rollback made the Worker drop the socket; the connection simply reconnects.
    assert m.Author.objects.count() == 1


def test_savepoints_are_emulated(m, rollback_works):
    from django.db import IntegrityError, transaction

    with transaction.atomic():
        m.Author.objects.create(name="outer")
        try:
            with transaction.atomic():
                m.Author.objects.create(name="inner")
                m.Author.objects.create(name="outer")  # IntegrityError
        except IntegrityError:
            pass
        m.Author.objects.create(name="after")
        with transaction.atomic():
            m.Author.objects.create(name="released")
    names = sorted(m.Author.objects.values_list("name", flat=True))
    assert names == ["after", "outer", "released"]


def test_on_commit_runs_after_commit_only(m, rollback_works):
    from django.db import transaction

    ran = []
    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("yes"))
        assert ran == []
    assert ran == ["yes"]
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            transaction.on_commit(lambda: ran.append("no"))
            raise RuntimeError
    assert ran == ["yes"]


def test_other_connection_waits_for_the_transaction(m):
    from django.db import connections, transaction

    done = []

    def reader():
        done.append(m.Author.objects.using("other").filter(name="late").count())
        connections["other"].close()

    with transaction.atomic():
        m.Author.objects.create(name="late")
        t = threading.Thread(target=reader)
        t.start()
        t.join(0.3)
        assert done == []  # blocked by the Worker's transaction lock
    t.join(5)
    assert done == [1]


def test_threads_use_their_own_connections(m):
    from django.db import connection

    errors = []

    def work(i):
        try:
            for j in range(5):
                m.Author.objects.create(name=f"t{i}-{j}")
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert m.Author.objects.filter(name__startswith="t").count() == 20


def test_async_orm(m):
    import asyncio

    async def go():
        await m.Author.objects.acreate(name="async")
        return await m.Author.objects.filter(name="async").acount()

    assert asyncio.run(go()) == 1


def test_queries_logged_under_debug(m):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(m.connection) as ctx:
        m.Author.objects.filter(name="x").exists()
    assert len(ctx.captured_queries) == 1
    assert "django_dbms_author" in ctx.captured_queries[0]["sql"]


def test_one_round_trip_per_query(m):
    transport = m.connection.connection.transport.inner
    a = m.Author.objects.create(name="rt")
    before = transport.metrics.snapshot()
    m.Author.objects.get(pk=a.pk)
    m.Author.objects.filter(pk=a.pk).update(note="n")
    assert transport.metrics.since(before)["requests"] == 2
    before = transport.metrics.snapshot()
    a.delete()  # begin + collect books in one request, delete, commit
    assert transport.metrics.since(before)["requests"] == 3


def test_begin_travels_with_the_first_statement(m, rollback_works):
    from django.db import transaction

    transport = m.connection.connection.transport.inner
    m.Author.objects.count()
    before = transport.metrics.snapshot()
    with transaction.atomic():
        pass  # nothing ran: no begin, no commit
    assert transport.metrics.since(before)["requests"] == 0
    before = transport.metrics.snapshot()
    with transaction.atomic():
        m.Author.objects.create(name="one")
        m.Author.objects.create(name="two")
    assert transport.metrics.since(before)["requests"] == 3  # begin+insert, insert, commit
    before = transport.metrics.snapshot()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        raise ZeroDivisionError
    assert transport.metrics.since(before)["requests"] == 0  # no rollback, socket kept
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        m.Author.objects.create(name="three")
        raise ZeroDivisionError
    assert sorted(m.Author.objects.values_list("name", flat=True)) == ["one", "two"]


def test_endpoint_rules_and_secret_redaction(dj):
    from django.core.exceptions import ImproperlyConfigured
    from django.db import OperationalError
    from django_dbms.base import DatabaseWrapper

    def wrapper(**extra):
        settings = {
            "ENGINE": "django_dbms",
            "NAME": "",
            "WORKERS_DBMS_ENDPOINT": "ws://db.example.com/api/v1/databases/main/websocket",
            "OPTIONS": {},
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
        }
        settings.update(extra)
        return DatabaseWrapper(settings, alias="probe")

    with pytest.raises(ImproperlyConfigured, match="wss://"):
        wrapper().ensure_connection()
    with pytest.raises(ImproperlyConfigured, match="database id"):
        wrapper(
            WORKERS_DBMS_ENDPOINT="wss://db.example.com/api/v1/databases/A!/websocket"
        ).ensure_connection()
    secret = "sekrit-" + uuid.uuid4().hex
    w = wrapper(
        WORKERS_DBMS_ENDPOINT="ws://127.0.0.1:9/api/v1/databases/main/websocket",
        WORKERS_DBMS_ACCESS_ID="id",
        WORKERS_DBMS_ACCESS_SECRET=secret,
    )
    w.ensure_connection()  # the socket opens lazily, on the first query
    with pytest.raises(OperationalError) as info:
        w.cursor().execute("SELECT 1")
    assert_no_secret(info.value, secret)
    assert_no_secret(repr(w.connection.transport.inner), secret)
    w.close()


def test_more_than_100_arguments(m):
    names = [f"n'{i};" for i in range(150)]
    m.Author.objects.bulk_create([m.Author(name=n) for n in names])
    assert m.Author.objects.filter(name__in=names).count() == 150
    assert m.Author.objects.filter(name__in=names[:120], note="").count() == 120


def test_select_star_and_raw_querysets(m):
    a = m.Author.objects.create(name="star")
    m.Book.objects.create(author=a, title="b", pages=3)
    got = list(m.Author.objects.raw("SELECT * FROM django_dbms_author"))
    assert [x.name for x in got] == ["star"]
    with m.connection.cursor() as cur:
        cur.execute(
            "SELECT * FROM django_dbms_book b JOIN django_dbms_author a ON a.id = b.author_id"
        )
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    assert names[:4] == ["id", "author_id", "title", "pages"]
    assert names[4:6] == ["id", "name"]
    assert row[1] == row[4] == a.pk and row[5] == "star"  # both ids present, none collapsed
    assert len(row) == len(names) == 4 + 7  # book: 4 columns, author: 7


def test_big_integers_round_trip_exactly_and_empty_blobs_read_back(m):
    a = m.Author.objects.create(name="big", big=2**63 - 1, blob=b"")
    b = m.Author.objects.create(name="none", big=-(2**63), blob=None)
    with m.connection.cursor() as cur:
        cur.execute("SELECT CAST(big AS TEXT) FROM django_dbms_author ORDER BY id")
        assert cur.fetchall() == [(str(2**63 - 1),), (str(-(2**63)),)]  # stored exactly
    # A JavaScript number would round these (9223372036854775807 to 9223372036854776000):
    # columns are read as text, so they come back exact, in instances and values lists.
    from django.db import DataError
    from django.db.models import F, Max

    assert m.Author.objects.get(pk=a.pk).big == 2**63 - 1
    assert list(m.Author.objects.order_by("big").values_list("big", flat=True)) == [
        -(2**63),
        2**63 - 1,
    ]  # ORDER BY still sorts numbers, not their text
    assert list(m.Author.objects.order_by(F("big").desc()).values_list("id", flat=True)) == [
        a.pk,
        b.pk,
    ]
    assert m.Author.objects.filter(big=2**63 - 1).get().pk == a.pk
    # A computed value cannot be cast: refused, never returned rounded.
    with pytest.raises(DataError, match=r"9223372036854776000, beyond 2\*\*53 - 1"):
        m.Author.objects.aggregate(top=Max("big"))
    # A window filter selects from a subquery, where nothing is cast: refused too.
    from django.db.models import Window
    from django.db.models.functions import RowNumber

    ranked = m.Author.objects.annotate(rn=Window(RowNumber(), order_by="big")).filter(rn=2)
    with pytest.raises(DataError, match="beyond 2"):
        list(ranked.values_list("big", flat=True))
    assert list(ranked.values_list("name", flat=True)) == ["big"]
    m.Author.objects.filter(pk=a.pk).update(big=2**53 + 1)  # a double reads it as 2**53
    with pytest.raises(DataError, match="9007199254740992"):
        m.Author.objects.filter(pk=a.pk).annotate(n=F("big") + 0).values_list("n", flat=True).get()
    assert m.Author.objects.values_list("big", flat=True).get(pk=a.pk) == 2**53 + 1
    # RETURNING sends integer columns as text too: a new 64-bit key comes back exact.
    c = m.Author.objects.create(id=2**60 + 1, name="snowflake")
    assert c.pk == 2**60 + 1
    assert m.Author.objects.get(name="snowflake").pk == 2**60 + 1
    m.Author.objects.filter(pk=c.pk).delete()
    assert bytes(m.Author.objects.get(pk=a.pk).blob) == b""
    assert m.Author.objects.get(pk=b.pk).blob is None


def test_deferred_foreign_key_failure_at_commit(m, rollback_works):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        with transaction.atomic():
            m.Book.objects.create(author_id=999999, title="orphan")
    assert m.Book.objects.count() == 0  # rolled back, and the connection reconnects


def test_dbshell_prompt_runs_statements_over_the_socket(m, monkeypatch):
    import io
    import sys

    from django.core.management import call_command
    from django.core.management.base import CommandError

    m.Author.objects.create(name="zed")
    out = io.StringIO()
    monkeypatch.setattr(
        sys,
        "stdin",
        io.StringIO(
            "UPDATE django_dbms_author SET note = 'shell' WHERE name = 'zed';\n"
            "SELECT name,\n note FROM django_dbms_author;\n.tables\nSELECT nope;\n.quit\n"
        ),
    )
    monkeypatch.setattr(sys, "stdout", out)
    call_command("dbshell")
    text = out.getvalue()
    assert "OK (1 rows changed)" in text
    assert "zed  | shell" in text
    assert "django_dbms_author" in text and "django_dbms_book" in text
    assert "Error: no such column: nope" in text
    assert m.Author.objects.get(name="zed").note == "shell"
    with pytest.raises(CommandError, match="takes no program arguments"):
        call_command("dbshell", "--", "-bail")
    client = m.connection.client
    assert client.banner().startswith("workers-dbms database at 127.0.0.1/")


def test_ordering_by_a_selected_integer_column_sorts_numbers_not_text(m):
    # values() selects the column and Django then orders by its position ("ORDER BY 1"), which
    # would sort the CAST(... AS TEXT) that carries it exactly: -5, 10, 4611686018427387904, 9.
    from django.db import connection
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext

    for i, value in enumerate([9, 10, -5, 2**62]):
        m.Author.objects.create(name=f"o{i}", big=value)
    numeric = [-5, 9, 10, 2**62]
    with CaptureQueriesContext(connection) as ctx:
        assert list(m.Author.objects.values_list("big", flat=True).order_by(F("big"))) == numeric
        assert [r["big"] for r in m.Author.objects.values("big").order_by("big")] == numeric
    assert all("ORDER BY 1" not in q["sql"] for q in ctx.captured_queries), ctx.captured_queries
