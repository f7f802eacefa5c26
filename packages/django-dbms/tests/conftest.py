"""Helpers shared by the django-dbms tests: a raw protocol client and target selection."""

from __future__ import annotations

import uuid

import pytest
from django_dbms.testing import Raw


@pytest.fixture
def db_id() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def raw(dbms_target, db_id):
    client = Raw(dbms_target.endpoint(db_id))
    yield client
    client.close()


@pytest.fixture
def local_only(dbms_target):
    """For behaviour Miniflare cannot show (a transaction held across messages)."""
    if dbms_target.kind != "local":
        pytest.skip(f"needs the local server (target is {dbms_target.kind})")
    return dbms_target


@pytest.fixture
def emulated(dbms_target):
    """Our emulations of workers-dbms (local server, Miniflare Worker), which fix its bugs:
    waiting sessions give up after a timeout, a vanished lock holder frees the lock."""
    if dbms_target.lock_timeout is None:
        pytest.skip(f"production workers-dbms behaves differently here ({dbms_target.kind})")
    return dbms_target
