"""Operations: Django's PostgreSQL operations with psycopg-free value adaptation."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.conf import settings

from ._pg import pg
from .literals import compose
from .wire import JsonText, parse_interval

PGOperations = pg["operations"].DatabaseOperations


class DatabaseOperations(PGOperations):
    compiler_module = "django_prisma.compiler"

    def deferrable_sql(self) -> str:
        # Foreign keys are created DEFERRABLE INITIALLY IMMEDIATE (Django's postgresql backend:
        # INITIALLY DEFERRED). Reason, measured on @prisma/dev 0.25.2: a deferred violation
        # raised by the implicit COMMIT of an autocommit ``INSERT ... RETURNING`` is lost (the
        # client gets the row, the server rolls back), i.e. a silent failed write. Immediate
        # checks fail the statement itself; inside atomic() the wrapper's
        # disable_constraint_checking() defers them (SET CONSTRAINTS ALL DEFERRED) when Django
        # asks, e.g. for loaddata.
        return " DEFERRABLE INITIALLY IMMEDIATE"

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
        if not settings.USE_TZ and expression.output_field.get_internal_type() == "DateTimeField":
            converters.append(self._naive_in_connection_tz)
        return converters

    def _duration_from_text(self, value: Any, expression: Any, connection: Any) -> Any:
        if isinstance(value, str):
            return parse_interval(value)
        return value

    def _naive_in_connection_tz(self, value: Any, expression: Any, connection: Any) -> Any:
        # USE_TZ=False: requests run in pooled sessions whose TimeZone is UTC (there is no
        # per-connection SET TIME ZONE over HTTP), so naive datetimes are stored and read as
        # UTC wall-clock time; the engine renders every timestamp with "+00:00".
        if value is not None and getattr(value, "tzinfo", None) is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value
