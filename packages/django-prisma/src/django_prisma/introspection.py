"""Introspection: Django's PostgreSQL catalog queries, with casts the executor can decode.

Prisma's query engine cannot return some catalog types (``"char"``, ``name[]``, ``oid``,
``regclass``: P2010 UnsupportedNativeDataType, measured), and ``cursor.description`` carries
Prisma type names instead of PostgreSQL OIDs. So column types come from ``pg_attribute``, and
the few catalog columns of those types are cast to text in Django's own queries.
"""

from __future__ import annotations

import re
from typing import Any

from ._pg import pg

_pgi = pg["introspection"]
PGIntrospection = _pgi.DatabaseIntrospection
FieldInfo = _pgi.FieldInfo

_CASTS = [
    (re.compile(r"con\.confdeltype(?!::)"), "con.confdeltype::text"),
    (re.compile(r"c\.contype,"), "c.contype::text,"),
    (re.compile(r"SELECT attname(\s)"), r"SELECT attname::text\1"),
    (re.compile(r"array_agg\(attname ORDER BY"), "array_agg(attname::text ORDER BY"),
]


class _CastingCursor:
    """Wraps a cursor and rewrites Django's catalog queries to decodable types."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Any = None) -> Any:
        for pattern, repl in _CASTS:
            sql = pattern.sub(repl, sql)
        return self._cursor.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class DatabaseIntrospection(PGIntrospection):
    def get_table_description(self, cursor: Any, table_name: str) -> list[Any]:
        # One catalog query. The ``::regclass`` cast resolves the name through search_path
        # (like pg_table_is_visible) and raises 42P01 for a missing table, as Django's
        # ``SELECT * FROM table LIMIT 1`` does.
        cursor.execute(
            """
            SELECT
                a.attname::text,
                a.atttypid::int,
                CASE WHEN a.atttypid IN (1042, 1043) AND a.atttypmod > 0
                    THEN a.atttypmod - 4 END,
                CASE WHEN a.atttypid = 1700 AND a.atttypmod > 0
                    THEN ((a.atttypmod - 4) >> 16) & 65535 END,
                CASE WHEN a.atttypid = 1700 AND a.atttypmod > 0
                    THEN (a.atttypmod - 4) & 65535 END,
                NOT (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)),
                pg_get_expr(ad.adbin, ad.adrelid),
                CASE WHEN collname = 'default' THEN NULL ELSE collname::text END,
                a.attidentity != '',
                col_description(a.attrelid, a.attnum)
            FROM pg_attribute a
            LEFT JOIN pg_attrdef ad ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
            LEFT JOIN pg_collation co ON a.attcollation = co.oid
            JOIN pg_type t ON a.atttypid = t.oid
            JOIN pg_class c ON a.attrelid = c.oid
            JOIN pg_namespace n ON c.relnamespace = n.oid
            WHERE c.relkind IN ('f', 'm', 'p', 'r', 'v')
                AND c.oid = quote_ident(%s)::regclass
                AND a.attnum > 0 AND NOT a.attisdropped
                AND n.nspname NOT IN ('pg_catalog', 'pg_toast')
            ORDER BY a.attnum
            """,
            [table_name],
        )
        return [
            FieldInfo(name, oid, size, size, precision, scale, *rest)
            for name, oid, size, precision, scale, *rest in cursor.fetchall()
        ]

    def get_relations(self, cursor: Any, table_name: str) -> Any:
        return super().get_relations(_CastingCursor(cursor), table_name)

    def get_constraints(self, cursor: Any, table_name: str) -> Any:
        return super().get_constraints(_CastingCursor(cursor), table_name)
