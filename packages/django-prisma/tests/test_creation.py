"""Test-database identity: aliases on different Prisma endpoints are different test databases."""

from __future__ import annotations

from django_prisma.base import DatabaseWrapper

KEY = "creation-test-secret-key-123"


def _wrapper(alias: str, url: str) -> DatabaseWrapper:
    settings = {
        "ENGINE": "django_prisma",
        "NAME": "",
        "URL": url,
        "API_KEY": KEY,
        "OPTIONS": {},
        "TEST": {},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
    }
    return DatabaseWrapper(settings, alias)


def test_aliases_on_different_endpoints_have_different_signatures():
    a = _wrapper("default", "prisma+postgres://127.0.0.1:5001/")
    b = _wrapper("other", "prisma+postgres://127.0.0.1:5002/")
    assert a.creation.test_db_signature() != b.creation.test_db_signature()


def test_same_endpoint_is_the_same_test_database_and_the_key_stays_out():
    a = _wrapper("default", f"prisma+postgres://127.0.0.1:5001/?api_key={KEY}")
    b = _wrapper("other", "prisma+postgres://127.0.0.1:5001/")
    assert a.creation.test_db_signature() == b.creation.test_db_signature()
    assert KEY not in repr(a.creation.test_db_signature())
