"""CQL spelling of the few operations Django asks of every backend."""

from typing import Any

from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.utils import NotSupportedError


class DatabaseOperations(BaseDatabaseOperations):
    compiler_module = "django_astra.compiler"

    def quote_name(self, name: str) -> str:
        if name.startswith('"') and name.endswith('"'):
            return name
        return '"' + name.replace('"', '""') + '"'

    def sql_flush(
        self,
        style: Any,
        tables: list[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        return [
            f"{style.SQL_KEYWORD('TRUNCATE')} {style.SQL_FIELD(self.quote_name(t))}" for t in tables
        ]

    def execute_sql_flush(self, sql_list: list[str]) -> None:
        with self.connection.cursor() as cursor:
            for sql in sql_list:
                cursor.execute(sql)

    def no_limit_value(self) -> None:
        return None

    def date_extract_sql(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError("CQL has no date extraction; filter on the stored value instead.")

    def adapt_datetimefield_value(self, value: Any) -> Any:
        return value

    def adapt_datefield_value(self, value: Any) -> Any:
        return value

    def adapt_timefield_value(self, value: Any) -> Any:
        return value

    def adapt_decimalfield_value(
        self, value: Any, max_digits: Any = None, decimal_places: Any = None
    ) -> Any:
        return value

    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        return f"{sql} -- params: {params!r}" if params else sql
