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


def test_retry_and_local_write_options_reach_the_transport():
    import base64
    import json

    import pytest
    from django.core.exceptions import ImproperlyConfigured

    local_key = base64.urlsafe_b64encode(json.dumps({"databaseUrl": "postgres://x"}).encode())
    w = _wrapper("default", "prisma+postgres://127.0.0.1:5001/")
    w.settings_dict["API_KEY"] = local_key.decode()
    params = w.get_connection_params()
    assert params["autocommit_write_transactions"] is True  # a local `prisma dev` key
    assert (params["retries"], params["retry_max_wait"]) == (3, 5.0)

    w = _wrapper("default", "prisma+postgres://accelerate.example/")
    w.settings_dict["OPTIONS"] = {"retries": 0, "retry_max_wait": 1}
    params = w.get_connection_params()
    assert params["autocommit_write_transactions"] is False  # an Accelerate key
    assert (params["retries"], params["retry_max_wait"]) == (0, 1.0)
    transport = w.get_new_connection(params).transport
    assert (transport.retries, transport.retry_max_wait) == (0, 1.0)
    transport.close()

    w.settings_dict["OPTIONS"] = {"autocommit_write_transactions": True, "bogus": 1}
    with pytest.raises(ImproperlyConfigured, match="bogus"):
        w.get_connection_params()
