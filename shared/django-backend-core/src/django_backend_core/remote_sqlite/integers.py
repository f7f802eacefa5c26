"""Integers through JSON replies: a JavaScript number is exact only up to 2**53 - 1.

Both D1's REST API and workers-dbms build their replies with ``JSON.stringify``, so a stored
64-bit integer beyond that range would arrive rounded (9223372036854775807 as
9223372036854776000). Integer columns are therefore read as text by the outermost SELECT and
by RETURNING (:func:`as_text_sql`, converted back by :func:`int_text`); any other integer
value beyond the range (an aggregate, arithmetic) is refused with ``DataError`` by
:func:`convert_exact_integer` rather than returned wrong.
"""

from __future__ import annotations

from typing import Any

from django.db import DataError

#: ``Number.MAX_SAFE_INTEGER``: 2**53 itself is ambiguous (2**53 + 1 reads back as 2**53).
MAX_SAFE_INTEGER = 2**53 - 1

#: Fields SQLite stores as INTEGER whose full 64-bit range a double cannot hold.
INTEGER_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)

#: Also stored as INTEGER: microseconds, and whole-number Decimals (SQLite's NUMERIC affinity).
CHECKED_TYPES = INTEGER_TYPES | {"DurationField", "DecimalField"}


def internal_type(field: Any) -> str | None:
    """The field's internal type, following foreign keys to the column they point at."""
    try:
        kind = field.get_internal_type()
        if kind in ("ForeignKey", "OneToOneField"):
            kind = field.target_field.get_internal_type()
    except Exception:  # noqa: BLE001 - not a plain field (mixed types, no output field)
        return None
    return kind


def integer_kind(field: Any) -> str | None:
    """The internal type of a field whose values SQLite stores as INTEGER (following foreign
    keys): integers, durations (microseconds) and DecimalFields (whole numbers), or None."""
    kind = internal_type(field)
    return kind if kind in CHECKED_TYPES else None


def as_text_sql(kind: str, sql: str) -> str:
    """SQL that carries the column's integers as text, exact past 2**53.

    A DecimalField also holds REALs (fractions), which stay numbers: ``CAST(1.1 AS TEXT)``
    keeps only 15 significant digits, JSON keeps the double."""
    if kind == "DecimalField":
        return f"CASE WHEN typeof({sql}) = 'integer' THEN CAST({sql} AS TEXT) ELSE {sql} END"
    return f"CAST({sql} AS TEXT)"


def convert_exact_integer(value: Any, expression: Any, connection: Any) -> Any:
    """Refuse an integer the reply's JavaScript number may have rounded."""
    if type(value) is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise DataError(
            f"{connection.display_name} returned the integer {value}, beyond 2**53 - 1: its "
            "JSON replies carry JavaScript numbers, which round such values, so the stored "
            "number cannot be read exactly. Store such numbers as text (a CharField)."
        )
    return value


def int_text(value: Any, expression: Any, connection: Any) -> Any:
    """Integers sent as text (:func:`as_text_sql`) back to exact numbers."""
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)  # a REAL stored in an integer column stays a REAL
            except ValueError:
                return value
    return value
