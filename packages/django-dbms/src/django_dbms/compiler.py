"""Compilers: BLOB columns are selected as ``hex(...)``.

workers-dbms returns rows through ``JSON.stringify``, which prints an ArrayBuffer (a BLOB) as
``{}``: the bytes would be lost. The outermost SELECT list therefore wraps every BinaryField
value in ``hex()``; ``DatabaseOperations.get_db_converters`` turns the text back into bytes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import expressions
from django_backend_core.remote_sqlite import compiler as remote
from django_backend_core.remote_sqlite.compiler import *  # noqa: F403

#: Composite primary keys' column pairs (Django >= 5.2).
ColPairs = getattr(expressions, "ColPairs", None)

#: Integer columns: sqlite3 stores 64-bit values in any of them, a JS double does not.
BIG_INTEGERS = frozenset(
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


def integer_kind(field: Any) -> str | None:
    """The field's integer internal type (following foreign keys), or None."""
    try:
        kind = field.get_internal_type()
        if kind in ("ForeignKey", "OneToOneField"):
            kind = field.target_field.get_internal_type()
    except Exception:  # noqa: BLE001 - not a plain field
        return None
    return kind if kind in BIG_INTEGERS else None


def _internal_type(expr: Any) -> str | None:
    try:
        return expr.output_field.get_internal_type()
    except Exception:  # noqa: BLE001 - mixed types etc.: leave the value as it comes
        return None


class DBMSCompilerMixin:
    """BLOBs travel as ``'x' || hex(...)`` (NULL kept, ``b''`` distinguishable; the prefix and
    upper-case hex keep byte order, so ORDER BY by position still sorts the same).

    Integers are NOT cast to text here: Django orders and groups by select-list position, and
    text would sort differently. Integer RETURNING columns are cast (operations.py)."""

    def get_select(self, *args: Any, **kwargs: Any):
        select, klass_info, annotation_col_map = super().get_select(*args, **kwargs)  # type: ignore[misc]
        query = self.query  # type: ignore[attr-defined]
        if getattr(query, "subquery", False) or getattr(query, "_dbms_combined_part", False):
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
    def get_combinator_sql(self, combinator, all):
        parts = self.query.combined_queries
        for part in parts:
            part._dbms_combined_part = True
        try:
            return super().get_combinator_sql(combinator, all)
        finally:
            for part in parts:
                part.__dict__.pop("_dbms_combined_part", None)


class ReturningIntegersMixin:
    """RETURNING sends integer columns as text (``operations._returning``: a JS double would
    round 64-bit values); turn them back into numbers. Only these compilers read RETURNING,
    so SELECTs of integer columns carry no converter at all."""

    def get_converters(self, expressions: Any) -> dict[int, Any]:
        from .operations import _int_text

        converters = super().get_converters(expressions)  # type: ignore[misc]
        i = 0
        for expression in expressions:
            if ColPairs is not None and isinstance(expression, ColPairs):
                i += len(expression)  # its columns went through this method recursively
                continue
            if expression and integer_kind(getattr(expression, "output_field", None)):
                convs, expr = converters.get(i, ([], expression))
                converters[i] = ([_int_text, *convs], expr)
            i += 1
        return converters


class SQLInsertCompiler(ReturningIntegersMixin, remote.SQLInsertCompiler):
    pass


class SQLDeleteCompiler(remote.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(ReturningIntegersMixin, remote.SQLUpdateCompiler):
    pass


class SQLAggregateCompiler(remote.SQLAggregateCompiler):
    pass
