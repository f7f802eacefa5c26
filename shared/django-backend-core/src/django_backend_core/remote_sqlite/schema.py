"""Schema editor: table rebuilds as one atomic batch while foreign keys stay enforced.

Django's sqlite3 editor rebuilds a table (create ``new__t``, copy, drop ``t``, rename) with
``PRAGMA foreign_keys = OFF``. Remote servers (D1, Durable Objects) always enforce foreign keys,
so dropping ``t`` would orphan referencing rows and the deferred-violation counter would fail
the commit even after the rename. The rebuild here copies the rows aside, drops ``t``, renames
``new__t`` and inserts the rows back — the re-insert satisfies the deferred checks — all in one
batch that starts with ``PRAGMA defer_foreign_keys = on``.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import NotSupportedError
from django.db.backends.sqlite3.schema import DatabaseSchemaEditor as SQLiteSchemaEditor

_COPY = re.compile(
    r'^INSERT INTO "(?P<new>new__[^"]+)" \((?P<cols>.*?)\) SELECT (?P<exprs>.*) FROM "(?P<old>[^"]+)"$',
    re.S,
)


class DatabaseSchemaEditor(SQLiteSchemaEditor):
    _captured: list[tuple[str, Any]] | None = None
    _drops_transport: Any = None

    def __enter__(self):
        editor = super().__enter__()
        if self.connection.defer_schema_drops and not self.collect_sql:
            self.connection.ensure_connection()
            transport = self.connection.connection.transport
            if getattr(transport, "deferred_drops", 0) is None:
                transport.deferred_drops = []
                self._drops_transport = transport
        return editor

    def __exit__(self, exc_type, exc_value, traceback):
        transport = self._drops_transport
        if transport is None:
            return super().__exit__(exc_type, exc_value, traceback)
        try:
            with self.connection.wrap_database_errors:
                transport.flush_drops()
            return super().__exit__(exc_type, exc_value, traceback)
        finally:
            try:
                with self.connection.wrap_database_errors:
                    transport.flush_drops()
            finally:
                transport.deferred_drops = None
                self._drops_transport = None

    def execute(self, sql, params=()):
        if self._captured is not None and not self.collect_sql:
            self._captured.append((str(sql), params))
            return
        super().execute(sql, params)

    def _remake_table(self, model, create_field=None, delete_field=None, alter_fields=None):
        if self.collect_sql or self._captured is not None:
            return super()._remake_table(model, create_field, delete_field, alter_fields)
        self._check_no_cascading_children(model)
        self._captured = []
        try:
            super()._remake_table(model, create_field, delete_field, alter_fields)
            captured = self._captured
        finally:
            self._captured = None
        statements: list[tuple[str, Any]] = [("PRAGMA defer_foreign_keys = on", None)]
        restore: list[tuple[str, Any]] = []
        for sql, params in captured:
            m = _COPY.match(sql.strip())
            if m:
                keep = f'"{m["old"]}__django_copy"'
                statements.append(
                    (f'CREATE TABLE {keep} AS SELECT {m["exprs"]} FROM "{m["old"]}"', params)
                )
                restore = [
                    (f'INSERT INTO "{m["old"]}" ({m["cols"]}) SELECT * FROM {keep}', None),
                    (f"DROP TABLE {keep}", None),
                ]
                continue
            statements.append((sql, params))
            if restore and re.match(r'^ALTER TABLE "new__[^"]+" RENAME TO', sql.strip()):
                statements.extend(restore)
                restore = []
        statements.extend(restore)
        self.connection.execute_batch(statements)

    def _check_no_cascading_children(self, model):
        """Refuse rebuilds that would fire ON DELETE actions of referencing tables.

        Dropping the old table deletes its rows first; with foreign keys enforced, ON DELETE
        CASCADE / SET NULL / SET DEFAULT in other tables would change their rows.
        """
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT m.name, f.on_delete FROM sqlite_master m, "
                "pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND f.\"table\" = %s "
                "AND f.on_delete NOT IN ('NO ACTION', 'RESTRICT') AND m.name NOT LIKE '\\_cf\\_%%' ESCAPE '\\'",
                [table],
            )
            rows = cursor.fetchall()
        if rows:
            names = ", ".join(sorted({f"{name} (ON DELETE {action})" for name, action in rows}))
            raise NotSupportedError(
                f"Cannot rebuild table {table!r}: foreign keys cannot be disabled on this "
                f"database and dropping the old table would fire ON DELETE actions in {names}. "
                "Alter those foreign keys to DO_NOTHING at the database level first."
            )
