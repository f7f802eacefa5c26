"""The engine against a real local Prisma Postgres (@prisma/dev) over the Prisma 7 protocol."""

from __future__ import annotations

import datetime
import decimal
import logging
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DataError, ProgrammingError
from django_backend_core.testing import CaptureLogs, assert_no_secret
from django_prisma.cache import CacheStrategy, invalidate
from testapp.models import AllTypes, Author, Book, Tag

pytestmark = pytest.mark.usefixtures("db")

VALUES = dict(
    small=-32768,
    integer=2**31 - 1,
    big=2**63 - 1,
    pos=7,
    flt=1.0000000000000002,
    dec=decimal.Decimal("12345678901234567890.0123456789"),
    boolean=False,
    char='it\'s "quoted" %s $1 ü',
    text="line\nbreak\ttab \\ backslash",
    date=datetime.date(2024, 2, 29),
    datetime=datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
    time=datetime.time(23, 59, 59, 999999),
    binary=b"\x00\x01\xfe\xff",
    json={"a": [1, None, "x", {"b": 1.5}], "big": 9007199254740993},
    ip="2001:db8::1",
    duration=datetime.timedelta(days=-2, seconds=3, microseconds=7),
)


def test_every_field_round_trips_exactly():
    obj = AllTypes.objects.create(**VALUES)
    got = AllTypes.objects.get(pk=obj.pk)
    for name, value in VALUES.items():
        read = getattr(got, name)
        read = bytes(read) if isinstance(read, memoryview) else read
        assert read == value, name
        assert type(read) is type(value), name
    assert got.uuid == obj.uuid and isinstance(got.uuid, uuid.UUID)


def test_duration_arithmetic_and_aggregates():
    from django.db.models import DurationField as DF
    from django.db.models import ExpressionWrapper, F, Sum

    AllTypes.objects.create(duration=datetime.timedelta(hours=1), datetime=VALUES["datetime"])
    AllTypes.objects.create(duration=datetime.timedelta(minutes=30, microseconds=1))
    assert AllTypes.objects.aggregate(s=Sum("duration"))["s"] == datetime.timedelta(
        hours=1, minutes=30, microseconds=1
    )
    row = AllTypes.objects.filter(datetime__isnull=False).annotate(
        later=ExpressionWrapper(F("datetime") + F("duration"), output_field=models_dt()),
        twice=ExpressionWrapper(F("duration") * 2, output_field=DF()),
    )[0]
    assert row.later == VALUES["datetime"] + datetime.timedelta(hours=1)
    assert row.twice == datetime.timedelta(hours=2)
    assert AllTypes.objects.filter(duration__gt=datetime.timedelta(minutes=45)).count() == 1


def models_dt():
    from django.db.models import DateTimeField

    return DateTimeField()


def test_nulls_round_trip():
    obj = AllTypes.objects.create(uuid=None)
    got = AllTypes.objects.values().get(pk=obj.pk)
    assert all(v is None for k, v in got.items() if k != "id")


def test_queries_joins_aggregates_and_lookups():
    ann = Author.objects.create(name="Ann")
    bob = Author.objects.create(name="Bob")
    b1 = Book.objects.create(author=ann, editor=bob, title="One", pages=10)
    Book.objects.create(author=ann, title="Two", pages=20)
    b1.tags.add(Tag.objects.create(name="sf"))
    assert list(Book.objects.filter(tags__name="sf").values_list("title", flat=True)) == ["One"]
    assert Author.objects.get(books__title="Two") == ann
    from django.db.models import Count, Sum

    agg = Book.objects.aggregate(n=Count("id"), pages=Sum("pages"))
    assert agg == {"n": 2, "pages": 30}
    assert Book.objects.filter(title__icontains="ON").count() == 1
    assert Book.objects.filter(title__startswith="T").get().pages == 20
    assert list(
        Author.objects.annotate(n=Count("books")).order_by("name").values_list("n", flat=True)
    ) == [2, 0]
    assert Book.objects.filter(editor__isnull=True).count() == 1
    AllTypes.objects.create(json={"k": [1, 2, "x"]}, datetime=VALUES["datetime"])
    assert AllTypes.objects.filter(json__k__2="x").count() == 1
    assert AllTypes.objects.filter(datetime__year=2024, datetime__hour=3).count() == 1
    assert list(Book.objects.order_by("pages").values_list("pages", flat=True)[1:]) == [20]


def test_bulk_create_update_delete_rowcounts():
    Author.objects.bulk_create([Author(name=f"a{i}") for i in range(5)])
    assert Author.objects.filter(name__in=["a1", "a2"]).update(email="x@y.z") == 2
    assert Author.objects.filter(name="a4").delete()[0] == 1
    assert Author.objects.count() == 4


def test_atomic_is_a_real_transaction_costing_n_plus_2_requests():
    connection.ensure_connection()
    metrics = connection.metrics
    before = metrics.snapshot()
    with transaction.atomic():
        for i in range(3):
            Author.objects.create(name=f"t{i}")
    cost = metrics.since(before)
    assert cost["requests"] == 3 + 2
    assert cost["statements"] == 3

    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            Author.objects.create(name="rolled-back")
            assert Author.objects.filter(name="rolled-back").exists()
            raise ZeroDivisionError
    assert not Author.objects.filter(name="rolled-back").exists()


def test_empty_atomic_costs_nothing():
    connection.ensure_connection()
    before = connection.metrics.snapshot()
    with transaction.atomic():
        pass
    assert connection.metrics.since(before)["requests"] == 0


def test_savepoints_work_inside_the_interactive_transaction():
    with transaction.atomic():
        Author.objects.create(name="outer")
        try:
            with transaction.atomic():
                Author.objects.create(name="inner")
                raise ValueError
        except ValueError:
            pass
        create = getattr(transaction, "savepoint_create", None) or transaction.savepoint
        sid = create()
        Author.objects.create(name="released")
        transaction.savepoint_commit(sid)
    assert sorted(Author.objects.values_list("name", flat=True)) == ["outer", "released"]


def test_integrity_error_inside_atomic_keeps_transaction_usable_with_savepoint():
    Author.objects.create(name="dup")
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            with transaction.atomic():
                Author.objects.create(name="dup")
        Author.objects.create(name="after")
    assert Author.objects.filter(name="after").exists()


def test_error_mapping_from_real_server_answers():
    with pytest.raises(IntegrityError) as exc:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO testapp_author (id, name) VALUES (1, 'x'), (1, 'y')")
    assert exc.value.__cause__.sqlstate == "23505"
    assert exc.value.__cause__.payload["code"] == "P2010"
    with pytest.raises(DataError):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
    with pytest.raises(ProgrammingError):
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM testapp_author")


def test_foreign_keys_are_deferred_to_commit_like_djangos_postgresql_backend():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT condeferrable, condeferred FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = 'testapp_book'::regclass"
        )
        assert set(cursor.fetchall()) == {(True, True)}  # DEFERRABLE INITIALLY DEFERRED
    # Inside atomic() a row may point at a parent created later in the same transaction.
    with transaction.atomic():
        Book.objects.create(author_id=424242, title="early")
        Author.objects.create(id=424242, name="late")
    assert Book.objects.get(title="early").author.name == "late"
    # A violation still present at COMMIT fails the commit (and nothing is written).
    with pytest.raises(IntegrityError) as exc:
        with transaction.atomic():
            Book.objects.create(author_id=999999, title="orphan")
    assert exc.value.__cause__.sqlstate == "23503"
    assert not Book.objects.filter(title="orphan").exists()


def test_autocommit_foreign_key_violation_is_reported_not_lost():
    # On @prisma/dev (PGlite) the implicit COMMIT of a parameterised autocommit statement
    # loses a deferred violation (the row comes back, the write is rolled back), so the
    # engine runs such writes in a transaction there: 3 requests instead of 1.
    connection.ensure_connection()
    assert connection.transport.autocommit_write_transactions  # a local dev key
    before = connection.metrics.snapshot()
    with pytest.raises(IntegrityError) as exc:
        Book.objects.create(author_id=999999, title="orphan")
    assert exc.value.__cause__.sqlstate == "23503"
    assert connection.metrics.since(before)["requests"] == 3
    assert not Book.objects.filter(title="orphan").exists()
    before = connection.metrics.snapshot()
    Author.objects.filter(name="nobody").count()  # reads stay one request
    assert connection.metrics.since(before)["requests"] == 1


def test_why_local_autocommit_writes_need_a_transaction(prisma_server):
    """The @prisma/dev (PGlite) defect the workaround exists for; if this starts failing, the
    server reports the violation itself and the workaround can go."""
    from django_backend_core.transport import Statement
    from django_prisma.transport import PrismaTransport

    raw = PrismaTransport(f"http://127.0.0.1:{prisma_server.port}", prisma_server.api_key)
    try:
        sql = 'INSERT INTO testapp_book (author_id, title, pages) VALUES ($1, $2, 0) RETURNING "id"'
        result = raw.execute(Statement(sql, [999999, "lost"]))
        assert len(result.rows) == 1  # the client is told the row was written...
        assert not Book.objects.filter(title="lost").exists()  # ...but it was rolled back
    finally:
        raw.close()


def test_icu_is_detected_by_trying_it():
    # PGlite lists the "unicode" ICU collation in pg_collation but cannot use it.
    assert connection.features.has_icu_collations is False


def test_closed_transaction_is_transaction_management_error():
    from django.db.transaction import TransactionManagementError

    transport = connection.transport
    transport.begin()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        tx_id = transport.transaction_id
        transport.rollback()
        transport._tx_id = tx_id  # reuse the closed id, as a stale client would
        with pytest.raises(TransactionManagementError) as exc:
            cursor.execute("SELECT 1")
    transport._tx_id = None
    assert exc.value.status == 409 or exc.value.code == "P2028"


def test_with_cache_clones_and_sends_headers_local_server_reports_no_status():
    Author.objects.create(name="cached")
    strategy = CacheStrategy(ttl=60, swr=30, tags=["authors"])
    base = Author.objects.all()
    cached = base.with_cache(strategy)
    assert cached.cache_strategy == strategy
    assert base.cache_strategy is None  # the manager / original queryset is untouched
    assert [a.name for a in cached] == ["cached"]
    headers = connection.transport.last_response_headers
    # @prisma/dev ignores cache headers (reference section 3): no accelerate-cache-status.
    assert connection.last_cache_status is None
    assert "accelerate-cache-status" not in headers
    invalidate(["authors"])  # POST /invalidate answers 200 locally
    with pytest.raises(ValueError):
        CacheStrategy(ttl=1, tags=["bad-tag"])


def test_secrets_never_leak(prisma_server, caplog):
    key = prisma_server.api_key
    cap = CaptureLogs()
    logging.getLogger("django.db.backends").addHandler(cap)
    try:
        with pytest.raises(ProgrammingError) as exc:
            with connection.cursor() as cursor:
                cursor.execute("SELECT no_such_column")
    finally:
        logging.getLogger("django.db.backends").removeHandler(cap)
    assert_no_secret(exc.value, key)
    assert_no_secret(exc.value.__cause__, key)
    assert_no_secret(repr(connection.connection.transport), key)
    assert_no_secret(repr(connection.settings_dict), key)
    assert_no_secret(cap.text, key)


def test_is_usable_and_reconnect():
    connection.ensure_connection()
    assert connection.is_usable()
    connection.close()
    assert Author.objects.count() == 0


def test_introspection_reads_the_catalog():
    with connection.cursor() as cursor:
        tables = {t.name for t in connection.introspection.get_table_list(cursor)}
        assert {"testapp_author", "testapp_book"} <= tables
        desc = {
            f.name: f
            for f in connection.introspection.get_table_description(cursor, "testapp_alltypes")
        }
        assert (
            connection.introspection.get_field_type(desc["char"].type_code, desc["char"])
            == "CharField"
        )
        assert desc["char"].internal_size == 50
        assert (desc["dec"].precision, desc["dec"].scale) == (30, 10)
        rels = connection.introspection.get_relations(cursor, "testapp_book")
        assert rels["author_id"][:2] == ("id", "testapp_author")
        cons = connection.introspection.get_constraints(cursor, "testapp_author")
        assert any(c["unique"] and c["columns"] == ["name"] for c in cons.values())


def test_untyped_contexts_work_with_typed_parameters():
    from django.db.models import F, Value

    Author.objects.create(name="v")
    row = Author.objects.annotate(one=Value(1), half=Value(decimal.Decimal("0.5"))).values(
        "one", "half"
    )[0]
    assert row == {"one": 1, "half": decimal.Decimal("0.5")}
    Book.objects.create(author=Author.objects.get(), title="t", pages=3)
    assert Book.objects.annotate(p=F("pages") + Value(2)).get().p == 5
