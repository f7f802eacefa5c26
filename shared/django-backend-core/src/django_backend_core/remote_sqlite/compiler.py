"""SQL compilers that emit plain SQLite for expressions the stock backend sends to Python.

Django's sqlite3 backend registers Python functions (LPAD, REPEAT, REVERSE, POWER, COT, RAND,
STDDEV_*, VAR_*, UUIDV4, django_format_dtdelta, ...) on each connection. A remote server has
none of them, so :meth:`RemoteSQLiteCompilerMixin.compile` routes those nodes to builders that
write core-SQLite SQL instead (see :mod:`.sql`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import FullResultSet
from django.db import DatabaseError, NotSupportedError
from django.db.models import aggregates, expressions, functions
from django.db.models.expressions import Col, Combinable, DurationExpression, SQLiteNumericMixin
from django.db.models.sql import compiler

from . import sql as S
from .integers import as_text_sql, convert_exact_integer, int_text, integer_kind

#: Composite primary keys' column pairs (Django >= 5.2).
ColPairs = getattr(expressions, "ColPairs", None)

Handler = Callable[[Any, Any, Any], S.SqlParams]
HANDLERS: dict[type, Handler] = {}


def handles(*classes: type | None) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for cls in classes:
            if cls is not None:
                HANDLERS[cls] = fn
        return fn

    return register


def _args(node: Any, comp: Any) -> list[S.SqlParams]:
    out = []
    for expr in node.get_source_expressions():
        sql, params = comp.compile(expr)
        out.append((sql, tuple(params)))
    return out


@handles(functions.LPad, functions.RPad)
def _pad(node, comp, conn):
    text, length, fill = _args(node, comp)
    return S.pad(text, length, fill, left=not isinstance(node, functions.RPad))


@handles(functions.Repeat)
def _repeat(node, comp, conn):
    text, count = _args(node, comp)
    return S.repeat(text, count)


@handles(functions.Reverse)
def _reverse(node, comp, conn):
    (text,) = _args(node, comp)
    return S.reverse(text)


@handles(functions.Power)
def _power(node, comp, conn):
    (a, ap), (b, bp) = _args(node, comp)
    return f"pow({a}, {b})", (*ap, *bp)


@handles(functions.Ceil)
def _ceil(node, comp, conn):
    ((a, ap),) = _args(node, comp)
    return f"ceil({a})", ap


@handles(functions.Cot)
def _cot(node, comp, conn):
    ((a, ap),) = _args(node, comp)
    return f"(1.0 / tan({a}))", ap


@handles(functions.Random)
def _random(node, comp, conn):
    # random() is a 64-bit integer; keep 53 bits for a float in [0, 1).
    return "(((random() >> 11) + 4503599627370496) / 9007199254740992.0)", ()


@handles(getattr(functions, "UUID4", None))
def _uuid4(node, comp, conn):
    # 32 hex digits (Django stores UUIDs as char(32) on SQLite) with version 4 and variant bits.
    return (
        "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2) || "
        "substr('89ab', (random() & 3) + 1, 1) || substr(hex(randomblob(2)), 2) || "
        "hex(randomblob(6)))",
        (),
    )


@handles(aggregates.StdDev, aggregates.Variance)
def _variance(node, comp, conn):
    conn.ops.check_expression_support(node)
    x_sql, x_params = _aggregated_value(node, comp)
    x = f"(({x_sql}) * 1.0)"
    sample = node.function.endswith("_SAMP")
    denominator = "NULLIF(COUNT({x}) - 1, 0)" if sample else "COUNT({x})"
    var = f"max(0.0, (SUM({{x}} * {{x}}) - SUM({{x}}) * SUM({{x}}) / COUNT({{x}})) / {denominator})"
    template = f"sqrt({var})" if node.function.startswith("STDDEV") else var
    parts = template.split("{x}")
    return x.join(parts), x_params * (len(parts) - 1)


def _aggregated_value(node: Any, comp: Any) -> S.SqlParams:
    """The aggregate's argument, with its FILTER folded in as CASE WHEN (NULLs are skipped)."""
    (source,) = node.get_source_expressions()[:1]
    x_sql, x_params = comp.compile(source)
    x_params = tuple(x_params)
    if node.filter is not None:
        # Django >= 6.0 wraps the condition in AggregateFilter (" FILTER (WHERE ...)").
        condition = getattr(node.filter, "condition", node.filter)
        try:
            f_sql, f_params = comp.compile(condition)
        except FullResultSet:  # filter=Q(): every row
            return x_sql, x_params
        x_sql = f"CASE WHEN {f_sql} THEN {x_sql} ELSE NULL END"
        x_params = (*f_params, *x_params)
    return x_sql, x_params


@handles(
    getattr(aggregates, "BitAnd", None),
    getattr(aggregates, "BitOr", None),
    getattr(aggregates, "BitXor", None),
)
def _bit_aggregate(node, comp, conn):
    # Django >= 6.0: the stock backend registers Python aggregates for BIT_AND/OR/XOR.
    conn.ops.check_expression_support(node)
    return S.bit_aggregate(node.function, _aggregated_value(node, comp))


@handles(getattr(aggregates, "StringAgg", None))
def _string_agg(node, comp, conn):
    # Django >= 6.0 writes STRING_AGG (SQLite >= 3.44); GROUP_CONCAT(x, sep) is the same
    # aggregate on every SQLite (ORDER BY inside it still needs 3.44).
    if node.distinct:
        return node.as_sqlite(comp, conn)  # Django's one-argument GROUP_CONCAT(DISTINCT x)
    return node.as_sql(comp, conn, function="GROUP_CONCAT")


@handles(getattr(aggregates, "AnyValue", None))
def _any_value(node, comp, conn):
    # Any row's value is a correct ANY_VALUE(); SQLite's bare MIN() is one.
    return node.as_sql(comp, conn, function="MIN")


@handles(DurationExpression)
def _duration(node, comp, conn):
    conn.ops.check_expression_support(node)
    if node.connector in {Combinable.MUL, Combinable.DIV}:
        try:
            types = {node.lhs.output_field.get_internal_type()} | {
                node.rhs.output_field.get_internal_type()
            }
        except Exception:  # noqa: BLE001 - unresolved output fields: let SQLite decide
            types = set()
        allowed = {"DecimalField", "DurationField", "FloatField", "IntegerField"}
        if types - allowed:
            raise DatabaseError(f"Invalid arguments for operator {node.connector}.")
    lhs = node.compile(node.lhs, comp, conn)
    rhs = node.compile(node.rhs, comp, conn)
    lhs = (lhs[0], tuple(lhs[1]))
    rhs = (rhs[0], tuple(rhs[1]))
    if node.connector == Combinable.MUL:
        return f"({lhs[0]} * {rhs[0]})", (*lhs[1], *rhs[1])
    if node.connector == Combinable.DIV:
        return f"(CAST({lhs[0]} AS REAL) / {rhs[0]})", (*lhs[1], *rhs[1])
    if node.connector not in {Combinable.ADD, Combinable.SUB}:
        raise DatabaseError(f"Invalid connector for timedelta: {node.connector}.")
    lt = _internal_type(node.lhs)
    rt = _internal_type(node.rhs)
    if lt == "DateTimeField" and rt == "DurationField":
        # ((t + d1) - d2) + d3 == t + (d1 - d2 + d3) exactly for datetimes: one expression
        # instead of nested ones (SQLite's parser depth is limited).
        base, terms = _datetime_chain(node)
        sql_parts, params = [], []
        for connector, duration in terms:
            d_sql, d_params = node.compile(duration, comp, conn)
            sql_parts.append(f"{connector} ({d_sql})")
            params.extend(d_params)
        b_sql, b_params = comp.compile(base)
        total = ("(0 " + " ".join(sql_parts) + ")", tuple(params))
        return S.temporal_add("DateTimeField", (b_sql, tuple(b_params)), total, "+")
    if lt == "DurationField" and rt == "DurationField":
        return f"({lhs[0]} {node.connector} {rhs[0]})", (*lhs[1], *rhs[1])
    if lt == "DurationField":
        if node.connector == Combinable.SUB:
            return "NULL", ()  # timedelta - datetime is a TypeError -> NULL in the stock backend
        return S.temporal_add(rt or "DateTimeField", rhs, lhs, "+")
    return S.temporal_add(lt or "DateTimeField", lhs, rhs, node.connector)


def _datetime_chain(node: Any) -> tuple[Any, list[tuple[str, Any]]]:
    """Unwind ``((t ± d1) ± d2) ...`` on a DateTimeField into ``t`` and its signed durations."""
    terms = []
    while (
        isinstance(node, DurationExpression)
        and node.connector in (Combinable.ADD, Combinable.SUB)
        and _internal_type(node.lhs) == "DateTimeField"
        and _internal_type(node.rhs) == "DurationField"
    ):
        terms.append((node.connector, node.rhs))
        node = node.lhs
    return node, terms[::-1]


def _internal_type(expr: Any) -> str | None:
    try:
        return expr.output_field.get_internal_type()
    except Exception:  # noqa: BLE001
        return None


class RemoteSQLiteCompilerMixin:
    connection: Any

    def compile(self, node):
        for cls in type(node).__mro__:
            handler = HANDLERS.get(cls)
            if handler is not None:
                sql, params = handler(node, self, self.connection)
                if isinstance(node, SQLiteNumericMixin) and _internal_type(node) == "DecimalField":
                    # What SQLiteNumericMixin.as_sqlite() does for the stock functions.
                    sql = f"CAST({sql} AS NUMERIC)"
                return sql, params
        return super().compile(node)  # type: ignore[misc]


def _read_as_text(converters: dict[int, Any], expressions: Any, is_text: Any) -> dict[int, Any]:
    """For the row positions whose values were sent as text (:func:`as_text_sql`): convert the
    text back to numbers first, and drop the rounding check (text is exact)."""
    i = 0
    for expression in expressions:
        if ColPairs is not None and isinstance(expression, ColPairs):
            i += len(expression)  # its columns went through get_converters() recursively
            continue
        if expression and is_text(expression):
            convs, expr = converters.get(i, ([], expression))
            kept = [c for c in convs if c is not convert_exact_integer]
            converters[i] = ([int_text, *kept], expr)
        i += 1
    return converters


class ReturningIntegersMixin:
    """RETURNING sends integer columns as text (``operations._returning``). Only these
    compilers read RETURNING."""

    def get_converters(self, expressions: Any) -> dict[int, Any]:
        converters = super().get_converters(expressions)  # type: ignore[misc]
        return _read_as_text(
            converters, expressions, lambda e: integer_kind(getattr(e, "output_field", None))
        )


def is_outermost(query: Any) -> bool:
    """Whether a query's SELECT list is what the client receives (not a subquery's, not a
    part of a UNION whose columns the outer query reads by position)."""
    return not (
        getattr(query, "subquery", False)
        or query.combinator
        or getattr(query, "_remote_combined_part", False)
    )


class ExactIntegersMixin:
    """The outermost SELECT reads integer columns as text (``CAST(col AS TEXT)``).

    Replies are JSON built by JavaScript, whose numbers round integers beyond 2**53 - 1; text
    keeps all 64 bits, and :func:`int_text` turns it back into a number. Only plain columns
    are cast (other integer expressions keep the refusal of ``convert_exact_integer``), and
    ORDER BY never refers to a cast column by position, so sorting stays numeric (GROUP BY
    and DISTINCT group integers' text exactly as the integers). Subqueries, UNION parts and
    window filters (``SELECT * FROM (...) qualify``) are not cast."""

    _text_columns: dict[int, Any]

    def get_select(self, *args: Any, **kwargs: Any):
        select, klass_info, annotation_col_map = super().get_select(*args, **kwargs)  # type: ignore[misc]
        self._text_columns = {}
        if getattr(self, "_in_qualify", False) or not is_outermost(self.query):  # type: ignore[attr-defined]
            return select, klass_info, annotation_col_map
        out = []
        for col, (sql, params), alias in select:
            if type(col) is Col and (kind := integer_kind(col.output_field)):
                sql = as_text_sql(kind, sql)
                self._text_columns[id(col)] = col
            out.append((col, (sql, params), alias))
        return out, klass_info, annotation_col_map

    def _order_by_pairs(self):
        text = getattr(self, "_text_columns", None)
        for expr, is_ref in super()._order_by_pairs():  # type: ignore[misc]
            ref = getattr(expr, "expression", None)
            if text and isinstance(ref, compiler.PositionRef) and id(ref.source) in text:
                expr = expr.copy()
                expr.expression = ref.source  # the column itself, not its text
                is_ref = False
            yield expr, is_ref

    def get_converters(self, expressions: Any) -> dict[int, Any]:
        converters = super().get_converters(expressions)  # type: ignore[misc]
        text = getattr(self, "_text_columns", None)
        if not text:
            return converters
        return _read_as_text(converters, expressions, lambda e: text.get(id(e)) is e)

    def get_qualify_sql(self):
        """Window filters select ``* FROM (inner subquery)``: nothing is cast there, so the
        values keep the rounding check."""
        self._in_qualify = True
        try:
            return super().get_qualify_sql()  # type: ignore[misc]
        finally:
            self._in_qualify = False
            self._text_columns = {}

    def get_combinator_sql(self, combinator, all):
        parts = self.query.combined_queries  # type: ignore[attr-defined]
        for part in parts:
            part._remote_combined_part = True
        try:
            return super().get_combinator_sql(combinator, all)  # type: ignore[misc]
        finally:
            for part in parts:
                part.__dict__.pop("_remote_combined_part", None)


class SQLCompiler(ExactIntegersMixin, RemoteSQLiteCompilerMixin, compiler.SQLCompiler):
    pass


class SQLInsertCompiler(
    ReturningIntegersMixin, RemoteSQLiteCompilerMixin, compiler.SQLInsertCompiler
):
    pass


class SQLDeleteCompiler(RemoteSQLiteCompilerMixin, compiler.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(
    ReturningIntegersMixin, RemoteSQLiteCompilerMixin, compiler.SQLUpdateCompiler
):
    pass


class SQLAggregateCompiler(RemoteSQLiteCompilerMixin, compiler.SQLAggregateCompiler):
    pass


__all__ = [
    "HANDLERS",
    "NotSupportedError",
    "ExactIntegersMixin",
    "ReturningIntegersMixin",
    "SQLAggregateCompiler",
    "SQLCompiler",
    "SQLDeleteCompiler",
    "SQLInsertCompiler",
    "SQLUpdateCompiler",
    "handles",
]
