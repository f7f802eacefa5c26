"""Compilers: BLOB columns are selected as ``hex(...)``.

workers-dbms returns rows through ``JSON.stringify``, which prints an ArrayBuffer (a BLOB) as
``{}``: the bytes would be lost. The outermost SELECT list therefore wraps every BinaryField
value in ``hex()``; ``DatabaseOperations.get_db_converters`` turns the text back into bytes.
"""

from __future__ import annotations

from typing import Any

from django_backend_core.remote_sqlite import compiler as remote
from django_backend_core.remote_sqlite.compiler import *  # noqa: F403


def _is_binary(expr: Any) -> bool:
    try:
        return expr.output_field.get_internal_type() == "BinaryField"
    except Exception:  # noqa: BLE001 - mixed types etc.: not a plain BLOB column
        return False


class DBMSCompilerMixin:
    def get_select(self, *args: Any, **kwargs: Any):
        select, klass_info, annotation_col_map = super().get_select(*args, **kwargs)  # type: ignore[misc]
        if getattr(self.query, "subquery", False):  # type: ignore[attr-defined]
            return select, klass_info, annotation_col_map
        wrapped = [
            (col, (f"hex({sql})", params) if _is_binary(col) else (sql, params), alias)
            for col, (sql, params), alias in select
        ]
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
