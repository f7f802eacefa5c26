"""Operations: the remote-SQLite dialect plus BLOBs read back through ``hex()``."""

from __future__ import annotations

from django.db.models import CompositePrimaryKey
from django_backend_core.remote_sqlite.operations import DatabaseOperations as RemoteOperations

from .compiler import integer_kind


def _unhex(value, expression, connection):
    """``'x' || hex(blob)`` back to bytes (see compiler.py)."""
    if isinstance(value, str) and value.startswith("x"):
        return bytes.fromhex(value[1:])
    return value


def _int_text(value, expression, connection):
    """``CAST(integer AS TEXT)`` in RETURNING back to an exact number (see compiler.py)."""
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)  # a REAL stored in an integer column stays a REAL
            except ValueError:
                return value
    return value


class DatabaseOperations(RemoteOperations):
    compiler_module = "django_dbms.compiler"

    def bulk_batch_size(self, fields, objs):
        """sqlite3's 500 for one field (delete batches: integer keys travel as literals, and
        the transport writes arguments past 100 as exact literals); rows of several fields
        stay within 100 bound arguments so statements stay far from the 100 KB limit."""
        if not fields:
            return len(objs)
        if len(fields) == 1 and not isinstance(fields[0], CompositePrimaryKey):
            return 500
        # A composite primary key binds one argument per column.
        width = sum(len(f.fields) if isinstance(f, CompositePrimaryKey) else 1 for f in fields)
        return max(1, self.connection.features.max_query_params // width)

    def _returning(self, fields):
        """RETURNING with 64-bit integer columns as text (a JS double would round them)."""
        if not fields:
            return "", ()
        columns = []
        for field in fields:
            ref = f"{self.quote_name(field.model._meta.db_table)}.{self.quote_name(field.column)}"
            if integer_kind(field):
                ref = f"CAST({ref} AS TEXT)"
            columns.append(ref)
        return "RETURNING " + ", ".join(columns), ()

    def return_insert_columns(self, fields):  # Django < 6.0
        return self._returning(fields)

    def returning_columns(self, fields):  # Django >= 6.0
        return self._returning(fields)

    def get_db_converters(self, expression):
        """BLOBs come back as hex text. Integer columns need no converter when SELECTed (they
        arrive as JSON numbers); their RETURNING text is converted by the insert and update
        compilers only, so reads of many rows pay no per-value call."""
        converters = super().get_db_converters(expression)
        if expression.output_field.get_internal_type() == "BinaryField":
            converters.insert(0, _unhex)
        return converters
