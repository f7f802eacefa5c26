"""Operations: the remote-SQLite dialect plus BLOBs read back through ``hex()``."""

from __future__ import annotations

from django.db.models import CompositePrimaryKey
from django_backend_core.remote_sqlite.operations import DatabaseOperations as RemoteOperations


def _unhex(value, expression, connection):
    """``'x' || hex(blob)`` back to bytes (see compiler.py)."""
    if isinstance(value, str) and value.startswith("x"):
        return bytes.fromhex(value[1:])
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

    def get_db_converters(self, expression):
        """BLOBs come back as hex text (integers: see the core's ``integers.py``)."""
        converters = super().get_db_converters(expression)
        if expression.output_field.get_internal_type() == "BinaryField":
            converters.insert(0, _unhex)
        return converters
