"""Django's ORM over the remote-SQLite dialect on a SQLite WITHOUT Django's Python functions.

The script runs in a subprocess (its own Django settings) over ``PlainSQLiteTransport``: any
``django_*`` function, REGEXP, LPAD, POWER... that leaked into the SQL fails with
"no such function", so passing means the dialect emitted plain SQLite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("django")

BACKEND = """
from django_backend_core.remote_sqlite.base import RemoteSQLiteDatabaseWrapper
from django_backend_core.remote_sqlite.testing import PlainSQLiteTransport

class DatabaseWrapper(RemoteSQLiteDatabaseWrapper):
    def make_transport(self, conn_params):
        return PlainSQLiteTransport(self.settings_dict["NAME"])
"""

SCRIPT = r"""
import datetime as dt, sys, zoneinfo
import django
from django.conf import settings
settings.configure(USE_TZ=True, TIME_ZONE="America/Chicago", INSTALLED_APPS=[],
                   DATABASES={"default": {"ENGINE": "plainsqlite_backend", "NAME": sys.argv[1]}})
django.setup()
from django.db import NotSupportedError, connection, models
from django.db.models import F, Value, functions as Fn
from django.db.models.aggregates import StdDev, Variance

class Parent(models.Model):
    name = models.CharField(max_length=20)
    class Meta: app_label = "t"

class Event(models.Model):
    name = models.CharField(max_length=20)
    at = models.DateTimeField()
    day = models.DateField()
    t = models.TimeField()
    took = models.DurationField()
    n = models.FloatField()
    parent = models.ForeignKey(Parent, models.CASCADE, null=True)
    class Meta: app_label = "t"

with connection.schema_editor() as ed:
    ed.create_model(Parent)
    ed.create_model(Event)
chicago = zoneinfo.ZoneInfo("America/Chicago")
p = Parent.objects.create(name="p")
at = dt.datetime(2015, 6, 15, 23, 30, 1, 123456, tzinfo=dt.UTC)
Event.objects.create(name="abc", at=at, day=dt.date(2015, 6, 15), t=dt.time(12, 30),
                     took=dt.timedelta(days=1, microseconds=5), n=2.0, parent=p)
Event.objects.create(name="xy", at=at + dt.timedelta(days=200), day=dt.date(2016, 1, 1),
                     t=dt.time(1, 2, 3), took=dt.timedelta(hours=-3), n=4.0, parent=p)
qs = Event.objects.order_by("pk")
local = at.astimezone(chicago)
row = qs.annotate(
    y=Fn.ExtractYear("at"), wd=Fn.ExtractWeekDay("at"), iy=Fn.ExtractIsoYear("at"),
    h=Fn.ExtractHour("at"), q=Fn.ExtractQuarter("day"), mo=Fn.TruncMonth("at"),
    d=Fn.TruncDate("at"), tt=Fn.TruncTime("at"), th=Fn.TruncHour("t"),
    later=F("at") + F("took"), dlater=F("day") + dt.timedelta(days=3),
    delta=F("at") - Value(at), tdelta=F("t") - Value(dt.time(12, 0)),
    lp=Fn.LPad("name", 5, Value("*")), rp=Fn.RPad("name", 4, Value("-")),
    rep=Fn.Repeat("name", 2), rev=Fn.Reverse("name"), pw=F("n") ** 2.0,
    ce=Fn.Ceil(Value(1.2)), co=Fn.Cot(Value(1.0)), pwr=Fn.Power("n", 3), rnd=Fn.Random(),
).first()
assert row.y == 2015 and row.h == local.hour == 18, (row.y, row.h)
assert row.wd == (local.isoweekday() % 7) + 1 and row.iy == 2015 and row.q == 2
assert row.mo == dt.datetime(2015, 6, 1, tzinfo=chicago), row.mo
assert row.d == local.date() and row.tt == local.time().replace(tzinfo=None), (row.d, row.tt)
assert row.th == dt.time(12, 0)
assert row.later == at + dt.timedelta(days=1, microseconds=5), row.later
assert row.dlater == dt.datetime(2015, 6, 18, tzinfo=dt.UTC) and row.delta == dt.timedelta(0), (row.dlater, row.delta)
assert row.tdelta == dt.timedelta(minutes=30), row.tdelta
assert (row.lp, row.rp, row.rep, row.rev) == ("**abc", "abc-", "abcabc", "cba")
assert row.pw == 4.0 and row.ce == 2 and abs(row.co - 0.6420926159343306) < 1e-12, (row.pw, row.ce, row.co)
assert row.pwr == 8.0 and 0 <= row.rnd < 1
agg = Event.objects.aggregate(sd=StdDev("n"), var=Variance("n", sample=True))
assert agg == {"sd": 1.0, "var": 2.0}, agg
from django.db.models import Q
agg = Event.objects.aggregate(sd=StdDev("n", filter=Q(name="xy")), every=StdDev("n", filter=Q()))
assert agg == {"sd": 0.0, "every": 1.0}, agg
if django.VERSION >= (6, 0):
    # Aggregates the stock backend computes in Python (BIT_*) or with STRING_AGG (3.44+).
    from django.db.models import BitAnd, BitOr, BitXor, StringAgg
    agg = Event.objects.aggregate(a=BitAnd("n"), o=BitOr("n"), x=BitXor("n"),
                                  f=BitOr("n", filter=Q(name="abc")), none=BitAnd("n", filter=Q(pk=0)),
                                  s=StringAgg("name", Value(";")))
    assert agg == {"a": 0, "o": 6, "x": 6, "f": 2, "none": None, "s": "abc;xy"}, agg
    assert connection.features.supports_aggregate_order_by_clause
    from django.db import connections
    connections.settings["old"] = connections.configure_settings(
        {"default": connections.settings["default"],
         "old": {**connections.settings["default"], "OPTIONS": {"sqlite_version": "3.40.1"}}})["old"]
    assert connections["old"].get_database_version() == (3, 40, 1)
    assert not connections["old"].features.supports_aggregate_order_by_clause
    from django.core.exceptions import ImproperlyConfigured
    for bad in ("latest", "4.0", "3"):
        connections.settings["bad"] = {**connections.settings["default"],
                                       "OPTIONS": {"sqlite_version": bad}}
        try:
            connections["bad"].get_database_version()
        except ImproperlyConfigured as exc:
            assert "sqlite_version" in str(exc), exc
        else:
            raise AssertionError(f"sqlite_version={bad!r} accepted")
        del connections["bad"]
assert qs.filter(at__date=local.date()).count() == 1
assert qs.filter(at__hour=18).count() == 1
assert list(Event.objects.dates("at", "month")) == [dt.date(2015, 6, 1), dt.date(2016, 1, 1)]
for bad in (lambda: list(qs.filter(name__regex="a.")),
            lambda: list(qs.annotate(h=Fn.MD5("name"))),
            lambda: list(qs.annotate(h=Fn.SHA256("name")))):
    try:
        bad()
    except NotSupportedError as exc:
        assert "Python" in str(exc) or "REGEXP" in str(exc), exc
    else:
        raise AssertionError("expected NotSupportedError")
# Chained datetime arithmetic stays within SQLite's parser depth.
chain = Event.objects.filter(pk=1)
for delta in (dt.timedelta(seconds=-30), dt.timedelta(minutes=-30), dt.timedelta(hours=-2),
              dt.timedelta(days=-2), dt.timedelta(microseconds=-30)):
    chain = chain.annotate(c=F("at") + delta) if "c" not in chain.query.annotations else \
        chain.annotate(c2=F("c") + delta).annotate(c=F("c2"))
Event.objects.filter(pk=1).update(at=chain.values("c"))
assert Event.objects.get(pk=1).at == at - dt.timedelta(days=2, hours=2, minutes=30, seconds=30,
                                                      microseconds=30)
# Functions over decimals compare numerically (the stock CAST(... AS NUMERIC) is kept).
from django.test.utils import register_lookup
class Price(models.Model):
    amount = models.DecimalField(max_digits=6, decimal_places=2)
    class Meta: app_label = "t"
with connection.schema_editor() as ed:
    ed.create_model(Price)
Price.objects.create(amount="3.12")
Price.objects.create(amount="1.25")
with register_lookup(models.DecimalField, Fn.Ceil):
    assert list(Price.objects.filter(amount__ceil__gt=3).values_list("amount", flat=True)) == [
        __import__("decimal").Decimal("3.12")]
# A table rebuild with a referencing row and enforced foreign keys, one batch.
old = Parent._meta.get_field("name")
new = models.CharField(max_length=20, null=True)
new.set_attributes_from_name("name")
new.model = Parent
with connection.schema_editor() as ed:
    ed.alter_field(Parent, old, new, strict=True)
assert Event.objects.filter(parent__name="p").count() == 2
assert "_cf_KV" not in connection.introspection.table_names()

# A JSON column whose name makes Django's LIKE '%json_valid("<column>")%' pattern longer than
# the 50 bytes D1/Durable Objects allow: introspection still finds it, in two statements.
class LongJson(models.Model):
    a_json_column_with_a_rather_long_descriptive_name = models.JSONField(default=dict)
    class Meta: app_label = "t"
with connection.schema_editor() as ed:
    ed.create_model(LongJson)
metrics = connection.connection.transport.metrics
with connection.cursor() as c:
    before = metrics.statements
    desc = connection.introspection.get_table_description(c, LongJson._meta.db_table)
    spent = metrics.statements - before
flags = {d.name: d.has_json_constraint for d in desc}
assert flags == {"id": False, "a_json_column_with_a_rather_long_descriptive_name": True}, flags
assert spent == 2, spent
print("OK")
"""


def test_orm_over_sqlite_without_django_functions(tmp_path):
    (tmp_path / "plainsqlite_backend").mkdir()
    (tmp_path / "plainsqlite_backend" / "__init__.py").write_text("")
    (tmp_path / "plainsqlite_backend" / "base.py").write_text(textwrap.dedent(BACKEND))
    db = tmp_path / "db.sqlite3"
    import sqlite3

    sqlite3.connect(db).execute("CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB)")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(db)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "OK", proc.stderr[-3000:]
