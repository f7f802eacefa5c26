"""Compilers: BLOB columns are selected as ``hex(...)``.

workers-dbms returns rows through ``JSON.stringify``, which prints an ArrayBuffer (a BLOB) as
``{}``: the bytes would be lost. The outermost SELECT list therefore wraps every BinaryField
value in ``hex()``; ``DatabaseOperations.get_db_converters`` turns the text back into bytes.
"""

from __future__ import annotations

from typing import Any

from django_backend_core.remote_sqlite import compiler as remote
from django_backend_core.remote_sqlite.compiler import *  # noqa: F403

BIG_INTEGERS = frozenset({"BigIntegerField", "PositiveBigIntegerField", "BigAutoField"})


def _internal_type(expr: Any) -> str | None:
    try:
        return expr.output_field.get_internal_type()
    except Exception:  # noqa: BLE001 - mixed types etc.: leave the value as it comes
        return None


class DBMSCompilerMixin:
    """Values JSON would corrupt travel as text: BLOBs as ``'x' || hex(...)`` (NULL kept,
    ``b''`` distinguishable) and 64-bit integers as ``CAST(... AS TEXT)``
    (a JavaScript number is a double: 2**63-1 would come back rounded)."""

    def get_select(self, *args: Any, **kwargs: Any):
        select, klass_info, annotation_col_map = super().get_select(*args, **kwargs)  # type: ignore[misc]
        if getattr(self.query, "subquery", False):  # type: ignore[attr-defined]
            return select, klass_info, annotation_col_map
        wrapped = []
        for col, (sql, params), alias in select:
            kind = _internal_type(col)
            if kind == "BinaryField":
                # hex(NULL) is '': test for NULL, and prefix so b'' stays distinguishable.
                sql = f"CASE WHEN ({sql}) IS NULL THEN NULL ELSE 'x' || hex({sql}) END"
                params = (*params, *params)
            elif kind in BIG_INTEGERS:
                sql = f"CAST({sql} AS TEXT)"
            wrapped.append((col, (sql, params), alias))
        return wrapped, klass_info, annotation_col_map


class SQLCompiler(DBMSCompilerMixin, remote.SQLCompiler):
    pass


class SQLInsertCompiler(remote.SQLInsertCompiler):
    pass


class SQLDeleteCompiler(remote.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(remote.SQLUpdateCompiler):
    pass


class SQLAggregateCompiler(remote.SQLAggregateCompiler):
    pass
