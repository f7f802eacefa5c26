"""Operations: Django's PostgreSQL operations with psycopg-free value adaptation."""

from __future__ import annotations

import json
from typing import Any

from ._pg import pg
from .literals import compose
from .wire import JsonText, parse_interval

PGOperations = pg["operations"].DatabaseOperations


class DatabaseOperations(PGOperations):
    compiler_module = "django_prisma.compiler"

    def compose_sql(self, sql: str, params: Any) -> str:
        return compose(sql, params)

    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str | None:
        try:
            return compose(sql, params)
        except Exception:
            return super(PGOperations, self).last_executed_query(cursor, sql, params)

    def adapt_integerfield_value(self, value: Any, internal_type: str) -> Any:
        return value

    def adapt_ipaddressfield_value(self, value: Any) -> Any:
        return str(value) if value else None

    def adapt_json_value(self, value: Any, encoder: Any) -> JsonText:
        return JsonText(json.dumps(value, cls=encoder))

    def get_db_converters(self, expression: Any) -> list[Any]:
        converters = super().get_db_converters(expression)
        if expression.output_field.get_internal_type() == "DurationField":
            converters.append(self._duration_from_text)
        return converters

    def _duration_from_text(self, value: Any, expression: Any, connection: Any) -> Any:
        if isinstance(value, str):
            return parse_interval(value)
        return value
