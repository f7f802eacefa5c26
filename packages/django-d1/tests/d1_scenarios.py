"""Scenarios run in a subprocess (own Django settings) by test_backend.py.

Usage: python d1_scenarios.py <scenario> <api_base> <database_id> <token>
Prints "OK" on success; any exception fails the calling test.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import sys
import uuid

import django
from django.conf import settings

SCENARIO, API, DB, TOKEN = sys.argv[1:5]
settings.configure(
    DEBUG=True,
    USE_TZ=True,
    TIME_ZONE="Europe/Paris",
    INSTALLED_APPS=[],
    DATABASES={
        "default": {
            "ENGINE": "django_d1",
            "CLOUDFLARE_ACCOUNT_ID": "acc",
            "CLOUDFLARE_DATABASE_ID": DB,
            "CLOUDFLARE_TOKEN": TOKEN,
            "OPTIONS": {"api_base": API, "timeout": 30},
        }
    },
)
django.setup()

import django_d1  # noqa: E402
from django.db import (  # noqa: E402
    DataError,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    connection,
    models,
)


class Author(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        app_label = "d1t"


class Thing(models.Model):
    author = models.ForeignKey(Author, models.CASCADE, null=True)
    flag = models.BooleanField(default=False)
    price = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    at = models.DateTimeField(null=True)
    day = models.DateField(null=True)
    t = models.TimeField(null=True)
    uid = models.UUIDField(null=True)
    data = models.JSONField(null=True)
    blob = models.BinaryField(null=True)
    big = models.BigIntegerField(null=True)
    ratio = models.FloatField(null=True)
    took = models.DurationField(null=True)
    label = models.CharField(max_length=100, default="")

    class Meta:
        app_label = "d1t"


def setup_schema():
    with connection.schema_editor() as editor:
        editor.create_model(Author)
        editor.create_model(Thing)


def metrics():
    return connection.connection.transport.metrics


def scenario_types():
    setup_schema()
    a = Author.objects.create(name="ann")
    assert a.pk == 1, a.pk  # RETURNING gives the new primary key
    values = dict(
        author=a,
        flag=True,
        price=decimal.Decimal("12345678.123456"),  # SQLite keeps 15 significant digits
        at=dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=dt.UTC),
        day=dt.date(2024, 2, 29),
        t=dt.time(1, 2, 3, 400),
        uid=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        data={"a": [1, 2.5, None, True], "ü": "x"},
        blob=b"\x00\xff\x10binary",
        big=2**53 - 1,  # Number.MAX_SAFE_INTEGER: the largest exact JSON integer
        ratio=0.1,
        took=dt.timedelta(days=2, microseconds=7),
        label="7",
    )
    thing = Thing.objects.create(**values)
    got = Thing.objects.get(pk=thing.pk)
    for key, value in values.items():
        if key == "author":
            assert got.author_id == a.pk
            continue
        actual = getattr(got, key)
        if isinstance(actual, memoryview):
            actual = bytes(actual)
        assert actual == value and type(actual) is type(value), (key, actual, value)
    # Integers keep INTEGER semantics (D1 would bind JSON numbers as REAL).
    with connection.cursor() as c:
        c.execute("SELECT typeof(big), typeof(%s), %s / 2 FROM d1t_thing", [7, 7])
        assert c.fetchone() == ("integer", "integer", 3), "ints must be inlined"
    # rowcount from meta.changes, lastrowid only after INSERT.
    assert Thing.objects.filter(pk=thing.pk).update(label="x") == 1
    assert Thing.objects.filter(pk=999).update(label="x") == 0
    with connection.cursor() as c:
        c.execute("INSERT INTO d1t_author (name) VALUES (%s)", ["bob"])
        assert c.lastrowid == 2 and c.rowcount == 1
        c.execute("UPDATE d1t_author SET name = name || %s WHERE id = 1", ["!"])
        assert c.rowcount == 1 and c.lastrowid == 2  # untouched by the UPDATE
    # D1's JSON would round integers beyond 2**53 - 1: columns are read as text, exact.
    from django.db.models import F

    for big in (2**62 + 1, 2**53 + 1, -(2**63)):
        Thing.objects.filter(pk=thing.pk).update(big=big)
        assert Thing.objects.get(pk=thing.pk).big == big
        assert Thing.objects.filter(big=big).values_list("big", flat=True).get() == big
        # A computed value cannot be cast: refused instead of returned rounded.
        try:
            Thing.objects.annotate(n=F("big") + 0).values_list("n", flat=True).get(pk=thing.pk)
        except DataError as exc:
            assert "2**53" in str(exc)
        else:
            raise AssertionError(f"expected DataError for the computed integer {big}")
    # RETURNING and foreign keys are exact too.
    big_author = Author.objects.create(id=2**60 + 1, name="snowflake")
    assert big_author.pk == 2**60 + 1
    Thing.objects.filter(pk=thing.pk).update(big=None, author=big_author)
    assert Thing.objects.values_list("author_id", flat=True).get(pk=thing.pk) == 2**60 + 1
    assert Thing.objects.select_related("author").get(pk=thing.pk).author.name == "snowflake"
    Thing.objects.filter(pk=thing.pk).update(author=a)
    # Also when the whole number sits in a DecimalField (SQLite stores it as an INTEGER).
    # Durations (microseconds) too; an aggregate is computed, so it is refused, not rounded.
    # (Whole-number DecimalFields beyond 2**53: Django 6.1's test_large_integer_precision.)
    from django.db.models import Max

    long = dt.timedelta(days=365 * 1000, microseconds=1)  # > 2**53 microseconds
    Thing.objects.filter(pk=thing.pk).update(big=2**62 + 1, took=long)
    got = Thing.objects.get(pk=thing.pk)
    assert got.took == long and got.big == 2**62 + 1, (got.took, got.big)
    try:
        Thing.objects.aggregate(m=Max("big"))
    except DataError as exc:
        assert "2**53" in str(exc)
    else:
        raise AssertionError("expected DataError for an aggregate beyond 2**53")
    Thing.objects.filter(pk=thing.pk).update(big=None, price=decimal.Decimal("1.5"))
    assert Thing.objects.values_list("price", flat=True).get(pk=thing.pk) == decimal.Decimal("1.5")
    # More than 100 values in one statement: strings are inlined as literals.
    names = [f"n{i}'q" for i in range(250)]
    assert Author.objects.filter(name__in=names).count() == 0
    # Errors are mapped: constraint -> IntegrityError.
    try:
        Author.objects.create(name="bob")
    except IntegrityError as exc:
        assert "UNIQUE constraint failed" in str(exc)
    else:
        raise AssertionError("expected IntegrityError")


def scenario_bulk():
    setup_schema()
    before = metrics().snapshot()
    Thing.objects.bulk_create(
        [Thing(label=f"row {i}", big=i, ratio=i / 3, flag=i % 2 == 0) for i in range(10_000)]
    )
    cost = metrics().since(before)
    assert Thing.objects.count() == 10_000
    assert cost["requests"] <= 10, cost
    assert Thing.objects.filter(flag=True).count() == 5000
    things = list(Thing.objects.order_by("pk")[:300])
    for t in things:
        t.label = t.label.upper()
    Thing.objects.bulk_update(things, ["label"])
    labels = list(Thing.objects.order_by("pk").values_list("label", flat=True)[:301])
    assert labels[:300] == [f"ROW {i}" for i in range(300)] and labels[300] == "row 300"
    assert len(Thing.objects.in_bulk(list(range(1, 400)))) == 399
    print("bulk_create requests:", cost["requests"], file=sys.stderr)


def scenario_bulk_update():
    """bulk_update: statements filled up to 100 KB, several per batch request, rowcounts summed."""
    import math

    from django.db.models import F
    from django_d1.compiler import MAX_BATCH_BYTES

    setup_schema()
    Thing.objects.bulk_create([Thing(label=f"row {i}", big=i) for i in range(3000)])
    things = list(Thing.objects.order_by("pk"))
    for t in things:
        t.label = f"it's row {t.big}"
        t.ratio = t.big / 4
        t.data = {"n": t.big, "s": "o'k"}
    before = metrics().snapshot()
    assert Thing.objects.bulk_update(things, ["label", "ratio", "data"]) == 3000
    cost = metrics().since(before)
    # The stock size (100 params / 5 fields) would take 150 requests; statements of up to
    # 100 KB take a handful, and they travel together in one batch request.
    assert cost["requests"] == 1, cost
    assert 2 <= cost["statements"] <= 10, cost
    assert cost["bytes_sent"] / cost["statements"] > 40_000, cost  # statements filled
    got = {t.pk: t for t in Thing.objects.all()}
    for t in things:
        row = got[t.pk]
        assert (row.label, row.ratio, row.data) == (t.label, t.ratio, t.data), row.pk
    # Long values: the statement size, not the parameter count, limits the batch.
    big = things[:300]
    for t in big:
        t.label = "x'" * 1500 + str(t.pk)
    before = metrics().snapshot()
    assert Thing.objects.bulk_update(big, ["label"]) == 300
    cost = metrics().since(before)
    # The values stay bound (<= 100 per statement; bound values do not count towards the
    # 100 KB of SQL text), so 300 objects take at least 3 statements, in as few requests as
    # the request budget allows.
    assert 3 <= cost["statements"] <= 6, cost
    assert cost["requests"] <= math.ceil(cost["bytes_sent"] / MAX_BATCH_BYTES) + 1, cost
    assert cost["requests"] < cost["statements"], cost
    # Short values first, long ones last: every equal slice Django cuts must fit, not only
    # the first one (a size taken from the first objects would overflow the last slices).
    for i, t in enumerate(big):
        t.label = f"short {i}" if i < 250 else "y'" * 3000 + str(i)
    before = metrics().snapshot()
    assert Thing.objects.bulk_update(big, ["label"]) == 300
    assert metrics().since(before)["requests"] == 1
    assert all(got == t.label for got, t in zip(
        Thing.objects.filter(pk__in=[t.pk for t in big]).order_by("pk")
        .values_list("label", flat=True), big, strict=True))  # fmt: skip
    # Expressions are compiled in; an explicit batch_size still wins.
    for t in things[:10]:
        t.big = F("big") + 1
    before = metrics().snapshot()
    assert Thing.objects.bulk_update(things[:10], ["big"], batch_size=4) == 10
    assert metrics().since(before)["requests"] == 3
    assert list(Thing.objects.order_by("pk").values_list("big", flat=True)[:11]) == [
        *range(1, 11),
        10,
    ]
    # The rowcount is the sum of each statement's changes: rows deleted meanwhile don't count.
    gone = {t.pk for t in things[100:2900:7]}
    Thing.objects.filter(pk__in=gone).delete()
    for t in things:
        t.label = "z" * 90
    before = metrics().snapshot()
    assert Thing.objects.bulk_update(things, ["label"]) == 3000 - len(gone)
    cost = metrics().since(before)
    assert cost["requests"] == 1 and cost["statements"] >= 2, cost
    assert Thing.objects.filter(label="z" * 90).count() == 3000 - len(gone)


def scenario_drop_related():
    """Dropping related tables in a schema editor works although foreign keys stay on."""
    setup_schema()
    a = Author.objects.create(name="ann")
    Thing.objects.create(author=a, label="x")
    before = metrics().snapshot()
    with connection.schema_editor() as editor:
        editor.delete_model(Author)  # alone, this DROP would violate Thing's foreign key
        editor.delete_model(Thing)
        assert metrics().since(before)["requests"] == 0  # waiting for the next statement
    assert metrics().since(before)["statements"] >= 3  # PRAGMA + both DROPs, one batch
    assert not {"d1t_author", "d1t_thing"} & set(connection.introspection.table_names())
    # A read in between sends the waiting drop first: it sees the table gone.
    setup_schema()
    with connection.schema_editor() as editor:
        editor.delete_model(Thing)
        assert "d1t_thing" not in connection.introspection.table_names()
        editor.delete_model(Author)
    assert not {"d1t_author", "d1t_thing"} & set(connection.introspection.table_names())
    # Dropping only the referenced table still fails: D1 keeps foreign keys on.
    setup_schema()
    Thing.objects.create(author=Author.objects.create(name="bob"))
    try:
        with connection.schema_editor() as editor:
            editor.delete_model(Author)
    except IntegrityError:
        pass
    else:
        raise AssertionError("expected IntegrityError")
    assert "d1t_author" in connection.introspection.table_names()


def scenario_batch():
    setup_schema()
    Author.objects.create(name="ann")
    before = metrics().snapshot()
    with django_d1.batch():
        with connection.cursor() as c:
            c.executemany(
                "INSERT INTO d1t_author (id, name) VALUES (%s, %s)", [(10, "x"), (11, "y")]
            )
        Author.objects.filter(name="ann").update(name="ANN")
    assert metrics().since(before)["requests"] == 1
    assert sorted(Author.objects.values_list("name", flat=True)) == ["ANN", "x", "y"]
    try:
        with django_d1.batch():
            Author.objects.filter(name="ANN").update(name="changed")
            with connection.cursor() as c:  # duplicate name
                c.execute("INSERT INTO d1t_author (id, name) VALUES (%s, %s)", [20, "x"])
    except IntegrityError:
        pass
    else:
        raise AssertionError("expected IntegrityError")
    assert Author.objects.filter(name="ANN").exists(), "the failed batch must roll back"
    try:
        with django_d1.batch():
            Author.objects.filter(name="ANN").update(name="z")
            Author.objects.count()
    except NotSupportedError as exc:
        assert "returns rows" in str(exc)
    else:
        raise AssertionError("a read inside batch() must raise")
    assert Author.objects.filter(name="ANN").exists(), "nothing is sent when the block raises"


def scenario_schema():
    setup_schema()
    a = Author.objects.create(name="ann")
    Thing.objects.create(author=a, label="keep")
    before = metrics().snapshot()
    old = Author._meta.get_field("name")
    new = models.CharField(max_length=80, null=True)
    new.set_attributes_from_name("name")
    new.model = Author
    with connection.schema_editor() as editor:
        editor.alter_field(Author, old, new, strict=True)  # a table rebuild
    cost = metrics().since(before)
    assert cost["requests"] <= 4, cost
    assert Thing.objects.get(label="keep").author.name == "ann"
    tables = connection.introspection.table_names()
    assert "d1t_author" in tables and not any(t.startswith("_cf_") for t in tables), tables
    from django.core.management import call_command

    out = io.StringIO()
    call_command("inspectdb", "d1t_thing", stdout=out)
    text = out.getvalue()
    assert "class D1TThing(models.Model):" in text and "models.ForeignKey('D1TAuthor'" in text, text


def scenario_errors():
    from django.db import connections

    conn = connections["default"]
    conn.settings_dict["CLOUDFLARE_TOKEN"] = "wrong-" + TOKEN
    try:
        with conn.cursor() as c:
            c.execute("SELECT 1")
    except OperationalError as exc:
        cause = exc.__cause__
        text = f"{exc!r} {exc} {cause!r} {getattr(cause, 'payload', '')}"
        assert "wrong-" + TOKEN not in text and TOKEN not in text, text
        assert getattr(cause, "code", None) == 10000, (cause, getattr(cause, "code", None))
        assert TOKEN not in repr(conn.connection.transport) if conn.connection else True
    else:
        raise AssertionError("expected OperationalError for a bad token")


def scenario_test_safety():
    from django.core.exceptions import ImproperlyConfigured
    from django.test.utils import setup_test_environment

    setup_test_environment()
    # Not switched to a test database: flushing/migrating must be refused.
    for action in (
        lambda: connection.ops.execute_sql_flush(["DELETE FROM x"]),
        lambda: connection.schema_editor(),
    ):
        try:
            action()
        except ImproperlyConfigured as exc:
            assert "refuses" in str(exc)
        else:
            raise AssertionError("expected a refusal")
    connection.settings_dict["TEST"].update({"CLOUDFLARE_DATABASE_ID": DB})
    try:
        connection.creation.create_test_db(verbosity=0)
    except ImproperlyConfigured as exc:
        assert "production" in str(exc)
    else:
        raise AssertionError("TEST id == production id must be refused")
    connection.settings_dict["TEST"].update({"CLOUDFLARE_DATABASE_ID": DB + "-test"})
    name = connection.creation.create_test_db(verbosity=0)
    assert name == DB + "-test" and connection.settings_dict["CLOUDFLARE_DATABASE_ID"] == name
    with connection.cursor() as c:
        c.execute("CREATE TABLE zz (a)")
    connection.ops.execute_sql_flush(['DELETE FROM "zz"'])
    # A shallow copy (Django's own creation tests make them) shares the switch attributes and
    # the DB-API connection: destroying it must neither point the real connection back at the
    # production id nor leave it with a closed connection.
    import copy

    from django.db import DEFAULT_DB_ALIAS, connections

    twin = copy.copy(connections[DEFAULT_DB_ALIAS])
    twin.settings_dict = copy.deepcopy(connection.settings_dict)
    twin.creation.__class__(twin).destroy_test_db(name, verbosity=0)
    assert connection.settings_dict["CLOUDFLARE_DATABASE_ID"] == name
    with connection.cursor() as c:  # reconnects: the copy closed the shared connection
        c.execute('INSERT INTO "zz" VALUES (1)')
    connection.creation.destroy_test_db(DB, verbosity=0)
    assert connection.settings_dict["CLOUDFLARE_DATABASE_ID"] == DB


def scenario_dbshell():
    from django_backend_core.remote_sqlite.client import repl

    setup_schema()
    out = io.StringIO()
    failures = repl(
        connection,
        io.StringIO(
            "INSERT INTO d1t_author (name) VALUES ('zed');\nSELECT id,\n name FROM d1t_author;\n"
            "SELECT nope;\n.quit\n"
        ),
        out,
    )
    text = out.getvalue()
    assert "zed" in text and "OK (1 rows changed)" in text and failures == 1, text


globals()["scenario_" + SCENARIO]()
print("OK")
