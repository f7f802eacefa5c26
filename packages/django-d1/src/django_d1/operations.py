"""Operations: D1's statement limits in bulk sizes, exact integers on read."""

from __future__ import annotations

import sys

from django.db import DataError
from django_backend_core.remote_sqlite.operations import DatabaseOperations as RemoteOperations

from .cursor import JS_SAFE_INT, MAX_PARAMS

#: Rows per compiled bulk INSERT (each becomes one batch request of <=100 KB statements).
BULK_INSERT_ROWS = 5000

_INTEGER_TYPES = {
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "DurationField",
}


class DatabaseOperations(RemoteOperations):
    compiler_module = "django_backend_core.remote_sqlite.compiler"

    def bulk_batch_size(self, fields, objs):
        """Rows per statement.

        INSERTs are built for all rows at once: the D1 cursor inlines integers and, past 100
        parameters, the other values as literals, and splits statements longer than 100 KB into
        one batch request. Single-field lists (in_bulk, deletes) take 500 values like the stock
        backend; other bulk statements (bulk_update) get at most 100 parameters.
        """
        if not fields:
            return len(objs)
        if sys._getframe(1).f_code.co_name == "_batched_insert":
            # QuerySet.bulk_create: one compiled INSERT; D1Cursor packs it into as few
            # <=100 KB statements as possible, all in one batch request.
            return max(1, min(len(objs), BULK_INSERT_ROWS))
        if len(fields) == 1:
            # Primary-key lists (deletes, in_bulk): integers are inlined and other values are
            # inlined past 100 parameters, so the stock sqlite3 size fits in 100 KB.
            return 500
        return max(1, MAX_PARAMS // len(fields))

    def get_db_converters(self, expression):
        converters = super().get_db_converters(expression)
        if expression.output_field.get_internal_type() in _INTEGER_TYPES:
            converters.append(self.convert_exact_integer)
        return converters

    def convert_exact_integer(self, value, expression, connection):
        """D1's JSON rounds integers beyond 2**53; refuse instead of returning a wrong value."""
        if type(value) is int and not -JS_SAFE_INT <= value <= JS_SAFE_INT:
            raise DataError(
                f"D1 returned the integer {value}, beyond 2**53: its JSON API rounds such values, "
                "so the stored number cannot be read exactly. Store it in a CharField or "
                "DecimalField."
            )
        return value
