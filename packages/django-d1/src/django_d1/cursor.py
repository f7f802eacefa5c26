"""A cursor that keeps statements inside D1's limits instead of failing on them.

D1 allows at most 100 bound parameters and 100,000 bytes per statement. Integers are always
inlined as literals (INTEGER semantics, no parameter slot). A statement that still has more than
100 bound parameters has its other values inlined as safely quoted SQLite literals (same types:
TEXT, REAL, BLOB, NULL). A multi-row ``INSERT ... VALUES`` that is still longer than 100,000
bytes is split into several INSERTs sent as **one** atomic batch request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django_backend_core import dbapi
from django_backend_core.cursor import Cursor
from django_backend_core.params import scan, translate
from django_backend_core.transport import Result, Statement

MAX_PARAMS = 100
MAX_STATEMENT_BYTES = 100_000


def inline_int(value: Any) -> str | None:
    """Integers (not bools, which are adapted to ints first) become literals."""
    if type(value) is int:
        return str(value)
    return None


def inline_any(value: Any) -> str | None:
    """A SQLite literal of the same type as the bound value would have, or None."""
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise dbapi.DataError(f"D1 cannot store the float {value!r}.")
        text = repr(value)
        return text if ("." in text or "e" in text or "n" in text) else text + ".0"
    if isinstance(value, str):
        if "\x00" in value:
            return None  # not expressible as a literal; keep it bound
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list):  # an adapted BLOB
        return "X'" + bytes(value).hex() + "'"
    return None


def fit_statement(sql: str, adapted: Any, *, strict: bool = False) -> Statement | None:
    """``sql`` (Django ``%s`` style) with adapted params as a statement within D1's limits.

    Integers are inlined; past 100 bound parameters every other value is inlined too.
    Returns None if the statement is longer than 100,000 bytes, or (unless ``strict``, which
    raises OperationalError then) if it still needs more than 100 bound parameters.
    """
    text, args = translate(sql, adapted, "qmark", inline_int)
    if len(args) > MAX_PARAMS:
        text, args = translate(sql, adapted, "qmark", inline_any)
        if len(args) > MAX_PARAMS:
            if not strict:
                return None
            raise dbapi.OperationalError(
                f"The statement needs {len(args)} bound parameters; D1 allows {MAX_PARAMS}."
            )
    if len(text) > MAX_STATEMENT_BYTES or len(text.encode()) > MAX_STATEMENT_BYTES:
        return None
    return Statement(text, args)


class D1Cursor(Cursor):
    def execute(self, sql: str, params: Any = None) -> D1Cursor:
        self._check_open()
        self._reset()
        if params is None:
            stmt = Statement(sql, [])
        else:
            stmt = self._fit(sql, params)
            if stmt is None:
                return self._execute_split(sql, params)
        self._load(self.connection.transport.execute(stmt))
        return self

    # -- limits ----------------------------------------------------------------------------
    def _adapt(self, params: Any) -> Any:
        adapt = self.connection.adapt_param
        if adapt is None:
            return params
        if isinstance(params, Mapping):
            return {k: adapt(v) for k, v in params.items()}
        return [adapt(v) for v in params]

    def _fit(self, sql: str, params: Any) -> Statement | None:
        """The statement within D1's limits, or None if only splitting can make it fit."""
        return fit_statement(sql, self._adapt(params), strict=True)

    def _execute_split(self, sql: str, params: Any) -> D1Cursor:
        parts = split_insert(sql)
        if parts is None or isinstance(params, Mapping):
            raise dbapi.DataError(
                f"The statement is longer than D1's limit of {MAX_STATEMENT_BYTES} bytes; "
                "split the work into smaller statements."
            )
        head, rows, tail = parts
        adapted = self._adapt(params)
        stmts: list[Statement] = []
        pos = 0
        chunk_sql: list[str] = []
        chunk_params: list[Any] = []
        size = len(head) + len(tail)
        bound = 0
        for row_sql, n in rows:
            row_params = list(adapted[pos : pos + n])
            pos += n
            row_text, row_args = translate(row_sql, row_params, "qmark", inline_any)
            row_len = len(row_text.encode()) + 2
            if chunk_sql and (
                size + row_len > MAX_STATEMENT_BYTES or bound + len(row_args) > MAX_PARAMS
            ):
                stmts.append(_stmt(head, chunk_sql, tail, chunk_params))
                chunk_sql, chunk_params, size, bound = [], [], len(head) + len(tail), 0
            chunk_sql.append(row_text)
            chunk_params.extend(row_args)
            size += row_len
            bound += len(row_args)
        if pos != len(adapted):
            raise dbapi.ProgrammingError("Incorrect number of bindings supplied.")
        if chunk_sql:
            stmts.append(_stmt(head, chunk_sql, tail, chunk_params))
        for s in stmts:
            if len(s.sql.encode()) > MAX_STATEMENT_BYTES:
                raise dbapi.DataError(
                    f"One row is longer than D1's limit of {MAX_STATEMENT_BYTES} bytes per "
                    "statement."
                )
        results = self.connection.transport.batch(stmts)
        rows_out: list[tuple[Any, ...]] = []
        for r in results:
            rows_out.extend(r.rows)
        counts = [r.rowcount for r in results]
        lastrowid = next((r.lastrowid for r in reversed(results) if r.lastrowid), None)
        self._load(
            Result(
                columns=results[-1].columns if results else [],
                rows=rows_out,
                rowcount=-1 if any(c < 0 for c in counts) else sum(counts),
                lastrowid=lastrowid,
                payload=[r.payload for r in results],
            )
        )
        return self


def _stmt(head: str, rows: list[str], tail: str, params: list[Any]) -> Statement:
    return Statement(head + ", ".join(rows) + tail, params)


def split_insert(sql: str) -> tuple[str, list[tuple[str, int]], str] | None:
    """Split ``INSERT ... VALUES (..), (..) [suffix]`` (Django ``%s`` style).

    Returns ``(head_through_VALUES, [(row_sql, placeholder_count)], tail)``, or None if the
    statement is not a multi-row INSERT.
    """
    pieces = list(scan(sql, "sqlite"))
    code_upper = sql.lstrip().upper()
    if not code_upper.startswith(("INSERT", "REPLACE")):
        return None
    # Locate the top-level VALUES keyword in code pieces.
    offset = 0
    values_at = None
    for kind, text in pieces:
        if kind == "code":
            idx = text.upper().find(" VALUES ")
            if idx >= 0:
                values_at = offset + idx + len(" VALUES ")
                break
        offset += len(text)
    if values_at is None:
        return None
    head = sql[:values_at]
    rows: list[tuple[str, int]] = []
    i = values_at
    n = len(sql)
    while i < n:
        end_of_rows = i
        while i < n and sql[i] in " ,\n\t":
            i += 1
        if i >= n or sql[i] != "(":
            i = end_of_rows
            break
        depth, j, count = 0, i, 0
        while j < n:
            c = sql[j]
            if c == "'":
                k = j + 1
                while k < n:
                    if sql[k] == "'" and (k + 1 >= n or sql[k + 1] != "'"):
                        break
                    k += 2 if sql[k] == "'" else 1
                j = k + 1
                continue
            if c == "%" and j + 1 < n:
                if sql[j + 1] == "s":
                    count += 1
                j += 2
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        rows.append((sql[i : j + 1], count))
        i = j + 1
    if len(rows) < 2:
        return None
    return head, rows, sql[i:]
