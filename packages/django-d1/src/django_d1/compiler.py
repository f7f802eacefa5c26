"""SQL compilers: the remote-SQLite ones, plus ``bulk_update`` packed into batch requests.

Django's ``bulk_update`` runs one ``UPDATE ... SET f = CASE WHEN pk = .. THEN .. END WHERE pk
IN (..)`` per slice of objects, one request each. D1's batch endpoint answers one result (with
its ``changes``) per statement, so the slices can travel together: ``bulk_batch_size`` hands
Django all objects at once, and :meth:`SQLUpdateCompiler.execute_sql` cuts that one CASE
update back into statements that fit D1's limits (100 bound parameters, 100,000 bytes) and
sends as many as fit in one request (:data:`MAX_BATCH_BYTES`), summing their rowcounts. Each
request is atomic on D1.
"""

from __future__ import annotations

from typing import Any

from django.db.models.expressions import Case, When
from django.db.models.lookups import Exact, In
from django.db.models.sql.constants import ROW_COUNT
from django.db.models.sql.where import AND, WhereNode
from django_backend_core.remote_sqlite.compiler import (  # noqa: F401 - the compiler module API
    SQLAggregateCompiler,
    SQLCompiler,
    SQLDeleteCompiler,
    SQLInsertCompiler,
)
from django_backend_core.remote_sqlite.compiler import SQLUpdateCompiler as RemoteUpdateCompiler
from django_backend_core.transport import Statement

from .cursor import fit_statement

#: Request body budget when several statements are packed into one batch request.
MAX_BATCH_BYTES = 1_000_000


class SQLUpdateCompiler(RemoteUpdateCompiler):
    def execute_sql(self, result_type):
        plan = self._bulk_update_plan() if result_type == ROW_COUNT else None
        stmts = self._compile_chunks(plan) if plan is not None else None
        if stmts is None:
            return super().execute_sql(result_type)
        return self._execute_packed(stmts)

    # -- bulk_update -------------------------------------------------------------------------
    def _bulk_update_plan(self) -> tuple[list[Any], list[Any], In] | None:
        """(the CASE values, their pks, the pk IN lookup) if this is bulk_update's shape.

        The shape: every SET value is a ``Case`` of ``When(pk=<value>)`` over the same pks in
        the same order, the WHERE is exactly ``pk IN (<those pks>)``, and nothing else
        (no related updates, no joins) is involved.
        """
        query = self.query
        if query.get_related_updates() or not query.values:
            return None
        where = query.where
        if where.negated or where.connector != AND or len(where.children) != 1:
            return None
        lookup = where.children[0]
        pk = query.get_meta().pk
        if not isinstance(lookup, In) or getattr(lookup.lhs, "target", None) != pk:
            return None
        pks: list[Any] | None = None
        cases = []
        for _field, _model, value in query.values:
            if not isinstance(value, Case) or not value.cases:
                return None
            whens = []
            for when in value.cases:
                key = _when_pk(when, pk)
                if key is _NO:
                    return None
                whens.append(key)
            if pks is None:
                pks = whens
            elif whens != pks:
                return None
            cases.append(value)
        if not pks or not isinstance(lookup.rhs, list | tuple) or list(lookup.rhs) != pks:
            return None
        return cases, pks, lookup

    def _chunk_query(self, cases: list[Any], pks: list[Any], lookup: In, i: int, j: int):
        query = self.query.clone()
        values = []
        for (field, model, _value), case in zip(self.query.values, cases, strict=True):
            part = case.copy()
            part.cases = case.cases[i:j]
            values.append((field, model, part))
        query.values = values
        query.where = WhereNode([type(lookup)(lookup.lhs, pks[i:j])], connector=AND)
        return query

    def _compile_chunks(self, plan) -> list[Statement] | None:
        """Statements of as many objects as fit D1's limits (halving until they do).

        None if one object's statement alone does not fit: the normal path then raises the
        limit's error."""
        cases, pks, lookup = plan
        n = len(pks)
        adapt = self.connection.adapt_param
        out: list[Statement] = []
        i = 0
        size = n
        while i < n:
            j = min(n, i + size)
            sql, params = (
                self._chunk_query(cases, pks, lookup, i, j)
                .get_compiler(self.using, self.connection)
                .as_sql()
            )
            stmt = fit_statement(sql, [adapt(p) for p in params])
            if stmt is None:
                if j - i == 1:
                    return None
                size = max(1, (j - i) // 2)
                continue
            out.append(stmt)
            i = j
        return out

    def _execute_packed(self, stmts: list[Statement]) -> int:
        transport = self.connection.connection.transport
        total = 0
        start = 0
        with self.connection.wrap_database_errors:
            while start < len(stmts):
                end, body = start, 0
                while end < len(stmts) and (
                    end == start or body + _size(stmts[end]) <= MAX_BATCH_BYTES
                ):
                    body += _size(stmts[end])
                    end += 1
                for result in transport.batch(stmts[start:end]):
                    total += max(result.rowcount, 0)
                start = end
        if self.connection.queries_logged:
            for stmt in stmts:
                self.connection.queries_log.append({"sql": f"{stmt.sql} [batch]", "time": "0.000"})
        return total


_NO = object()


def _when_pk(when: Any, pk: Any) -> Any:
    """The pk value of ``When(pk=<value>)`` after resolution, or _NO for any other shape."""
    if not isinstance(when, When):
        return _NO
    cond = when.condition
    if isinstance(cond, WhereNode):
        if cond.negated or len(cond.children) != 1:
            return _NO
        cond = cond.children[0]
    if not isinstance(cond, Exact) or getattr(cond.lhs, "target", None) != pk:
        return _NO
    if hasattr(cond.rhs, "resolve_expression"):
        return _NO
    return cond.rhs


def _size(stmt: Statement) -> int:
    """Estimated JSON bytes of one batch item."""
    return (
        len(stmt.sql)
        + sum(len(p) + 4 if isinstance(p, str | list) else 24 for p in stmt.params)
        + 32
    )
