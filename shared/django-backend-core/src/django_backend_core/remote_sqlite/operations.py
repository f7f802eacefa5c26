"""DatabaseOperations: Django's sqlite3 operations without the ``django_*`` Python functions."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.db import NotSupportedError
from django.db.backends.sqlite3.operations import DatabaseOperations as SQLiteOperations

from . import sql as S
from .integers import as_text_sql, convert_exact_integer, integer_kind

#: Django functions (by class name) that need Python code SQLite lacks, with what to do instead.
UNSUPPORTED_FUNCTIONS = {
    "MD5": "compute the hash in Python (hashlib.md5) and store it in a field",
    "SHA1": "compute the hash in Python (hashlib) and store it in a field",
    "SHA224": "compute the hash in Python (hashlib) and store it in a field",
    "SHA256": "compute the hash in Python (hashlib) and store it in a field",
    "SHA384": "compute the hash in Python (hashlib) and store it in a field",
    "SHA512": "compute the hash in Python (hashlib) and store it in a field",
}


class DatabaseOperations(SQLiteOperations):
    compiler_module = "django_backend_core.remote_sqlite.compiler"

    # -- time zones ------------------------------------------------------------------------
    def _tz(self, sql: str, params: Any, tzname: str | None) -> S.SqlParams:
        if tzname and settings.USE_TZ:
            return S.utc_to_zone((sql, tuple(params)), tzname, self.connection.timezone_name)
        return sql, tuple(params)

    # -- dates and times (django_date_extract & co. in the stock backend) --------------------
    def date_extract_sql(self, lookup_type, sql, params):
        return S.extract(lookup_type, (sql, tuple(params)))

    def time_extract_sql(self, lookup_type, sql, params):
        return S.extract(lookup_type, (sql, tuple(params)))

    def date_trunc_sql(self, lookup_type, sql, params, tzname=None):
        return S.date_trunc(lookup_type, self._tz(sql, params, tzname))

    def time_trunc_sql(self, lookup_type, sql, params, tzname=None):
        return S.time_trunc(lookup_type, self._tz(sql, params, tzname))

    def datetime_cast_date_sql(self, sql, params, tzname):
        return S.cast_date(self._tz(sql, params, tzname))

    def datetime_cast_time_sql(self, sql, params, tzname):
        return S.cast_time(self._tz(sql, params, tzname))

    def datetime_extract_sql(self, lookup_type, sql, params, tzname):
        return S.extract(lookup_type, self._tz(sql, params, tzname))

    def datetime_trunc_sql(self, lookup_type, sql, params, tzname):
        return S.datetime_trunc(lookup_type, self._tz(sql, params, tzname))

    def subtract_temporals(self, internal_type, lhs, rhs):
        lhs = (lhs[0], tuple(lhs[1]))
        rhs = (rhs[0], tuple(rhs[1]))
        if internal_type == "TimeField":
            return S.time_diff(lhs, rhs)
        return S.timestamp_diff(lhs, rhs)

    def combine_expression(self, connector, sub_expressions):
        if connector == "^":
            # D1 refuses power(); pow() is the same math function.
            return "pow({})".format(",".join(sub_expressions))
        if connector == "#":
            lhs, rhs = sub_expressions
            return f"(SELECT (__a | __b) - (__a & __b) FROM (SELECT {lhs} AS __a, {rhs} AS __b))"
        return super(SQLiteOperations, self).combine_expression(connector, sub_expressions)

    def combine_duration_expression(self, connector, sub_expressions):
        # DurationExpression is compiled by the compiler (it needs the operand types);
        # reaching this means an expression shape the dialect does not know.
        raise NotSupportedError(
            "This duration arithmetic needs Python functions this database does not have."
        )

    def regex_lookup(self, lookup_type):
        raise NotSupportedError(
            f"The '{lookup_type}' lookup needs a REGEXP function this database does not have; "
            "use contains/startswith/endswith or filter in Python."
        )

    def check_expression_support(self, expression):
        super().check_expression_support(expression)
        name = type(expression).__name__
        if name in UNSUPPORTED_FUNCTIONS and type(expression).__module__.startswith(
            "django.db.models"
        ):
            raise NotSupportedError(
                f"{name}() needs a Python function this database does not have; "
                f"{UNSUPPORTED_FUNCTIONS[name]}."
            )

    def _quote_params_for_last_executed_query(self, params):
        # The stock version runs "SELECT QUOTE(?), ..." on the connection; a remote server
        # would cost a round trip per query under DEBUG, so quote locally.
        out = []
        for p in params:
            if p is None:
                out.append("NULL")
            elif isinstance(p, bool):
                out.append("1" if p else "0")
            elif isinstance(p, int | float):
                out.append(repr(p))
            elif isinstance(p, bytes | bytearray | memoryview):
                out.append(f"X'{bytes(p).hex().upper()}'")
            else:
                out.append("'{}'".format(str(p).replace("'", "''")))
        return tuple(out)

    def last_executed_query(self, cursor, sql, params):
        if params:
            if isinstance(params, list | tuple):
                params = self._quote_params_for_last_executed_query(params)
            else:
                values = tuple(params.values())
                values = self._quote_params_for_last_executed_query(values)
                params = dict(zip(params, values, strict=True))
            try:
                return sql % params
            except (TypeError, ValueError):
                return sql
        return sql

    @functools.lru_cache(maxsize=512)  # noqa: B019 - same caching as the stock backend
    def _references_graph(self, table_name):
        """Tables referencing ``table_name`` (recursively), without the stock REGEXP query."""
        query = """
        WITH RECURSIVE tables(name) AS (
            SELECT %s
            UNION
            SELECT m.name FROM (
                SELECT name FROM sqlite_master
                WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%%' ESCAPE '\\'
            ) AS m JOIN pragma_foreign_key_list(m.name) AS f JOIN tables ON f."table" = tables.name
        )
        SELECT name FROM tables;
        """
        with self.connection.cursor() as cursor:
            results = cursor.execute(query, (table_name,))
            return [row[0] for row in results.fetchall()]

    def execute_sql_flush(self, sql_list):
        """All DELETEs in one atomic batch with deferred foreign keys (order-independent)."""
        self.connection.check_flush_allowed()
        if sql_list:
            self.connection.execute_batch(
                [("PRAGMA defer_foreign_keys = on", None), *((sql, None) for sql in sql_list)]
            )

    def last_insert_id(self, cursor, table_name, pk_name):
        return cursor.lastrowid

    # -- integers through JSON (see integers.py) ----------------------------------------------
    def get_db_converters(self, expression):
        """Integer-valued columns first check that the reply's number is exact (before the
        stock DecimalField converter would quantize a rounded one)."""
        converters = super().get_db_converters(expression)
        if integer_kind(expression.output_field):
            converters.insert(0, convert_exact_integer)
        return converters

    def _returning(self, fields):
        """RETURNING with integer columns as text: new 64-bit keys come back exact."""
        if not fields:
            return "", ()
        columns = []
        for field in fields:
            ref = f"{self.quote_name(field.model._meta.db_table)}.{self.quote_name(field.column)}"
            if kind := integer_kind(field):
                ref = as_text_sql(kind, ref)
            columns.append(ref)
        return "RETURNING " + ", ".join(columns), ()

    def return_insert_columns(self, fields):  # Django < 6.0
        return self._returning(fields)

    def returning_columns(self, fields):  # Django >= 6.0
        return self._returning(fields)
