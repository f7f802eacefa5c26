"""Operations: Django's PostgreSQL operations with psycopg-free value adaptation."""

from __future__ import annotations

import datetime
import json
import zoneinfo
from typing import Any

from django.conf import settings
from django.utils import timezone

from ._pg import pg
from .literals import compose
from .wire import JsonText

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

    def adapt_datetimefield_value(self, value: Any) -> Any:
        # Every HTTP request may land on another pooled session whose TimeZone is UTC, so a
        # naive value (USE_TZ=False) is made explicit in the connection's time zone, which is
        # what Django's postgresql backend achieves with SET TIME ZONE.
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if timezone.is_naive(value) and not settings.USE_TZ:
            value = value.replace(tzinfo=zoneinfo.ZoneInfo(self.connection.timezone_name))
        return value

    def _convert_sql_to_tz(self, sql: str, params: Any, tzname: str | None) -> Any:
        # With USE_TZ=False Django's postgresql backend relies on the session time zone;
        # sessions here are pooled and UTC, so convert explicitly.
        if not settings.USE_TZ:
            tzname = self.connection.timezone_name
            return f"{sql} AT TIME ZONE %s", (*params, self._prepare_tzname_delta(tzname))
        return super()._convert_sql_to_tz(sql, params, tzname)

    def get_db_converters(self, expression: Any) -> list[Any]:
        converters = super().get_db_converters(expression)
        if expression.output_field.get_internal_type() == "DurationField":
            converters.append(self._duration_from_microseconds)
        if not settings.USE_TZ and expression.output_field.get_internal_type() == "DateTimeField":
            converters.append(self._naive_in_connection_tz)
        return converters

    def _duration_from_microseconds(self, value: Any, expression: Any, connection: Any) -> Any:
        if isinstance(value, int):
            return datetime.timedelta(microseconds=value)
        return value

    def _naive_in_connection_tz(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is not None and getattr(value, "tzinfo", None) is not None:
            tz = zoneinfo.ZoneInfo(self.connection.timezone_name)
            value = value.astimezone(tz).replace(tzinfo=None)
        return value
