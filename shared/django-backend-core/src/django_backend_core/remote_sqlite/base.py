"""DatabaseWrapper for a SQLite that is reachable only through a transport.

Subclasses provide :meth:`RemoteSQLiteDatabaseWrapper.make_transport` (and usually
``get_connection_params``); everything else — the dialect without Python functions, the
atomic-batch context, hidden internal tables, test-database safety hooks — lives here.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper
from django.utils.asyncio import async_unsafe
from django.utils.functional import cached_property

from .. import dbapi as Database
from ..params import translate
from ..transport import Result, Statement, Transport
from .creation import DatabaseCreation
from .features import DatabaseFeatures
from .introspection import DatabaseIntrospection
from .operations import DatabaseOperations
from .schema import DatabaseSchemaEditor

_LEADING = re.compile(r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/)*", re.S)
_READ_KEYWORDS = ("SELECT", "WITH", "VALUES", "EXPLAIN")
_DROP_TABLE = re.compile(r"^\s*DROP\s+TABLE\b", re.I)
_RETURNING = re.compile(r"\bRETURNING\b", re.I)


def is_read(sql: str) -> bool:
    """True if a statement returns rows (so it cannot be queued into a batch)."""
    head = _LEADING.sub("", sql, count=1)
    word = head[:10].split(None, 1)[0].upper() if head.strip() else ""
    word = word.split("(", 1)[0]
    if word in _READ_KEYWORDS:
        return True
    if word == "PRAGMA":
        return "=" not in head
    return bool(_RETURNING.search(head))


class QueueingTransport:
    """Wraps a transport; inside :meth:`queue` writes are collected instead of sent.

    Reads raise NotSupportedError there: their answer would not reflect the queued writes,
    and pretending otherwise is how buffering "transactions" lose data.
    """

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.metrics = getattr(inner, "metrics", None)
        self.queued: list[Statement] | None = None
        #: Inside a schema editor of a store whose foreign keys cannot be disabled: DROP TABLE
        #: statements wait here and go out together (see :meth:`flush_drops`).
        self.deferred_drops: list[Statement] | None = None

    def execute(self, stmt: Statement) -> Result:
        if self.queued is None:
            if self.deferred_drops is not None:
                if _DROP_TABLE.match(stmt.sql):
                    self.deferred_drops.append(stmt)
                    return Result(rowcount=-1)
                self.flush_drops()
            return self.inner.execute(stmt)
        self._queue([stmt])
        return Result(rowcount=-1)

    def flush_drops(self) -> None:
        """Send the waiting DROP TABLEs as one batch with deferred foreign keys.

        Dropping a referenced table alone fails (its implicit DELETE violates the referencing
        rows' keys); dropping parent and children in one batch with ``defer_foreign_keys``
        leaves no violation at its end. Any other statement sends the waiting drops first, so
        order and visibility are those of immediate execution.
        """
        drops = self.deferred_drops
        if drops:
            self.deferred_drops = []
            self.inner.batch([Statement("PRAGMA defer_foreign_keys = on", []), *drops])

    def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        if self.queued is None:
            if self.deferred_drops:
                self.flush_drops()
            return self.inner.batch(stmts)
        self._queue(stmts)
        return [Result(rowcount=-1) for _ in stmts]

    def _queue(self, stmts: Sequence[Statement]) -> None:
        assert self.queued is not None
        for stmt in stmts:
            if is_read(stmt.sql):
                raise Database.NotSupportedError(
                    "A statement that returns rows cannot run inside an atomic batch: the "
                    "queued writes have not been sent yet, so its answer would be wrong. "
                    "Run reads before or after the batch (INSERT ... RETURNING, model.save() "
                    "without an explicit primary key and QuerySet.delete() with related "
                    "objects all read)."
                )
        self.queued.extend(stmts)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class RemoteSQLiteDatabaseWrapper(SQLiteDatabaseWrapper):
    """Django's sqlite3 wrapper over :class:`~django_backend_core.dbapi.Connection`."""

    Database = Database
    SchemaEditorClass = DatabaseSchemaEditor
    #: The DB-API connection (``dbapi.Connection``) or None, as on every Django wrapper.
    connection: Any
    creation_class = DatabaseCreation
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    ops_class = DatabaseOperations

    #: The server's SQLite version (``SELECT sqlite_version()`` is refused by D1).
    sqlite_version: tuple[int, ...] = (3, 45, 0)
    #: Statement limits of the store (None = SQLite's defaults).
    max_query_params: int | None = 32766
    max_statement_bytes: int | None = None
    #: Placeholder style of the transport.
    placeholder = "qmark"
    #: Stores without transactions whose foreign keys cannot be disabled: schema editors send
    #: consecutive DROP TABLEs as one batch (dropping related tables one by one fails).
    defer_schema_drops = False

    operators = {
        k: v for k, v in SQLiteDatabaseWrapper.operators.items() if k not in ("regex", "iregex")
    }

    # -- to implement ------------------------------------------------------------------------
    def make_transport(self, conn_params: dict[str, Any]) -> Transport:
        raise NotImplementedError("subclasses build their transport here")

    def adapt_param(self, value: Any) -> Any:
        """Convert a parameter before it is sent (subclasses extend)."""
        return value

    def inline_param(self, value: Any) -> str | None:
        """Return a SQL literal to put instead of a placeholder, or None to bind it."""
        return None

    # -- connection --------------------------------------------------------------------------
    def get_connection_params(self) -> dict[str, Any]:
        return {"OPTIONS": dict(self.settings_dict.get("OPTIONS") or {})}

    def get_database_version(self):
        return self.server_sqlite_version

    @cached_property
    def server_sqlite_version(self) -> tuple[int, ...]:
        """``OPTIONS["sqlite_version"]`` if set, else the store's :attr:`sqlite_version`.

        The servers refuse ``sqlite_version()``, so the version is declared, not asked. A local
        server runs the SQLite its Python links (Debian 12: 3.40), which may be older than the
        store's; declaring it keeps features such as ORDER BY inside aggregates (3.44) honest.
        """
        raw = (self.settings_dict.get("OPTIONS") or {}).get("sqlite_version")
        if raw is None:
            return tuple(self.sqlite_version)
        parts = raw.split(".") if isinstance(raw, str) else list(raw)
        try:
            version = tuple(int(p) for p in parts)
        except (TypeError, ValueError):
            version = ()
        if not 2 <= len(version) <= 3 or version[0] != 3:
            raise ImproperlyConfigured(
                f'OPTIONS["sqlite_version"] must look like "3.45.0", not {raw!r}.'
            )
        return version

    @async_unsafe
    def get_new_connection(self, conn_params):
        transport = QueueingTransport(self.make_transport(conn_params))
        return Database.Connection(
            transport,
            placeholder=self.placeholder,
            adapt_param=self.adapt_param,
            inline_param=self.inline_param,
        )

    def init_connection_state(self):
        # No PRAGMA round trips: the servers we target always enforce foreign keys.
        BaseDatabaseWrapper.init_connection_state(self)

    def create_cursor(self, name=None):
        return self.connection.cursor()

    def is_in_memory_db(self):
        return False

    @async_unsafe
    def ensure_connection(self):
        # A shallow copy of this wrapper (copy.copy, as Django's own tests make) shares the
        # DB-API connection; closing the copy closes ours too. Reconnect instead of failing
        # every later query, unless a transaction was open on it (that must surface).
        conn = self.connection
        if conn is not None and getattr(conn, "closed", False) and not self.in_atomic_block:
            self.connection = None
        super().ensure_connection()

    @async_unsafe
    def close(self):
        self.validate_thread_sharing()
        BaseDatabaseWrapper.close(self)

    def _set_autocommit(self, autocommit):
        # Every request is its own implicit transaction; there is nothing to switch.
        pass

    def _start_transaction_under_autocommit(self):
        # features.supports_transactions is False: atomic() cannot roll anything back here
        # (documented); the explicit atomic batch is the all-or-nothing tool.
        pass

    def _savepoint_allowed(self):
        return False

    def _commit(self):
        # Nothing is sent (every request commits by itself): no "COMMIT" in connection.queries.
        if self.connection is not None:
            with self.wrap_database_errors:
                return self.connection.commit()

    def _rollback(self):
        if self.connection is not None:
            with self.wrap_database_errors:
                return self.connection.rollback()

    def is_usable(self):
        try:
            self.connection.cursor().execute("SELECT 1")
        except Database.Error:
            return False
        return True

    def disable_constraint_checking(self):
        # Foreign keys cannot be switched off on these servers; schema changes that rebuild a
        # table run as one atomic batch with PRAGMA defer_foreign_keys = on instead.
        return True

    def enable_constraint_checking(self):
        pass

    # -- atomic batches ----------------------------------------------------------------------
    @contextlib.contextmanager
    def atomic_batch(self) -> Iterator[list[Statement]]:
        """Queue the writes made inside and send them as one atomic batch on exit.

        Rowcounts inside are unknown (-1); statements that return rows raise
        NotSupportedError. If the block raises, nothing is sent.
        """
        self.ensure_connection()
        transport: QueueingTransport = self.connection.transport
        if transport.queued is not None:
            yield transport.queued  # nested: the outer batch sends
            return
        queued: list[Statement] = []
        transport.queued = queued
        try:
            yield queued
        except BaseException:
            transport.queued = None
            raise
        transport.queued = None
        if queued:
            with self.wrap_database_errors:
                transport.batch(queued)

    def execute_batch(self, statements: Sequence[tuple[str, Any]]) -> list[Result]:
        """Send Django-style ``(sql, params)`` pairs as one atomic batch (one round trip)."""
        self.ensure_connection()
        stmts = []
        for sql, params in statements:
            if params is not None:
                params = [self.adapt_param(p) for p in params]
            text, args = translate(sql, params, self.placeholder, self.inline_param)
            stmts.append(Statement(text, args))
        transport: QueueingTransport = self.connection.transport
        if transport.queued is not None:
            transport._queue(stmts)
            return [Result(rowcount=-1) for _ in stmts]
        with self.wrap_database_errors:
            results = transport.batch(stmts)  # sends waiting DROP TABLEs first
        if self.queries_logged:
            for sql, _params in statements:
                self.queries_log.append({"sql": f"{sql} [batch]", "time": "0.000"})
        return results

    # -- test databases ----------------------------------------------------------------------
    def check_test_database(self) -> None:
        """Raise unless the current database may be emptied by the test runner."""

    def check_flush_allowed(self) -> None:
        """Raise if flushing the current database must not happen (see check_test_database)."""

    def wipe_database(self) -> None:
        """Drop every user table, view, index and trigger in one atomic batch."""
        with self.cursor() as cursor:
            cursor.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%%'")
            rows = cursor.fetchall()
        hidden = self.introspection.hidden_prefixes
        stmts = [("PRAGMA defer_foreign_keys = on", None)]
        for kind, name in rows:
            if name.lower().startswith(hidden) or kind not in ("table", "view", "trigger"):
                continue
            stmts.append((f"DROP {kind.upper()} IF EXISTS {self.ops.quote_name(name)}", None))
        if any(name == "sqlite_sequence" for _, name in rows):
            stmts.append(("DELETE FROM sqlite_sequence", None))
        if len(stmts) > 1:
            self.execute_batch(stmts)
