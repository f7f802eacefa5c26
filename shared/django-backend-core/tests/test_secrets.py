"""Token values from settings never appear in messages, reprs, payloads, logs or URLs."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest
from django_backend_core import dbapi
from django_backend_core.errors import SQLITE_RULES, ErrorMapper
from django_backend_core.secrets import (
    MASK,
    RedactingFilter,
    Redactor,
    Secret,
    default_redactor,
    register,
    reveal,
)
from django_backend_core.settings import validate
from django_backend_core.testing import CaptureLogs, assert_no_secret

TOKEN = "cf_T0ken+/=&value-123"  # characters that change under URL/JSON encoding
PASSWORD = 'p@ss"word\\x'
SETTINGS = {
    "ENGINE": "django_d1",
    "NAME": "db",
    "USER": "alice",
    "PASSWORD": PASSWORD,
    "OPTIONS": {"account_id": "acc", "API_TOKEN": TOKEN, "timeout": 5},
}


@pytest.fixture
def redactor() -> Redactor:
    return Redactor.from_settings(SETTINGS)


def test_from_settings_collects_sensitive_values_only(redactor):
    assert len(redactor) >= 2
    text = redactor.redact(f"user alice, account acc, token {TOKEN}, pw {PASSWORD}, 5s")
    assert text == f"user alice, account acc, token {MASK}, pw {MASK}, 5s"


def test_encoded_forms_are_masked(redactor):
    import json
    from urllib.parse import quote, quote_plus

    for form in (quote(TOKEN, safe=""), quote_plus(TOKEN), json.dumps(TOKEN)):
        assert_no_secret(redactor.redact(f"seen: {form}"), TOKEN)
    assert_no_secret(redactor.redact(json.dumps({"password": PASSWORD})), PASSWORD)


def test_generic_patterns_without_known_secrets():
    r = Redactor()
    assert r.redact("GET https://h/x?a=1&api_key=zzz9&token=abc#f") == (
        f"GET https://h/x?a=1&api_key={MASK}&token={MASK}#f"
    )
    assert r.redact("Authorization: Bearer eyJhbGciOi.x-y") == f"Authorization: Bearer {MASK}"
    assert r.redact("authorization=Basic dXNlcjpwYXNz") == f"authorization=Basic {MASK}"
    assert r.redact('{"apiKey": "k-1", "x": "y"}') == f'{{"apiKey": "{MASK}", "x": "y"}}'
    assert r.redact("postgres://user:pw123@host/db") == f"postgres://user:{MASK}@host/db"
    # ordinary database messages stay readable
    for text in (
        "Key (email)=(a@b.c) already exists.",
        "UNIQUE constraint failed: t.primary_key",
        "Unexpected token SELECTED in expression",
        "keyspace=app table=t",
    ):
        assert r.redact(text) == text


def test_redact_obj_nested_and_sensitive_keys():
    r = Redactor(TOKEN)
    obj = {
        "errors": [{"message": f"bad token {TOKEN}", "code": 10000}],
        "headers": {"Authorization": "Bearer something", "X-Api-Key": "abc"},
        "password": "hunter2",
        "keyspace": "app",
        "count": 3,
        "ok": False,
        "tuple": (TOKEN, 1),
        "secret": Secret("zz"),
        "none": None,
    }
    out = r.redact_obj(obj)
    assert_no_secret(repr(out), TOKEN, "hunter2", "something", "zz")
    assert out["keyspace"] == "app"
    assert out["count"] == 3 and out["ok"] is False and out["none"] is None
    assert out["errors"][0]["code"] == 10000
    assert isinstance(out["tuple"], tuple)


def test_secret_value_object():
    s = Secret(TOKEN)
    assert str(s) == MASK and TOKEN not in repr(s) and TOKEN not in f"{s!r} {s}"
    assert s.reveal() == TOKEN and reveal(s) == TOKEN and reveal("x") == "x"
    assert s == TOKEN and s == Secret(TOKEN) and s != "other"
    assert copy.deepcopy({"k": s})["k"] is s
    assert bool(s) and not Secret("")
    assert pickle.loads(pickle.dumps(s)) == s  # Django's parallel runner pickles settings
    assert Redactor.from_settings({"OPTIONS": {"whatever": s}}).redact(TOKEN) == MASK


def test_error_messages_reprs_and_payloads(redactor):
    mapper = ErrorMapper(SQLITE_RULES, redactor=redactor)
    err = mapper.map(
        f"Authentication error for token {TOKEN}",
        code=10000,
        status=401,
        payload={"errors": [{"message": f"{TOKEN} {PASSWORD}"}], "url": f"/q?token={TOKEN}"},
    )
    assert isinstance(err, dbapi.DatabaseError)
    assert_no_secret(err, TOKEN, PASSWORD)


def test_settings_errors_never_echo_secrets():
    bad = dict(SETTINGS, OPTIONS={"API_TOKEN": TOKEN, "url": f"https://x/?token={TOKEN}"})
    with pytest.raises(Exception) as info:
        validate(
            bad,
            backend="django_d1",
            required=["OPTIONS.account_id"],
            validators={"OPTIONS.API_TOKEN": lambda v: False, "OPTIONS.url": lambda v: False},
        )
    assert_no_secret(info.value, TOKEN)
    assert "OPTIONS.API_TOKEN" in str(info.value)


def test_logging_filter_redacts_messages_args_and_tracebacks(redactor):
    logger = logging.getLogger("django_backend_core.tests.secrets")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    capture = CaptureLogs()
    capture.addFilter(RedactingFilter(redactor))
    logger.addHandler(capture)
    try:
        logger.warning("request to https://api?token=%s failed", TOKEN)
        logger.error("settings %r", SETTINGS)
        try:
            raise RuntimeError(f"library said {TOKEN}")
        except RuntimeError:
            logger.exception("boom with %s", PASSWORD)
        logger.info("stack", stack_info=True)
    finally:
        logger.removeHandler(capture)
    assert len(capture.lines) == 4
    assert "RuntimeError" in capture.text and "Traceback" in capture.text
    assert_no_secret(capture.text, TOKEN, PASSWORD)


def test_logging_filter_uses_default_redactor():
    register("global-secret-987", None)
    assert "global-secret-987" in default_redactor
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "v=%s", ("global-secret-987",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == f"v={MASK}"


def test_assert_no_secret_fails_without_printing_the_secret():
    with pytest.raises(AssertionError) as info:
        assert_no_secret(f"prefix {TOKEN} suffix", TOKEN)
    assert TOKEN not in str(info.value)
    assert "<SECRET>" in str(info.value)
    with pytest.raises(AssertionError):
        from urllib.parse import quote

        assert_no_secret(b"x=" + quote(TOKEN, safe="").encode(), Secret(TOKEN))
    assert_no_secret("clean", TOKEN, None, "")


def test_logging_filter_survives_bad_format_args():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", (TOKEN,), None)
    assert RedactingFilter(Redactor(TOKEN)).filter(record)
    assert_no_secret(record.getMessage(), TOKEN)
    assert record.getMessage().startswith("%d items")
