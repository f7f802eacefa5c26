"""Cloudflare D1 over the D1 REST API (ENGINE ``django_d1``).

Settings::

    DATABASES = {"default": {
        "ENGINE": "django_d1",
        "CLOUDFLARE_ACCOUNT_ID": "...", "CLOUDFLARE_DATABASE_ID": "...",
        "CLOUDFLARE_TOKEN": "...",
        "OPTIONS": {"api_base": "https://api.cloudflare.com/client/v4", "timeout": 30},
        "TEST": {"CLOUDFLARE_DATABASE_ID": "..."},
    }}
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.db import NotSupportedError
from django_backend_core import settings as core_settings
from django_backend_core.remote_sqlite.base import RemoteSQLiteDatabaseWrapper
from django_backend_core.secrets import Secret

from .client import DatabaseClient
from .creation import DatabaseCreation
from .cursor import D1Cursor, inline_int
from .features import DatabaseFeatures
from .introspection import DatabaseIntrospection
from .operations import DatabaseOperations
from .schema import DatabaseSchemaEditor
from .transport import D1Transport

DEFAULT_API_BASE = "https://api.cloudflare.com/client/v4"
OPTION_KEYS = {"api_base", "timeout", "retries", "max_retry_wait", "sqlite_version"}


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _in_test_environment() -> bool:
    """True between django.test.utils.setup_test_environment() and its teardown."""
    from django.test.utils import _TestState

    return hasattr(_TestState, "saved_data")


class DatabaseWrapper(RemoteSQLiteDatabaseWrapper):
    vendor = "sqlite"  # the SQL dialect; as_sqlite() implementations apply
    display_name = "Cloudflare D1"

    client_class = DatabaseClient
    creation_class = DatabaseCreation
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    ops_class = DatabaseOperations
    SchemaEditorClass = DatabaseSchemaEditor

    max_query_params = 100
    defer_schema_drops = True
    max_statement_bytes = 100_000
    sqlite_version = (3, 45, 0)

    # -- settings ----------------------------------------------------------------------------
    def get_connection_params(self) -> dict[str, Any]:
        sd = self.settings_dict
        options = dict(sd.get("OPTIONS") or {})
        core_settings.validate(
            sd,
            backend="django_d1",
            required=("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_DATABASE_ID", "CLOUDFLARE_TOKEN"),
        )
        unknown = set(options) - OPTION_KEYS
        if unknown:
            raise ImproperlyConfigured(
                f"django_d1: unknown OPTIONS {sorted(unknown)}; known: {sorted(OPTION_KEYS)}."
            )
        return {
            "api_base": options.get("api_base") or DEFAULT_API_BASE,
            "account_id": str(sd["CLOUDFLARE_ACCOUNT_ID"]),
            "database_id": str(sd["CLOUDFLARE_DATABASE_ID"]),
            "token": Secret(str(sd["CLOUDFLARE_TOKEN"])),
            "timeout": float(options.get("timeout", 30)),
            "retries": int(options.get("retries", 3)),
            "max_retry_wait": float(options.get("max_retry_wait", 30)),
        }

    def make_transport(self, conn_params: dict[str, Any]) -> D1Transport:
        return D1Transport(**conn_params)

    def create_cursor(self, name=None):
        return D1Cursor(self.connection)

    # -- parameters --------------------------------------------------------------------------
    def adapt_param(self, value: Any) -> Any:
        """What D1's JSON can carry with the type SQLite would store from Python's sqlite3."""
        if isinstance(value, bool):
            return int(value)  # JSON true would be stored as TEXT 'true'
        if isinstance(value, decimal.Decimal):
            return str(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return list(bytes(value))  # number arrays bind as BLOB
        if isinstance(value, datetime.datetime):
            return value.isoformat(" ")
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return value.hex
        return value

    def inline_param(self, value: Any) -> str | None:
        # D1 binds every JSON number as REAL; an integer literal keeps INTEGER semantics.
        return inline_int(value)

    # -- test databases ----------------------------------------------------------------------
    def _is_local(self) -> bool:
        api = (self.settings_dict.get("OPTIONS") or {}).get("api_base") or DEFAULT_API_BASE
        return _is_loopback(api)

    def check_test_database(self) -> None:
        """Refuse to empty a database unless the test runner switched to the test database.

        The older django-cf engine wiped a production database in ``manage.py test``; here
        the id in use must be the one ``creation`` switched to, and it must differ from the
        configured (production) id.
        """
        current = self.settings_dict.get("CLOUDFLARE_DATABASE_ID")
        test_id = getattr(self, "_test_database_id", None)
        production = getattr(self, "_production_database_id", None)
        if test_id and current == test_id and current != production:
            return
        raise ImproperlyConfigured(
            f"django_d1 refuses to empty or migrate database {current!r} during tests: it is "
            "not a test database. Put a separate D1 database id in "
            "DATABASES[alias]['TEST']['CLOUDFLARE_DATABASE_ID'] (with a local server the "
            "test database 'test_<id>' is used automatically)."
        )

    def check_flush_allowed(self) -> None:
        if _in_test_environment():
            self.check_test_database()

    def _start_transaction_under_autocommit(self):
        pass

    def schema_editor(self, *args, **kwargs):
        if _in_test_environment():
            self.check_test_database()
        return super().schema_editor(*args, **kwargs)


def batch(using: str | None = None):
    """Context manager: queue the writes made inside and send them as one atomic batch.

    All or nothing: if any statement fails, D1 rolls back the whole batch. Statements that
    return rows (SELECT, INSERT ... RETURNING, model.save() without explicit pk, delete()
    with collected relations) raise NotSupportedError inside; rowcounts are unknown (-1).
    """
    from django.db import DEFAULT_DB_ALIAS, connections

    conn = connections[using or DEFAULT_DB_ALIAS]
    if not isinstance(conn, RemoteSQLiteDatabaseWrapper):
        raise NotSupportedError(f"Database {using!r} is not a django_d1 database.")
    return conn.atomic_batch()
