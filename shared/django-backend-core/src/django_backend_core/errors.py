"""Declarative mapping from a store's error to the right PEP 249 exception.

Django decides a lot by exception class (IntegrityError on duplicate keys, OperationalError on
a missing table, ...). Stores report errors as JSON codes, SQLSTATEs, ``SQLITE_*`` names or
plain text; each backend lists :class:`Rule` s and an :class:`ErrorMapper` turns an error into
the exception instance to raise, keeping the store's (redacted) payload on it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import dbapi
from .secrets import Redactor

_SQLITE_NAME = re.compile(r"\bSQLITE_[A-Z_]+\b")

# SQLite primary result codes (the low byte of an extended code), for stores that send numbers.
SQLITE_CODES: dict[int, str] = {
    1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT",
    5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY",
    9: "SQLITE_INTERRUPT", 10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 12: "SQLITE_NOTFOUND",
    13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN", 15: "SQLITE_PROTOCOL", 16: "SQLITE_EMPTY",
    17: "SQLITE_SCHEMA", 18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH",
    21: "SQLITE_MISUSE", 22: "SQLITE_NOLFS", 23: "SQLITE_AUTH", 24: "SQLITE_FORMAT",
    25: "SQLITE_RANGE", 26: "SQLITE_NOTADB",
}  # fmt: skip
# Extended codes Django cares about (constraint kinds).
SQLITE_EXTENDED_CODES: dict[int, str] = {
    275: "SQLITE_CONSTRAINT_CHECK", 531: "SQLITE_CONSTRAINT_COMMITHOOK",
    787: "SQLITE_CONSTRAINT_FOREIGNKEY", 1043: "SQLITE_CONSTRAINT_FUNCTION",
    1299: "SQLITE_CONSTRAINT_NOTNULL", 1555: "SQLITE_CONSTRAINT_PRIMARYKEY",
    1811: "SQLITE_CONSTRAINT_TRIGGER", 2067: "SQLITE_CONSTRAINT_UNIQUE",
    2323: "SQLITE_CONSTRAINT_VTAB", 2579: "SQLITE_CONSTRAINT_ROWID",
    261: "SQLITE_BUSY_RECOVERY", 517: "SQLITE_BUSY_SNAPSHOT", 262: "SQLITE_LOCKED_SHAREDCACHE",
}  # fmt: skip


def sqlite_name(code: int) -> str | None:
    """``SQLITE_*`` name of a primary or extended SQLite result code."""
    return SQLITE_EXTENDED_CODES.get(code) or SQLITE_CODES.get(code & 0xFF)


def _as_set(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str | int) or not isinstance(value, Iterable):
        return frozenset({str(value)})
    return frozenset(str(v) for v in value)


def _norm_sqlite(name: str) -> str:
    name = name.strip().upper()
    return name if name.startswith("SQLITE_") else f"SQLITE_{name}"


@dataclass(frozen=True)
class Rule:
    """``exception`` when every given criterion matches (unset criteria match anything).

    ``code``: the store's error code, or a collection of codes (compared as strings);
    ``sqlstate``: a SQLSTATE prefix ("23" matches "23505") or a collection of prefixes;
    ``sqlite``: an ``SQLITE_*`` name (the prefix is optional); a primary name such as
    ``SQLITE_CONSTRAINT`` also matches its extended names (``SQLITE_CONSTRAINT_UNIQUE``);
    ``message``: case-insensitive regex searched in the message;
    ``status``: an HTTP (or other transport) status, or a collection of them.
    """

    exception: type[dbapi.Error]
    code: Any = field(default=None, kw_only=True)
    sqlstate: str | Collection[str] | None = field(default=None, kw_only=True)
    sqlite: str | Collection[str] | None = field(default=None, kw_only=True)
    message: str | None = field(default=None, kw_only=True)
    status: int | Collection[int] | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not (isinstance(self.exception, type) and issubclass(self.exception, dbapi.Error)):
            raise TypeError(
                f"Rule exception must be a dbapi.Error subclass, not {self.exception!r}"
            )
        if all(
            v is None for v in (self.code, self.sqlstate, self.sqlite, self.message, self.status)
        ):
            raise ValueError("a Rule needs at least one criterion")
        object.__setattr__(self, "_codes", _as_set(self.code))
        states = _as_set(self.sqlstate)
        object.__setattr__(self, "_states", tuple(states) if states else None)
        names = _as_set(self.sqlite)
        object.__setattr__(
            self, "_sqlite", frozenset(_norm_sqlite(n) for n in names) if names else None
        )
        object.__setattr__(
            self, "_regex", re.compile(self.message, re.IGNORECASE) if self.message else None
        )
        object.__setattr__(self, "_statuses", _as_set(self.status))

    def matches(
        self,
        message: str,
        *,
        code: Any = None,
        sqlstate: str | None = None,
        status: int | None = None,
        sqlite_names: Collection[str] = (),
    ) -> bool:
        codes: frozenset[str] | None = self._codes  # type: ignore[attr-defined]
        if codes is not None and (code is None or str(code) not in codes):
            return False
        states: tuple[str, ...] | None = self._states  # type: ignore[attr-defined]
        if states is not None and (
            sqlstate is None or not any(sqlstate.startswith(s) for s in states)
        ):
            return False
        names: frozenset[str] | None = self._sqlite  # type: ignore[attr-defined]
        if names is not None and not any(
            n == want or n.startswith(want + "_") for n in sqlite_names for want in names
        ):
            return False
        regex: re.Pattern[str] | None = self._regex  # type: ignore[attr-defined]
        if regex is not None and not regex.search(message or ""):
            return False
        statuses: frozenset[str] | None = self._statuses  # type: ignore[attr-defined]
        if statuses is not None and (status is None or str(status) not in statuses):
            return False
        return True


class ErrorMapper:
    """Turns a store error into a ``dbapi.Error`` instance (first matching rule wins).

    The message and payload are redacted with ``redactor`` before they reach the exception.
    Use it as ``raise mapper.map(msg, code=..., payload=body) from None`` so the library's
    exception (which may hold URLs or headers) is not chained.
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        default: type[dbapi.Error] = dbapi.DatabaseError,
        redactor: Redactor | None = None,
    ) -> None:
        self.rules = list(rules)
        self.default = default
        self.redactor = redactor if redactor is not None else Redactor()

    def classify(
        self,
        message: str,
        *,
        code: Any = None,
        sqlstate: str | None = None,
        status: int | None = None,
        sqlite: str | int | None = None,
    ) -> type[dbapi.Error]:
        """The exception class for an error (without building it)."""
        names = set(_SQLITE_NAME.findall(message or ""))
        if isinstance(code, str):
            names.update(_SQLITE_NAME.findall(code.upper()))
        if isinstance(sqlite, int):
            found = sqlite_name(sqlite)
            if found:
                names.add(found)
                names.add(SQLITE_CODES.get(sqlite & 0xFF, found))
        elif sqlite:
            names.add(_norm_sqlite(sqlite))
        for rule in self.rules:
            if rule.matches(
                message, code=code, sqlstate=sqlstate, status=status, sqlite_names=names
            ):
                return rule.exception
        return self.default

    def map(
        self,
        message: str,
        *,
        code: Any = None,
        sqlstate: str | None = None,
        status: int | None = None,
        payload: Any = None,
        sqlite: str | int | None = None,
    ) -> dbapi.Error:
        """The exception instance to raise, message and payload redacted."""
        cls = self.classify(message, code=code, sqlstate=sqlstate, status=status, sqlite=sqlite)
        return cls(
            self.redactor.redact(message or ""),
            payload=self.redactor.redact_obj(payload),
            code=code,
            sqlstate=sqlstate,
            status=status,
        )

    def map_exception(
        self, exc: BaseException, *, default: type[dbapi.Error] = dbapi.OperationalError
    ) -> dbapi.Error:
        """Wrap a library exception (network failure, driver error) as a dbapi error of class
        ``default`` unless a message rule says otherwise; the text is redacted."""
        message = f"{type(exc).__name__}: {exc}"
        cls = self.classify(message)
        if cls is self.default:
            cls = default
        return cls(self.redactor.redact(message), payload=None)

    def with_redactor(self, redactor: Redactor) -> ErrorMapper:
        """The same rules with a (per-connection) redactor."""
        return ErrorMapper(self.rules, self.default, redactor)


# --- SQLite ---------------------------------------------------------------------------------
# Shared by every store that speaks SQLite (D1, Durable Objects, jsonlines-git's sqlite3).
# Follows Python's sqlite3 module where Django's tests depend on it (OperationalError for
# missing tables/columns and syntax errors, IntegrityError for constraints, DataError for
# TOOBIG); differs where PEP 249 is clearer: SQLITE_MISMATCH is DataError (sqlite3 says
# IntegrityError), SQLITE_RANGE/MISUSE are ProgrammingError (sqlite3: InterfaceError),
# SQLITE_AUTH is OperationalError ("not authorized" is a property of the store, e.g. D1).

SQLITE_RULES: tuple[Rule, ...] = (
    # Messages first: they are the most specific, and some stores send no SQLITE_* name.
    Rule(
        dbapi.IntegrityError,
        message=r"(UNIQUE|FOREIGN KEY|NOT NULL|CHECK|PRIMARY KEY) constraint failed"
        r"|constraint failed|is not unique|may not be NULL|PRIMARY KEY must be unique",
    ),
    Rule(dbapi.OperationalError, message=r"too many SQL variables|too many terms in"),
    Rule(dbapi.DataError, message=r"string or blob too big|statement too long"),
    Rule(
        dbapi.OperationalError,
        message=r"no such (table|column|index|function|savepoint|view|trigger|module)"
        r"|syntax error|incomplete input|unrecognized token|already exists"
        r"|duplicate column name|has no column named|database is locked|database table is locked"
        r"|readonly database|disk I/O error|interrupted|not authorized|cannot (start|commit|rollback)"
        r"|no transaction is active|within a transaction|ambiguous column name"
        r"|wrong number of arguments|misuse of aggregate|parser stack overflow",
    ),
    Rule(dbapi.DataError, message=r"datatype mismatch|integer overflow"),
    # Then the SQLITE_* names (primary names match their extended forms).
    Rule(dbapi.IntegrityError, sqlite="SQLITE_CONSTRAINT"),
    Rule(dbapi.DataError, sqlite=("SQLITE_TOOBIG", "SQLITE_MISMATCH")),
    Rule(dbapi.ProgrammingError, sqlite=("SQLITE_RANGE", "SQLITE_MISUSE")),
    Rule(dbapi.InternalError, sqlite=("SQLITE_INTERNAL", "SQLITE_NOTFOUND")),
    Rule(dbapi.DatabaseError, sqlite=("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_FORMAT")),
    Rule(
        dbapi.OperationalError,
        sqlite=(
            "SQLITE_ERROR",
            "SQLITE_BUSY",
            "SQLITE_LOCKED",
            "SQLITE_IOERR",
            "SQLITE_AUTH",
            "SQLITE_PERM",
            "SQLITE_ABORT",
            "SQLITE_READONLY",
            "SQLITE_INTERRUPT",
            "SQLITE_FULL",
            "SQLITE_CANTOPEN",
            "SQLITE_PROTOCOL",
            "SQLITE_EMPTY",
            "SQLITE_SCHEMA",
            "SQLITE_NOMEM",
            "SQLITE_NOLFS",
        ),
    ),  # fmt: skip
)
