"""Compilers: BLOB columns are selected as ``hex(...)``.

workers-dbms returns rows through ``JSON.stringify``, which prints an ArrayBuffer (a BLOB) as
``{}``: the bytes would be lost. The outermost SELECT list therefore wraps every BinaryField
value in ``hex()``; ``DatabaseOperations.get_db_converters`` turns the text back into bytes.
"""

from __future__ import annotations

from typing import Any

from django_backend_core.remote_sqlite import compiler as remote
from django_backend_core.remote_sqlite.compiler import *  # noqa: F403
from django_backend_core.remote_sqlite.compiler import _internal_type


class DBMSCompilerMixin:
    """BLOBs travel as ``'x' || hex(...)`` (NULL kept, ``b''`` distinguishable; the prefix and
    upper-case hex keep byte order, so ORDER BY by position still sorts the same).

    Integers are NOT cast to text here: Django orders and groups by select-list position, and
    text would sort differently. Integer RETURNING columns are cast, and reads of integers
    beyond 2**53 - 1 refused (the core's ``remote_sqlite/integers.py``)."""

    def get_select(self, *args: Any, **kwargs: Any):
        select, klass_info, annotation_col_map = super().get_select(*args, **kwargs)  # type: ignore[misc]
        query = self.query  # type: ignore[attr-defined]
        if not remote.is_outermost(query):
            return select, klass_info, annotation_col_map
        wrapped = []
        for col, (sql, params), alias in select:
            if _internal_type(col) == "BinaryField":
                # hex(NULL) is '': test for NULL, and prefix so b'' stays distinguishable.
                sql = f"CASE WHEN ({sql}) IS NULL THEN NULL ELSE 'x' || hex({sql}) END"
                params = (*params, *params)
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
