"""SQL literals for the few places Django needs client-side interpolation.

The schema editor (DDL has no bind parameters: column defaults, check constraints) and
``ops.compose_sql`` need values rendered as PostgreSQL literals; psycopg's ``mogrify`` does
that for Django's postgresql backend. Data statements never use this: they are always sent
with ``$n`` parameters.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import uuid
from typing import Any

from django_backend_core.params import translate

from .wire import JsonText


def _string(text: str) -> str:
    if "\x00" in text:
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")
    return "'" + text.replace("'", "''") + "'"


def quote_value(value: Any) -> str:
    """Render one Python value as a PostgreSQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)
        return (
            "'NaN'::float8"
            if math.isnan(value)
            else f"'{'-' if value < 0 else ''}Infinity'::float8"
        )
    if isinstance(value, decimal.Decimal):
        return f"'{value}'::numeric" if not value.is_finite() else str(value)
    if isinstance(value, JsonText):
        return _string(str(value)) + "::jsonb"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime.datetime):
        return _string(value.isoformat()) + ("::timestamptz" if value.tzinfo else "::timestamp")
    if isinstance(value, datetime.date):
        return _string(value.isoformat()) + "::date"
    if isinstance(value, datetime.time):
        return _string(value.isoformat()) + "::time"
    if isinstance(value, datetime.timedelta):
        return f"'{value.days} days {value.seconds} seconds {value.microseconds} microseconds'::interval"
    if isinstance(value, bytes | bytearray | memoryview):
        return "'\\x" + bytes(value).hex() + "'::bytea"
    if isinstance(value, uuid.UUID):
        return _string(str(value)) + "::uuid"
    if isinstance(value, dict):
        return _string(json.dumps(value)) + "::jsonb"
    if isinstance(value, list | tuple):
        return "ARRAY[" + ", ".join(quote_value(v) for v in value) + "]"
    return _string(str(value))


def compose(sql: str, params: Any) -> str:
    """Interpolate ``params`` into Django-style ``%s`` SQL as literals (mogrify)."""
    if params is None:
        return sql
    out, rest = translate(sql, params, style="dollar", inline=quote_value)
    if rest:
        raise ValueError("compose() could not inline every parameter")
    return out
