"""Django database backend for Apache Cassandra and Astra DB (ENGINE ``django_astra``).

``DATABASES = {"default": {"ENGINE": "django_astra", "NAME": "<keyspace>", "OPTIONS":
{"connection": {...Cluster kwargs...}}}}``. Nothing connects at import or ``django.setup()``;
the driver Cluster/Session is built on first use and owned by this Django connection.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import NotSupportedError
from django_backend_core import dbapi as Database
from django_backend_core.secrets import Redactor

from .client import DatabaseClient
from .connection import CassandraConnection, connection_params
from .creation import DatabaseCreation
from .cursor import CassandraCursor
from .features import DatabaseFeatures
from .introspection import DatabaseIntrospection
from .operations import DatabaseOperations
from .schema import DatabaseSchemaEditor

__all__ = ["Database", "DatabaseWrapper"]


class DatabaseWrapper(BaseDatabaseWrapper):
    vendor = "cassandra"
    display_name = "Cassandra"
    Database = Database
    SchemaEditorClass = DatabaseSchemaEditor
    client_class = DatabaseClient
    creation_class = DatabaseCreation
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    ops_class = DatabaseOperations
    data_types: dict[str, str] = {}
    operators: dict[str, str] = {
        "exact": "= %s",
        "gt": "> %s",
        "gte": ">= %s",
        "lt": "< %s",
        "lte": "<= %s",
        "in": "IN %s",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.redactor = Redactor()
        pw = self.settings_dict.get("PASSWORD")
        if pw:
            self.redactor.add(str(pw))

    def is_astra_configured(self) -> bool:
        opts = self.settings_dict.get("OPTIONS") or {}
        return bool((opts.get("connection") or {}).get("cloud")) or bool(opts.get("astra"))

    def get_connection_params(self) -> dict[str, Any]:
        params = connection_params(self.settings_dict)
        auth = params["cluster"].get("auth_provider")
        secret = getattr(auth, "password", None)
        if secret:
            self.redactor.add(str(secret))
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> CassandraConnection:
        return CassandraConnection(conn_params, self.redactor)

    def init_connection_state(self) -> None:
        pass

    def create_cursor(self, name: Any = None) -> CassandraCursor:
        return CassandraCursor(self.connection)

    def _set_autocommit(self, autocommit: bool) -> None:
        if not autocommit:
            raise NotSupportedError(
                "Cassandra has no transactions, so transaction.atomic() cannot be honoured on a django_astra "
                "database. Use a logged BATCH (cursor.batch()) for atomic multi-statement writes, or a "
                "lightweight transaction (IF ...) for compare-and-set."
            )

    def _commit(self) -> None:
        pass

    def _rollback(self) -> None:
        pass

    def _savepoint(self, sid: Any) -> None:
        raise NotSupportedError("Cassandra has no savepoints.")

    def is_usable(self) -> bool:
        return self.connection is not None and self.connection.is_usable()

    def _close(self) -> None:
        if self.connection is not None:
            self.connection.close()

    def schema_editor(self, *args: Any, **kwargs: Any) -> DatabaseSchemaEditor:
        return self.SchemaEditorClass(self, *args, **kwargs)

    @property
    def session(self) -> Any:
        """The driver Session of this Django connection (connects on first use)."""
        self.ensure_connection()
        return self.connection.session
