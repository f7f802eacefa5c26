"""Operations: the remote-SQLite dialect plus BLOBs read back through ``hex()``."""

from __future__ import annotations

from django_backend_core.remote_sqlite.operations import DatabaseOperations as RemoteOperations


def _unhex(value, expression, connection):
    return bytes.fromhex(value) if isinstance(value, str) else value


class DatabaseOperations(RemoteOperations):
    compiler_module = "django_dbms.compiler"

    def bulk_batch_size(self, fields, objs):
        """sqlite3's 500 for one field (delete batches: integer keys travel as literals, and
        the transport writes arguments past 100 as exact literals); rows of several fields
        stay within 100 bound arguments so statements stay far from the 100 KB limit."""
        if len(fields) == 1:
            return 500
        return max(1, self.connection.features.max_query_params // max(len(fields), 1))

    def get_db_converters(self, expression):
        converters = super().get_db_converters(expression)
        if expression.output_field.get_internal_type() == "BinaryField":
            converters.append(_unhex)
        return converters
