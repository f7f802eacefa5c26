"""SQL compilers: Django's postgresql compilers, plus the per-queryset cache strategy.

``QuerySet.with_cache()`` stores a :class:`~django_prisma.transport.CacheStrategy` on the
(cloned) ``Query``; the compiler hands it to the connection's transport only for the request
that runs this query, so the strategy never leaks to other querysets or threads.
"""

from __future__ import annotations

from typing import Any

from ._pg import pg

_pgc = pg["compiler"]


class _CacheMixin:
    query: Any
    connection: Any

    def execute_sql(self, *args: Any, **kwargs: Any) -> Any:
        strategy = getattr(self.query, "cache_strategy", None)
        if strategy is None or self.connection.connection is None and not _connect(self):
            return super().execute_sql(*args, **kwargs)  # type: ignore[misc]
        with self.connection.connection.transport.using_cache(strategy):
            return super().execute_sql(*args, **kwargs)  # type: ignore[misc]


def _internal_type(expression: Any) -> str | None:
    try:
        return expression.output_field.get_internal_type()
    except Exception:
        return None


def _readable(expression: Any, sql: str, params: Any) -> tuple[str, Any]:
    kind = _internal_type(expression)
    if kind == "JSONField":
        return f"({sql})::text", params
    if kind == "DurationField":
        return f"({sql})::text", params
    return sql, params


def _connect(compiler: Any) -> bool:
    compiler.connection.ensure_connection()
    return True


class SQLCompiler(_CacheMixin, _pgc.SQLCompiler):
    def get_select(self, *args: Any, **kwargs: Any) -> Any:
        # The executor parses json columns into JavaScript values, so integers beyond 2**53
        # would come back rounded (measured). Top-level selects read JSONField as text
        # instead; JSONField.from_db_value json.loads() it exactly. Subqueries keep jsonb.
        ret, klass_info, annotations = super().get_select(*args, **kwargs)
        # Likewise interval columns cannot be returned at all (UnsupportedNativeDataType):
        # DurationField values are read as interval text and parsed exactly by
        # wire.parse_interval (operations.get_db_converters).
        if not self.query.subquery:
            ret = [(col, _readable(col, sql, params), alias) for col, (sql, params), alias in ret]
        return ret, klass_info, annotations


class SQLInsertCompiler(_pgc.SQLInsertCompiler):
    pass


class SQLDeleteCompiler(_pgc.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(_pgc.SQLUpdateCompiler):
    pass


class SQLAggregateCompiler(_CacheMixin, _pgc.SQLAggregateCompiler):
    pass
