"""Integers through JSON replies: exact up to 2**53 - 1, refused beyond, RETURNING text exact."""

from __future__ import annotations

import pytest

pytest.importorskip("django")

from django.db import DataError  # noqa: E402
from django_backend_core.remote_sqlite.integers import (  # noqa: E402
    MAX_SAFE_INTEGER,
    convert_exact_integer,
    int_text,
)


class _Conn:
    display_name = "Some Store"


@pytest.mark.parametrize("value", [0, -1, 2**53 - 1, -(2**53 - 1), 7.5, "9007199254740993", None])
def test_exact_values_pass_through(value):
    assert convert_exact_integer(value, None, _Conn()) == value


@pytest.mark.parametrize("value", [2**53, -(2**53), 9223372036854776000, -9223372036854776000])
def test_values_a_double_may_have_rounded_are_refused(value):
    # 2**53 is what 2**53 + 1 reads back as: it cannot be trusted either.
    with pytest.raises(
        DataError, match=rf"Some Store returned the integer {value}, beyond 2\*\*53 - 1"
    ):
        convert_exact_integer(value, None, _Conn())


def test_max_safe_integer_is_javascripts():
    assert MAX_SAFE_INTEGER == 9007199254740991
    assert float(MAX_SAFE_INTEGER + 2) == float(MAX_SAFE_INTEGER + 1)  # the first collision


def test_returning_text_back_to_numbers():
    assert int_text(str(2**63 - 1), None, None) == 2**63 - 1
    assert int_text("-5", None, None) == -5
    assert int_text("2.5", None, None) == 2.5  # a REAL stored in an integer column
    assert int_text("abc", None, None) == "abc"
    assert int_text(7, None, None) == 7
