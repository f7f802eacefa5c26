"""Plain-SQLite replacements for the ``django_*`` Python functions of Django's sqlite3 backend.

Every builder takes SQL fragments (already compiled, Django ``%s`` placeholders, literal ``%``
written as ``%%``) and returns SQL that core SQLite evaluates with the same result as the Python
function in ``django/db/backends/sqlite3/_functions.py``. Values are the text formats Django's
sqlite3 backend stores: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS[.ffffff]``, ``HH:MM:SS[.ffffff]``.
"""

from __future__ import annotations

import datetime
import functools
import re
import zoneinfo

from django.db import NotSupportedError, OperationalError

SqlParams = tuple[str, tuple]

# Fixed-offset time zone names Django produces (``+05:30``, ``UTC-03:00``, ``Etc/GMT+5``...).
_OFFSET = re.compile(r"^(?P<name>[A-Za-z_/]*)?(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?$")

#: Range of years the time-zone transition table covers; outside it the nearest offset is used.
TZ_YEARS = (1950, 2060)


def let(template: str, **parts: SqlParams) -> SqlParams:
    """Fill ``{name}`` slots with compiled fragments, repeating params in textual order.

    Fragments that carry parameters or are long are evaluated once through a correlated
    ``(SELECT ... FROM (SELECT <fragment> AS v))`` so parameters are bound once; plain column
    references are repeated inline (cheap, and valid inside aggregates).
    """
    names = re.findall(r"\{(\w+)\}", template)
    inline_parts: dict[str, SqlParams] = {}
    outer: list[tuple[str, SqlParams]] = []
    for name, (sql, params) in parts.items():
        if names.count(name) > 1 and (params or len(sql) > 80 or "(" in sql):
            outer.append((name, (sql, tuple(params))))
            inline_parts[name] = (f"__{name}", ())
        else:
            inline_parts[name] = (sql, tuple(params))
    out_params: list = []

    def sub(m: re.Match[str]) -> str:
        sql, params = inline_parts[m.group(1)]
        out_params.extend(params)
        return sql

    body = re.sub(r"\{(\w+)\}", sub, template)
    if not outer:
        return body, tuple(out_params)
    cols = ", ".join(f"{sql} AS __{name}" for name, (sql, _) in outer)
    head_params = [p for _, (_, params) in outer for p in params]
    return f"(SELECT {body} FROM (SELECT {cols}))", (*out_params, *head_params)


# --- time zones -------------------------------------------------------------------------------


def _fixed_offset(tzname: str) -> datetime.timedelta | None:
    """Return the offset of a fixed-offset zone name, or None for named (DST) zones."""
    if tzname.upper() in ("UTC", "GMT", "Z", "ETC/UTC", "ETC/GMT", "UCT", "UNIVERSAL", "ZULU"):
        return datetime.timedelta(0)
    m = _OFFSET.match(tzname)
    if m and (m.group("name") or "").upper() in ("", "UTC", "GMT"):
        delta = datetime.timedelta(hours=int(m.group("h")), minutes=int(m.group("m") or 0))
        return delta if m.group("sign") == "+" else -delta
    if m and (m.group("name") or "").upper() == "ETC/GMT":  # POSIX: Etc/GMT+5 is UTC-5
        delta = datetime.timedelta(hours=int(m.group("h")))
        return -delta if m.group("sign") == "+" else delta
    return None


@functools.lru_cache(maxsize=64)
def transitions(tzname: str) -> tuple[tuple[str, int], ...]:
    """UTC instants (text) where ``tzname``'s offset changes, with the offset (seconds) after.

    Built by probing zoneinfo over :data:`TZ_YEARS`; the first row holds the offset in force
    at the start of the range.
    """
    try:
        zone = zoneinfo.ZoneInfo(tzname)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise NotSupportedError(f"Unknown time zone {tzname!r}.") from None
    utc = datetime.UTC

    def off(t: datetime.datetime) -> int:
        return int(t.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]

    start = datetime.datetime(TZ_YEARS[0], 1, 1, tzinfo=utc)
    end = datetime.datetime(TZ_YEARS[1], 1, 1, tzinfo=utc)
    rows = [("0000-01-01 00:00:00", off(start))]
    step = datetime.timedelta(hours=6)
    t, current = start, off(start)
    while t < end:
        nxt = t + step
        o = off(nxt)
        if o != current:
            lo, hi = t, nxt  # binary search the change to the second
            while (hi - lo) > datetime.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if off(mid) == current:
                    lo = mid
                else:
                    hi = mid
            rows.append((hi.strftime("%Y-%m-%d %H:%M:%S"), o))
            current = o
        t = nxt
    return tuple(rows)


def _seconds_modifier(seconds: int) -> str:
    return f"'{seconds:+d} seconds'"


@functools.lru_cache(maxsize=64)
def local_transitions(tzname: str) -> tuple[tuple[str, int], ...]:
    """Wall-clock instants (text) from which local times of ``tzname`` use the next offset.

    Matches ``datetime.replace(tzinfo=zone)`` with fold=0: ambiguous and skipped local times
    take the offset in force before the transition.
    """
    rows = transitions(tzname)
    out = [rows[0]]
    for (t, after), (_, before) in zip(rows[1:], rows[:-1], strict=True):
        instant = datetime.datetime.strptime(t, "%Y-%m-%d %H:%M:%S")
        wall = instant + datetime.timedelta(seconds=max(before, after))
        out.append((wall.strftime("%Y-%m-%d %H:%M:%S"), after))
    return tuple(out)


def local_to_utc(value: SqlParams, tzname: str) -> SqlParams:
    """Convert a wall-clock datetime in the named zone ``tzname`` to UTC (microseconds kept)."""
    values = ", ".join(f"('{t}', {-o})" for t, o in local_transitions(tzname))
    lookup = (
        f"(SELECT column2 FROM (VALUES {values}) WHERE column1 <= {{v}} "
        "ORDER BY column1 DESC LIMIT 1)"
    )
    return let(
        "(strftime('%%Y-%%m-%%d %%H:%%M:%%S', {v}, "
        + lookup
        + " || ' seconds') || substr({v}, 20))",
        v=value,
    )


def shift_seconds(value: SqlParams, seconds: int) -> SqlParams:
    """``value`` plus a constant number of seconds (microseconds kept)."""
    if seconds == 0:
        return value
    return let(
        "(strftime('%%Y-%%m-%%d %%H:%%M:%%S', {v}, "
        + _seconds_modifier(seconds)
        + ") || substr({v}, 20))",
        v=value,
    )


def utc_to_zone(value: SqlParams, tzname: str | None, conn_tzname: str | None) -> SqlParams:
    """Convert a stored datetime (in ``conn_tzname``, or UTC) to local time in ``tzname``.

    Fixed offsets and UTC become a constant modifier; named zones with daylight saving use a
    correlated lookup in a VALUES table of transitions (see :func:`transitions`); a named
    database TIME_ZONE is first converted to UTC (:func:`local_to_utc`). Microseconds are kept.
    """
    if tzname is None or tzname == conn_tzname:
        return value
    m = _OFFSET.match(tzname)
    if m and not m.group("name"):
        # Django's rule for a bare offset ("+03:00"): shift, then stay in the database zone.
        delta = _fixed_offset(tzname)
        assert delta is not None
        return shift_seconds(value, int(delta.total_seconds()))
    conn_offset = _fixed_offset(conn_tzname or "UTC")
    if conn_offset is None:
        # Stored in a named database TIME_ZONE: to UTC first (Python's fold=0 rules).
        assert conn_tzname is not None
        return utc_to_zone(local_to_utc(value, conn_tzname), tzname, None)
    target = _fixed_offset(tzname)
    sql, params = value
    if target is not None:
        return shift_seconds(value, int((target - conn_offset).total_seconds()))
    rows = transitions(tzname)
    shift = int(conn_offset.total_seconds())
    values = ", ".join(f"('{t}', {o - shift})" for t, o in rows)
    utc_expr = "{v}" if shift == 0 else f"datetime({{v}}, {_seconds_modifier(-shift)})"
    lookup = (
        f"(SELECT column2 FROM (VALUES {values}) WHERE column1 <= {utc_expr} "
        "ORDER BY column1 DESC LIMIT 1)"
    )
    return let(
        "(strftime('%%Y-%%m-%%d %%H:%%M:%%S', {v}, "
        + lookup
        + " || ' seconds') || substr({v}, 20))",
        v=(sql, params),
    )


# --- extraction and truncation ----------------------------------------------------------------


def _int(fmt: str) -> str:
    return f"CAST(strftime('{fmt}', {{v}}) AS INTEGER)"


_EXTRACT = {
    "year": _int("%%Y"),
    "month": _int("%%m"),
    "day": _int("%%d"),
    "hour": _int("%%H"),
    "minute": _int("%%M"),
    "second": _int("%%S"),
    "week_day": "(" + _int("%%w") + " + 1)",
    "iso_week_day": "(((" + _int("%%w") + " + 6) %% 7) + 1)",
    "week": "((CAST(strftime('%%j', date({v}, '-3 days', 'weekday 4')) AS INTEGER) - 1) / 7 + 1)",
    "iso_year": "CAST(strftime('%%Y', date({v}, '-3 days', 'weekday 4')) AS INTEGER)",
    "quarter": "((" + _int("%%m") + " + 2) / 3)",
}


def extract(lookup_type: str, value: SqlParams) -> SqlParams:
    """EXTRACT(lookup FROM value) for a date, datetime or time text."""
    try:
        template = _EXTRACT[lookup_type.lower()]
    except KeyError:
        # OperationalError, as on sqlite3 (its django_date_extract() raises inside SQLite);
        # Django's tests accept it for both Extract and Trunc, ValueError only for Extract.
        raise OperationalError(f"Invalid lookup type: {lookup_type!r}") from None
    return let(template, v=value)


_QUARTER = (
    "strftime('%%Y-', {v}) || printf('%%02d', ((CAST(strftime('%%m', {v}) AS INTEGER) - 1)"
    " / 3) * 3 + 1) || '-01'"
)
_DATE_TRUNC = {
    "year": "strftime('%%Y-01-01', {v})",
    "quarter": "(" + _QUARTER + ")",
    "month": "strftime('%%Y-%%m-01', {v})",
    "week": "date({v}, '-6 days', 'weekday 1')",
    "day": "date({v})",
}
_DATETIME_TRUNC = {
    "year": "strftime('%%Y-01-01 00:00:00', {v})",
    "quarter": "(" + _QUARTER + " || ' 00:00:00')",
    "month": "strftime('%%Y-%%m-01 00:00:00', {v})",
    "week": "(date({v}, '-6 days', 'weekday 1') || ' 00:00:00')",
    "day": "strftime('%%Y-%%m-%%d 00:00:00', {v})",
    "hour": "strftime('%%Y-%%m-%%d %%H:00:00', {v})",
    "minute": "strftime('%%Y-%%m-%%d %%H:%%M:00', {v})",
    "second": "strftime('%%Y-%%m-%%d %%H:%%M:%%S', {v})",
}
_TIME_TRUNC = {
    "hour": "strftime('%%H:00:00', {v})",
    "minute": "strftime('%%H:%%M:00', {v})",
    "second": "strftime('%%H:%%M:%%S', {v})",
}


def _pick(table: dict[str, str], lookup_type: str) -> str:
    try:
        return table[lookup_type.lower()]
    except KeyError:
        raise OperationalError(f"Invalid lookup type: {lookup_type!r}") from None


def date_trunc(lookup_type: str, value: SqlParams) -> SqlParams:
    return let(_pick(_DATE_TRUNC, lookup_type), v=value)


def datetime_trunc(lookup_type: str, value: SqlParams) -> SqlParams:
    return let(_pick(_DATETIME_TRUNC, lookup_type), v=value)


def time_trunc(lookup_type: str, value: SqlParams) -> SqlParams:
    return let(_pick(_TIME_TRUNC, lookup_type), v=value)


def cast_date(value: SqlParams) -> SqlParams:
    return let("date({v})", v=value)


def cast_time(value: SqlParams) -> SqlParams:
    """``datetime.time.isoformat()``: microseconds only when non-zero."""
    return let(
        "(strftime('%%H:%%M:%%S', {v}) || CASE WHEN substr({v}, 20, 1) = '.' AND "
        "CAST(substr({v}, 21) AS INTEGER) != 0 THEN '.' || substr(substr({v}, 21) || "
        "'000000', 1, 6) ELSE '' END)",
        v=value,
    )


# --- durations (integer microseconds) ---------------------------------------------------------

_EPOCH_US = (
    "(CAST(strftime('%%s', {v}) AS INTEGER) * 1000000 + CASE WHEN substr({v}, 20, 1) = '.' "
    "THEN CAST(substr(substr({v}, 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END)"
)
_TIME_US = (
    "((CAST(substr({v}, 1, 2) AS INTEGER) * 3600 + CAST(substr({v}, 4, 2) AS INTEGER) * 60 "
    "+ CAST(substr({v}, 7, 2) AS INTEGER)) * 1000000 + CASE WHEN substr({v}, 9, 1) = '.' "
    "THEN CAST(substr(substr({v}, 10) || '000000', 1, 6) AS INTEGER) ELSE 0 END)"
)


def timestamp_diff(lhs: SqlParams, rhs: SqlParams) -> SqlParams:
    """Microseconds between two dates/datetimes (``django_timestamp_diff``)."""
    left = let(_EPOCH_US, v=lhs)
    right = let(_EPOCH_US, v=rhs)
    return f"({left[0]} - {right[0]})", (*left[1], *right[1])


def time_diff(lhs: SqlParams, rhs: SqlParams) -> SqlParams:
    """Microseconds between two times (``django_time_diff``)."""
    left = let(_TIME_US, v=lhs)
    right = let(_TIME_US, v=rhs)
    return f"({left[0]} - {right[0]})", (*left[1], *right[1])


def _from_epoch_us(total: str) -> str:
    """Format integer epoch microseconds like ``str(datetime)`` (floor for negative values)."""
    return (
        f"(datetime(({total} - ((({total}) %% 1000000) + 1000000) %% 1000000) / 1000000, "
        f"'unixepoch') || CASE WHEN ((({total}) %% 1000000) + 1000000) %% 1000000 = 0 THEN '' "
        f"ELSE '.' || printf('%%06d', ((({total}) %% 1000000) + 1000000) %% 1000000) END)"
    )


def temporal_add(kind: str, temporal: SqlParams, duration: SqlParams, sign: str) -> SqlParams:
    """``temporal + duration`` (or ``-``) where duration is integer microseconds.

    ``kind`` is the temporal's internal type: DateField results stay dates (``date +
    timedelta`` ignores the time part, like Python), TimeField results wrap around midnight.
    """
    dur = "{d}" if sign == "+" else "(-{d})"
    if kind == "TimeField":
        x = let(
            f"((({_TIME_US} + {dur}) %% 86400000000) + 86400000000) %% 86400000000",
            v=temporal,
            d=duration,
        )
        return let(
            "(time({x} / 1000000, 'unixepoch') || CASE WHEN {x} %% 1000000 = 0 THEN '' "
            "ELSE '.' || printf('%%06d', {x} %% 1000000) END)",
            x=x,
        )
    if kind == "DateField":
        # Python's date +/- timedelta uses only timedelta.days (floor of the duration).
        days = "(({d} - ((({d}) %% 86400000000) + 86400000000) %% 86400000000) / 86400000000)"
        op = "+" if sign == "+" else "-"
        return let(
            "date({t}, CASE WHEN {d} IS NULL THEN NULL ELSE (" + op + days + ") || ' days' END)",
            t=temporal,
            d=duration,
        )
    # One correlated subquery at most (nested temporal arithmetic must stay within SQLite's
    # parser depth): the seconds go through a strftime() modifier, the microseconds are
    # carried by hand.
    micro = (
        "(CASE WHEN substr({t}, 20, 1) = '.' THEN CAST(substr(substr({t}, 21) || '000000', "
        f"1, 6) AS INTEGER) ELSE 0 END + {dur})"
    )
    mod = f"((({micro} %% 1000000) + 1000000) %% 1000000)"
    seconds = f"(({micro} - {mod}) / 1000000)"
    return let(
        f"(strftime('%%Y-%%m-%%d %%H:%%M:%%S', {{t}}, {seconds} || ' seconds') || "
        f"CASE WHEN {mod} = 0 THEN '' ELSE '.' || printf('%%06d', {mod}) END)",
        t=temporal,
        d=duration,
    )


# --- text and math ------------------------------------------------------------------------------


def repeat(text: SqlParams, count: SqlParams) -> SqlParams:
    return let(
        "CASE WHEN {s} IS NULL OR {n} IS NULL THEN NULL ELSE "
        "replace(hex(zeroblob(max({n}, 0))), '00', {s}) END",
        s=text,
        n=count,
    )


def pad(text: SqlParams, length: SqlParams, fill: SqlParams, left: bool) -> SqlParams:
    """LPAD/RPAD with Django's semantics (truncate to ``length``; fill repeated)."""
    filler = "substr(replace(hex(zeroblob(max({n}, 0))), '00', {f}), 1, {n} - length({s}))"
    body = f"{filler} || {{s}}" if left else f"{{s}} || {filler}"
    return let(
        "CASE WHEN {s} IS NULL OR {n} IS NULL OR {f} IS NULL THEN NULL "
        "WHEN length({s}) >= {n} THEN substr({s}, 1, {n}) ELSE " + body + " END",
        s=text,
        n=length,
        f=fill,
    )


def reverse(text: SqlParams) -> SqlParams:
    """REVERSE() through a recursive CTE (SQLite has no built-in)."""
    sql, params = text
    return (
        "(WITH RECURSIVE __r(i, o, s) AS (SELECT length(__s), '', __s FROM (SELECT "
        f"{sql} AS __s) UNION ALL SELECT i - 1, o || substr(s, i, 1), s FROM __r "
        "WHERE i > 0) SELECT o FROM __r WHERE i = 0)",
        tuple(params),
    )


# --- aggregates ---------------------------------------------------------------------------------

#: One bit of a BIT_AND/BIT_OR/BIT_XOR aggregate with SQLite's own aggregates: the bit is set in
#: every row (MIN), in any row (MAX), or in an odd number of rows (SUM & 1).
_BIT_TERMS = {
    "BIT_AND": "MIN(({x} >> {b}) & 1)",
    "BIT_OR": "MAX(({x} >> {b}) & 1)",
    "BIT_XOR": "(SUM(({x} >> {b}) & 1) & 1)",
}


def bit_aggregate(function: str, value: SqlParams) -> SqlParams:
    """BIT_AND/BIT_OR/BIT_XOR over 64-bit integers, one bit at a time (Django's sqlite3 backend
    registers Python aggregates for these). NULLs are ignored; no rows give NULL. ``|`` puts
    the bits together without overflow (bit 63 is the sign, as in SQLite's integers)."""
    sql, params = value
    term = _BIT_TERMS[function]
    parts = [f"({term.format(x=sql, b=b)} << {b})" for b in range(64)]
    return "(" + " | ".join(parts) + ")", tuple(params) * 64
