"""Prisma 7 raw-query wire format: Python values to ``args``/``argTypes`` and typed rows back.

The query-plan executor binds every argument as untyped text and lets PostgreSQL infer the
type, so precision-sensitive values (bigint beyond 2**53, Decimal, datetimes with
microseconds, NaN/Infinity) travel as strings. The ``datetime`` argType is avoided on purpose:
the executor turns it into a JavaScript Date and drops microseconds (measured).
Results are decoded by the ``types`` list the server returns.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "JsonText",
    "add_casts",
    "parse_interval",
    "decode_rows",
    "decode_value",
    "encode_args",
    "encode_value",
    "sql_type",
]

_JS_SAFE_INT = 2**53 - 1


class JsonText(str):
    """A JSON document already serialised by Django (``adapt_json_value``); sent as json."""

    __slots__ = ()


def _arg_type(scalar: str, arity: str = "scalar") -> dict[str, str]:
    return {"scalarType": scalar, "arity": arity}


def _interval(value: datetime.timedelta) -> str:
    # PostgreSQL interval input; exact to the microsecond, sign kept per component.
    return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"


def encode_value(value: Any) -> tuple[Any, str]:
    """Return (JSON-safe value, scalarType) for one Python parameter."""
    if value is None:
        return None, "unknown"
    if isinstance(value, bool):
        return value, "boolean"
    if isinstance(value, int):
        if -_JS_SAFE_INT <= value <= _JS_SAFE_INT:
            return value, "int"
        return str(value), "bigint"
    if isinstance(value, float):
        if math.isfinite(value):
            return value, "float"
        return (
            "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        ), "string"
    if isinstance(value, decimal.Decimal):
        return str(value), "decimal"
    if isinstance(value, JsonText):
        return str(value), "json"
    if isinstance(value, str):
        return value, "string"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat(), "string"
    if isinstance(value, datetime.timedelta):
        return _interval(value), "string"
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii"), "bytes"
    if isinstance(value, uuid.UUID):
        return str(value), "uuid"
    if isinstance(value, dict):
        return json.dumps(value), "json"
    raise TypeError(f"django-prisma cannot send a parameter of type {type(value).__name__}")


def encode_args(params: Sequence[Any]) -> tuple[list[Any], list[dict[str, str]]]:
    """Encode a parameter list; lists/tuples become ``arity: list`` arguments."""
    args: list[Any] = []
    types: list[dict[str, str]] = []
    for value in params:
        if isinstance(value, list | tuple):
            encoded = [encode_value(item) for item in value]
            scalars = {t for v, t in encoded if v is not None}
            scalar = scalars.pop() if len(scalars) == 1 else "unknown"
            args.append([v for v, _ in encoded])
            types.append(_arg_type(scalar, "list"))
        else:
            v, t = encode_value(value)
            args.append(v)
            types.append(_arg_type(t))
    return args, types


def sql_type(value: Any) -> str | None:
    """The PostgreSQL type a non-text parameter is cast to, like psycopg's typed binding.

    The executor binds every argument as untyped text, so ``SELECT $1`` or ``$1 + 1`` cannot
    be typed by the server (42P18, measured). Strings and None stay untyped so PostgreSQL
    infers them from context (as psycopg does for str).
    """
    if value is None or isinstance(value, str) and not isinstance(value, JsonText):
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        # The smallest of int4/int8/numeric, as psycopg picks: int4 keeps calls such as
        # substring(text, int) and jsonb -> int resolvable (there is no int8 overload).
        if -(2**31) <= value < 2**31:
            return "int4"
        return "int8" if -(2**63) <= value < 2**63 else "numeric"
    if isinstance(value, float):
        return "float8"
    if isinstance(value, decimal.Decimal):
        return "numeric"
    if isinstance(value, JsonText):
        return "jsonb"
    if isinstance(value, datetime.datetime):
        return "timestamptz" if value.tzinfo is not None else "timestamp"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, datetime.time):
        return "timetz" if value.tzinfo is not None else "time"
    if isinstance(value, datetime.timedelta):
        return "interval"
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytea"
    if isinstance(value, uuid.UUID):
        return "uuid"
    return None


_PLACEHOLDER = re.compile(r"\$(\d+)(?!\d)(?!\s*::)")


def add_casts(sql: str, params: Sequence[Any]) -> str:
    """Append ``::type`` to the ``$n`` placeholders of typed parameters (outside literals,
    quoted identifiers and comments)."""
    casts = {i: t for i, v in enumerate(params, 1) if (t := sql_type(v)) is not None}
    if not casts:
        return sql
    from django_backend_core.params import scan

    def repl(m: re.Match[str]) -> str:
        cast = casts.get(int(m.group(1)))
        return f"{m.group(0)}::{cast}" if cast else m.group(0)

    out: list[str] = []
    code: list[str] = []
    for kind, text in scan(sql, "postgres"):
        if kind == "code":
            code.append(text)
            continue
        if code:
            out.append(_PLACEHOLDER.sub(repl, "".join(code)))
            code = []
        out.append(text)
    if code:
        out.append(_PLACEHOLDER.sub(repl, "".join(code)))
    return "".join(out)


_INTERVAL = re.compile(
    r"^(?:(?P<years>[+-]?\d+) years? ?)?(?:(?P<months>[+-]?\d+) mons? ?)?"
    r"(?:(?P<days>[+-]?\d+) days? ?)?"
    r"(?:(?P<sign>[+-])?(?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d)(?:\.(?P<f>\d{1,6}))?)?$"
)


def parse_interval(text: str) -> datetime.timedelta:
    """Parse PostgreSQL interval output (IntervalStyle ``postgres``), exactly.

    Months count 30 days and years 365.25 days, as EXTRACT(EPOCH FROM interval) does.
    """
    m = _INTERVAL.match(text.strip())
    if m is None:
        raise ValueError(f"unrecognised interval {text!r}")
    g = m.groupdict()
    years, months, days = (int(g[k] or 0) for k in ("years", "months", "days"))
    micros = 0
    if g["h"] is not None:
        micros = ((int(g["h"]) * 60 + int(g["m"])) * 60 + int(g["s"])) * 1_000_000
        micros += int((g["f"] or "0").ljust(6, "0"))
        if g["sign"] == "-":
            micros = -micros
    return datetime.timedelta(days=days + months * 30 + years * 365.25, microseconds=micros)


def _datetime(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _time(text: str) -> datetime.time:
    if text.startswith("24:00:00"):
        return datetime.time.max
    return datetime.time.fromisoformat(text)


def _json_text(value: Any) -> str:
    # Django's JSONField.from_db_value json.loads() a str (what psycopg hands it for jsonb).
    return json.dumps(value)


_SCALAR_DECODERS: dict[str, Callable[[Any], Any]] = {
    "bigint": int,
    "decimal": decimal.Decimal,
    "bytes": lambda v: base64.b64decode(v),
    "datetime": _datetime,
    "date": datetime.date.fromisoformat,
    "time": _time,
    "uuid": uuid.UUID,
    "json": _json_text,
}


def decode_value(type_name: str, value: Any) -> Any:
    """Decode one value according to its Prisma column type (``int``, ``decimal-array`` ...)."""
    if value is None:
        return None
    if type_name.endswith("-array"):
        inner = type_name[: -len("-array")]
        decoder = _SCALAR_DECODERS.get(inner)
        if inner == "json":
            return [None if v is None else v for v in value]
        if decoder is None:
            return list(value)
        return [None if v is None else decoder(v) for v in value]
    decoder = _SCALAR_DECODERS.get(type_name)
    return value if decoder is None else decoder(value)


def _naive_utc(value: Any) -> Any:
    if isinstance(value, list):
        return [_naive_utc(v) for v in value]
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def decode_rows(
    types: Sequence[str], rows: Sequence[Sequence[Any]], *, naive_datetimes: bool = False
) -> list[tuple[Any, ...]]:
    """Decode every row; columns of pass-through types are left untouched (fast path).

    ``naive_datetimes``: return datetimes as naive UTC (what Django's postgresql backend hands
    out with USE_TZ=False; the engine renders every timestamp with an offset).
    """
    plan = [(i, t) for i, t in enumerate(types) if t.endswith("-array") or t in _SCALAR_DECODERS]
    if not plan:
        return [tuple(row) for row in rows]
    naive = {i for i, t in plan if t in ("datetime", "datetime-array")} if naive_datetimes else ()
    out = []
    for row in rows:
        values = list(row)
        for i, t in plan:
            if values[i] is not None:
                values[i] = decode_value(t, values[i])
                if i in naive:
                    values[i] = _naive_utc(values[i])
        out.append(tuple(values))
    return out
