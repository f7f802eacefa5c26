"""Schema editor: Django's PostgreSQL DDL, with literals quoted without psycopg."""

from __future__ import annotations

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django_backend_core.params import split_statements

from ._pg import pg
from .literals import quote_value

PGSchemaEditor = pg["schema"].DatabaseSchemaEditor


class DatabaseSchemaEditor(PGSchemaEditor):
    def quote_value(self, value: Any) -> str:
        return quote_value(value)

    def execute(self, sql: Any, params: Any = ()) -> None:
        # Like Django's postgresql editor, merge params client-side (DDL takes no binds). The
        # executor runs one statement per request (a ";"-joined pair answers HTTP 500), and
        # Django's postgresql templates join a few ("...; SET CONSTRAINTS ... IMMEDIATE").
        if params is None:
            return BaseDatabaseSchemaEditor.execute(self, sql, params)
        text = self.connection.ops.compose_sql(str(sql), params)
        parts = split_statements(text, dialect="postgres") if ";" in text else [text]
        for part in parts:
            BaseDatabaseSchemaEditor.execute(self, part, None)
