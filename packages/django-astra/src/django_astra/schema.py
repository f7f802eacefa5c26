"""Schema changes come from ``manage.py sync_cassandra``, not Django migrations."""

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.utils import NotSupportedError

_MSG = (
    "django_astra manages tables with `manage.py sync_cassandra` (also run by `migrate`) from "
    "DjangoCassandraModel classes; Django migrations of SQL models cannot target Cassandra."
)


class DatabaseSchemaEditor(BaseDatabaseSchemaEditor):
    def __enter__(self) -> "DatabaseSchemaEditor":
        self.deferred_sql = []
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def execute(self, sql: Any, params: Any = ()) -> None:
        raise NotSupportedError(_MSG)

    def create_model(self, model: Any) -> None:
        raise NotSupportedError(_MSG)

    def delete_model(self, model: Any) -> None:
        raise NotSupportedError(_MSG)

    def add_field(self, model: Any, field: Any) -> None:
        raise NotSupportedError(_MSG)

    def remove_field(self, model: Any, field: Any) -> None:
        raise NotSupportedError(_MSG)

    def alter_field(self, model: Any, old_field: Any, new_field: Any, strict: bool = False) -> None:
        raise NotSupportedError(_MSG)
