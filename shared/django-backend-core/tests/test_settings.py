"""settings.validate: one ImproperlyConfigured naming every problem."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django_backend_core.settings import is_int, is_url, lookup, one_of, validate


def test_valid_settings_pass():
    validate(
        {"NAME": "db", "OPTIONS": {"url": "https://x", "mode": "rest", "timeout": "5"}},
        backend="django_x",
        required=["NAME", "OPTIONS.url"],
        validators={
            "OPTIONS.url": is_url(),
            "OPTIONS.mode": one_of("rest", "binding"),
            "OPTIONS.timeout": is_int(minimum=1),
        },
    )


def test_every_missing_and_invalid_key_named_once():
    with pytest.raises(ImproperlyConfigured) as info:
        validate(
            {"NAME": "", "HOST": None, "PORT": "abc", "OPTIONS": {"mode": "grpc", "retries": -1}},
            backend="django_x",
            required=["NAME", "HOST", "OPTIONS.account_id", "OPTIONS.mode"],
            validators={
                "PORT": is_int(1, 65535),
                "OPTIONS.mode": one_of("rest", "binding"),
                "OPTIONS.retries": is_int(minimum=0),
                "OPTIONS.url": is_url(),  # absent and not required: not checked
                "NAME": is_int(),  # missing: reported as missing only
            },
        )
    err = info.value
    msg = str(err)
    assert msg.startswith("django_x: ")
    assert err.missing == ["NAME", "HOST", "OPTIONS.account_id"]
    assert set(err.invalid) == {"PORT", "OPTIONS.mode", "OPTIONS.retries"}
    for key in ("NAME", "HOST", "OPTIONS.account_id", "PORT", "OPTIONS.mode", "OPTIONS.retries"):
        assert key in msg
    assert "OPTIONS.url" not in msg
    assert "'abc'" in msg and "must be one of 'rest', 'binding'" in msg
    assert msg.count("NAME") == 1


def test_validator_outcomes():
    def raises(value):
        raise ValueError("needs https")

    with pytest.raises(ImproperlyConfigured) as info:
        validate(
            {"A": 1, "B": 2, "C": 3, "D": 4},
            backend="b",
            validators={
                "A": lambda v: True,
                "B": lambda v: False,
                "C": raises,
                "D": lambda v: "odd",
            },
        )
    assert info.value.invalid == {
        "B": "invalid value (got 2)",
        "C": "needs https (got 3)",
        "D": "odd (got 4)",
    }


def test_secret_keys_values_not_echoed():
    with pytest.raises(ImproperlyConfigured) as info:
        validate(
            {"OPTIONS": {"API_TOKEN": "tok-abcdef-123"}},
            backend="b",
            validators={"OPTIONS.API_TOKEN": lambda v: "too short"},
        )
    assert "tok-abcdef-123" not in str(info.value)
    assert "OPTIONS.API_TOKEN: too short" in str(info.value)


def test_lookup_and_helpers():
    assert lookup({"A": {"B": 1}}, "A.B") == 1
    assert lookup({"A": 1}, "A.B", "d") == "d"
    assert is_int()(True) == "must be an integer"
    assert is_int(maximum=3)(4) == "must be <= 3"
    assert is_url("ws", "wss")("http://x") == "must be a ws/wss URL"
    assert is_url()(3) == "must be a URL string"
