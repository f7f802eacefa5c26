"""ENGINE ``django_dbms``: Durable Object SQLite through the workers-dbms websocket protocol.

The dialect (Django's sqlite3 one without Python functions) comes from
``django_backend_core.remote_sqlite``; this module adds what the Worker offers that D1 does
not: transactions held open across messages (``atomic()`` maps onto begin/commit/rollback),
with savepoints emulated by the transport, and reconnection after a rollback drops the socket.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.utils import debug_transaction
from django_backend_core import dbapi as Database
from django_backend_core.remote_sqlite.base import RemoteSQLiteDatabaseWrapper
from django_backend_core.secrets import Redactor
from django_backend_core.settings import is_url, validate

from .client import DatabaseClient
from .creation import DatabaseCreation
from .features import DatabaseFeatures
from .operations import DatabaseOperations
from .transport import DBMSTransport

_PATH = re.compile(r"^(?P<prefix>.*/api/v1/databases/)(?P<id>[^/]+)(?P<suffix>/websocket)$")
_ID = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$")


def _check_id(database_id: str) -> None:
    if not (4 <= len(database_id) <= 32 and _ID.match(database_id)):
        raise ImproperlyConfigured(
            f"workers-dbms database id {database_id!r} is invalid: 4-32 characters of "
            "a-z, 0-9 and _, optionally joined by single '-'."
        )


class DatabaseWrapper(RemoteSQLiteDatabaseWrapper):
    vendor = "sqlite"
    display_name = "workers-dbms (Durable Object SQLite)"
    client_class = DatabaseClient
    creation_class = DatabaseCreation
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations

    max_query_params = 100
    max_statement_bytes = 100_000
    sqlite_version = (3, 45, 0)

    # -- settings ---------------------------------------------------------------------------
    @property
    def configured_id(self) -> str:
        """The database id in ``WORKERS_DBMS_ENDPOINT``."""
        m = _PATH.match(urlsplit(self.settings_dict.get("WORKERS_DBMS_ENDPOINT") or "").path)
        if m is None:
            raise ImproperlyConfigured(
                "WORKERS_DBMS_ENDPOINT must look like "
                "wss://<host>/api/v1/databases/<database id>/websocket"
            )
        return m["id"]

    @property
    def database_id(self) -> str:
        """``NAME`` when set (the test runner sets it), else the endpoint's id."""
        return self.settings_dict.get("NAME") or self.configured_id

    @property
    def endpoint(self) -> str:
        parts = urlsplit(self.settings_dict["WORKERS_DBMS_ENDPOINT"])
        m = _PATH.match(parts.path)
        assert m is not None
        path = f"{m['prefix']}{self.database_id}{m['suffix']}"
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))

    def get_connection_params(self) -> dict[str, Any]:
        s = self.settings_dict
        validate(
            s,
            backend="django_dbms",
            required=("WORKERS_DBMS_ENDPOINT",),
            validators={"WORKERS_DBMS_ENDPOINT": is_url("ws", "wss")},
        )
        self.configured_id  # noqa: B018 - validates the path
        _check_id(self.database_id)
        options = dict(s.get("OPTIONS") or {})
        unknown = set(options) - {"timeout", "connect_timeout", "sqlite_version"}
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown django_dbms OPTIONS: {', '.join(sorted(unknown))} "
                "(supported: timeout, connect_timeout, sqlite_version)"
            )
        return {
            "endpoint": self.endpoint,
            "access_id": s.get("WORKERS_DBMS_ACCESS_ID") or None,
            "access_secret": s.get("WORKERS_DBMS_ACCESS_SECRET") or None,
            "timeout": float(options.get("timeout", 30.0)),
            "connect_timeout": float(options.get("connect_timeout", 10.0)),
        }

    def make_transport(self, conn_params: dict[str, Any]) -> DBMSTransport:
        redactor = Redactor(conn_params.get("access_secret"))
        try:
            return DBMSTransport(
                conn_params["endpoint"],
                access_id=conn_params["access_id"],
                access_secret=conn_params["access_secret"],
                timeout=conn_params["timeout"],
                connect_timeout=conn_params["connect_timeout"],
                redactor=redactor,
            )
        except Database.InterfaceError as exc:
            raise ImproperlyConfigured(str(exc)) from None

    # -- parameters -------------------------------------------------------------------------
    def adapt_param(self, value: Any) -> Any:
        """What Python's sqlite3 adapters would do, before JSON."""
        if isinstance(value, decimal.Decimal):
            return str(value)
        if isinstance(value, datetime.datetime):
            return value.isoformat(" ")
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, memoryview | bytearray):
            return bytes(value)
        return value

    def inline_param(self, value: Any) -> str | None:
        """Values JSON cannot carry faithfully become SQL literals.

        JSON numbers bind as REAL on a Durable Object (``5 / 2`` would be 2.5) and lose
        precision past 2**53, so integers are written as integer literals; ``True`` would bind
        as the TEXT ``'true'``; BLOBs have no JSON form (``X'..'``); NaN/inf are not JSON.
        """
        if value is True:
            return "1"
        if value is False:
            return "0"
        if type(value) is int:
            return str(value)
        if isinstance(value, bytes):
            return f"X'{value.hex()}'"
        if isinstance(value, float) and not math.isfinite(value):
            return "NULL" if math.isnan(value) else ("9e999" if value > 0 else "-9e999")
        return None

    # -- transactions -----------------------------------------------------------------------
    def _start_transaction_under_autocommit(self):
        with debug_transaction(self, "BEGIN"), self.wrap_database_errors:
            self.connection.begin()

    def _commit(self):
        # A real COMMIT is sent (the remote base sends none): log it like any backend.
        if self.connection is not None:
            with debug_transaction(self, "COMMIT"), self.wrap_database_errors:
                return self.connection.commit()

    def _rollback(self):
        if self.connection is not None:
            with debug_transaction(self, "ROLLBACK"), self.wrap_database_errors:
                return self.connection.rollback()

    def _set_autocommit(self, autocommit):
        """Autocommit off = writes begin a transaction implicitly (sqlite3's legacy mode);
        switching it back on commits an open transaction, as sqlite3 does."""
        transport = self.connection.transport.inner
        transport.autobegin = not autocommit
        if autocommit and transport.in_transaction:
            with self.wrap_database_errors:
                transport.commit()

    def _savepoint_allowed(self):
        return self.in_atomic_block

    def is_usable(self):
        transport = self.connection.transport.inner
        if not transport.is_usable():
            return False
        return super().is_usable()

    # -- test databases ---------------------------------------------------------------------
    def check_test_database(self) -> None:
        if self.database_id == self.configured_id:
            raise ImproperlyConfigured(
                f"Refusing to use workers-dbms database {self.database_id!r} as the test "
                "database: it is the one WORKERS_DBMS_ENDPOINT names (the test runner empties "
                "it). Set TEST NAME to another id."
            )

    def check_flush_allowed(self) -> None:
        return None

    def wipe_database(self) -> None:
        """Drop every table, view and trigger of the (test) database in one transaction."""
        with self.cursor() as cursor:
            cursor.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%%'")
            rows = cursor.fetchall()
        stmts = ["PRAGMA defer_foreign_keys = on"]
        for kind, name in rows:
            if name.lower().startswith(self.introspection.hidden_prefixes):
                continue
            if kind in ("table", "view", "trigger"):
                stmts.append(f"DROP {kind.upper()} IF EXISTS {self.ops.quote_name(name)}")
        if any(name == "sqlite_sequence" for _, name in rows):
            stmts.append("DELETE FROM sqlite_sequence")
        if len(stmts) > 1:
            self.ensure_connection()
            with self.wrap_database_errors:
                self.connection.transport.inner.script(stmts)
