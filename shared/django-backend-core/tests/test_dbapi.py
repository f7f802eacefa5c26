"""The PEP 249 module surface Django reads from ``Database``."""

from __future__ import annotations

import datetime
import time

import pytest
from django.db.utils import DatabaseErrorWrapper
from django_backend_core import dbapi
from django_backend_core.metrics import RoundTrips


def test_module_globals():
    assert dbapi.apilevel == "2.0"
    assert dbapi.threadsafety == 1
    assert dbapi.paramstyle == "format"


def test_exception_hierarchy():
    assert issubclass(dbapi.Warning, Exception)
    assert issubclass(dbapi.Error, Exception)
    assert issubclass(dbapi.InterfaceError, dbapi.Error)
    assert issubclass(dbapi.DatabaseError, dbapi.Error)
    for name in (
        "DataError",
        "OperationalError",
        "IntegrityError",
        "InternalError",
        "ProgrammingError",
        "NotSupportedError",
    ):
        assert issubclass(getattr(dbapi, name), dbapi.DatabaseError), name


def test_error_attributes_and_args():
    err = dbapi.IntegrityError("dup", payload={"x": 1}, code=7500, sqlstate="23505", status=400)
    assert err.args == ("dup",)
    assert (err.payload, err.code, err.sqlstate, err.status, err.message) == (
        {"x": 1},
        7500,
        "23505",
        400,
        "dup",
    )
    bare = dbapi.Error()
    assert (bare.payload, bare.code, bare.sqlstate) == (None, None, None)


class FakeWrapper:
    """Just enough of BaseDatabaseWrapper for DatabaseErrorWrapper."""

    Database = dbapi

    def __init__(self):
        self.errors_occurred = False


def test_django_wraps_our_errors_by_name():
    from django.db import utils

    with pytest.raises(utils.IntegrityError) as info:
        with DatabaseErrorWrapper(FakeWrapper()):
            raise dbapi.IntegrityError("UNIQUE constraint failed: t.a", payload={"p": 1})
    assert str(info.value) == "UNIQUE constraint failed: t.a"
    assert isinstance(info.value.__cause__, dbapi.IntegrityError)
    assert info.value.__cause__.payload == {"p": 1}


def test_type_constructors():
    assert dbapi.Binary(b"ab") == b"ab"
    assert dbapi.Date(2020, 1, 2) == datetime.date(2020, 1, 2)
    assert dbapi.Time(1, 2, 3) == datetime.time(1, 2, 3)
    assert dbapi.Timestamp(2020, 1, 2, 3, 4, 5) == datetime.datetime(2020, 1, 2, 3, 4, 5)
    ticks = time.mktime((2020, 5, 6, 7, 8, 9, 0, 0, -1))
    assert dbapi.DateFromTicks(ticks) == datetime.date(2020, 5, 6)
    assert dbapi.TimeFromTicks(ticks) == datetime.time(7, 8, 9)
    assert dbapi.TimestampFromTicks(ticks) == datetime.datetime(2020, 5, 6, 7, 8, 9)


def test_type_objects():
    assert dbapi.STRING == "TEXT"
    assert dbapi.NUMBER == "INTEGER"
    assert dbapi.NUMBER != "TEXT"
    assert dbapi.BINARY == "BLOB"
    assert dbapi.DATETIME == "TIMESTAMP"
    assert dbapi.ROWID == "ROWID"
    assert dbapi.STRING != dbapi.NUMBER
    assert dbapi.STRING != ["unhashable"]
    assert len({dbapi.STRING, dbapi.NUMBER}) == 2


def test_round_trips():
    m = RoundTrips()
    m.record(statements=3, sent=10, received=20)
    m.record(retries=1)
    snap = m.snapshot()
    assert snap == {
        "requests": 2,
        "statements": 4,
        "bytes_sent": 10,
        "bytes_received": 20,
        "retries": 1,
    }
    m.record()
    assert m.since(snap) == {
        "requests": 1,
        "statements": 1,
        "bytes_sent": 0,
        "bytes_received": 0,
        "retries": 0,
    }
    m.reset()
    assert set(m.snapshot().values()) == {0}
