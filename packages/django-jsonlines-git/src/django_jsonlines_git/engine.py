"""Django's sqlite3 backend running on an in-memory copy of a git commit of JSONL files.

The read and write engines share this wrapper. SQL runs on SQLite (with Django's Python
functions), so the whole ORM works. Before each transaction (an autocommit statement, BEGIN, or
the implicit begin when autocommit is off) the copy is synced to HEAD; only tables whose blob
changed are reloaded. The write engine turns each committed transaction into one git commit.
"""

from __future__ import annotations

import re
import sqlite3
import string
from typing import Any

from django.db.backends.sqlite3 import base as sqlite_base
from django.db.backends.sqlite3.base import SQLiteCursorWrapper
from django.db.backends.utils import debug_transaction
from django_backend_core.settings import validate

from .creation import DatabaseCreation
from .features import DatabaseFeatures
from .gitstore import GitStore, parse_actor
from .mirror import Mirror

OUR_OPTIONS = frozenset({"ref", "author", "committer", "commit_message", "lock_timeout"})
DEFAULT_MESSAGE = "{alias}: {summary}"
DEFAULT_AUTHOR = "Django <django@localhost>"

_LEAD = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*([A-Za-z]+)", re.S)
_WRITE_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.I)
READ, WRITE, TXN, OTHER = "read", "write", "txn", "other"
_KINDS = {
    "SELECT": READ,
    "VALUES": READ,
    "EXPLAIN": READ,
    "BEGIN": TXN,
    "COMMIT": TXN,
    "END": TXN,
    "ROLLBACK": TXN,
    "SAVEPOINT": TXN,
    "RELEASE": TXN,
    "PRAGMA": OTHER,
    "ANALYZE": OTHER,
}


def classify(sql: str) -> tuple[str, str]:
    """(kind, first keyword) of a statement; anything unknown counts as a write."""
    m = _LEAD.match(sql)
    word = m.group(1).upper() if m else ""
    kind = _KINDS.get(word, WRITE)
    if word == "WITH":
        kind = WRITE if _WRITE_WORD.search(sql) else READ
    return kind, word


class CursorWrapper(SQLiteCursorWrapper):
    """Runs the engine's transaction hooks around each statement."""

    db: DatabaseWrapper
    jl_buffer: list[Any] | None = None

    def execute(self, query: str, params: Any = None) -> Any:
        self.jl_buffer = None
        db = self.db
        if db.jl_internal:
            return super().execute(query, params)
        return db.jl_run(self, query, lambda: super(CursorWrapper, self).execute(query, params))

    def executemany(self, query: str, param_list: Any) -> Any:
        self.jl_buffer = None
        db = self.db
        if db.jl_internal:
            return super().executemany(query, param_list)
        return db.jl_run(
            self, query, lambda: super(CursorWrapper, self).executemany(query, param_list)
        )

    def jl_drain(self) -> None:
        """Read all rows now (an autocommit write must finish before its COMMIT)."""
        self.jl_buffer = super().fetchall() if self.description is not None else None

    def fetchone(self) -> Any:
        if self.jl_buffer is None:
            return super().fetchone()
        return self.jl_buffer.pop(0) if self.jl_buffer else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        if self.jl_buffer is None:
            return super().fetchmany(self.arraysize if size is None else size)
        n = self.arraysize if size is None else size
        rows, self.jl_buffer[:n] = self.jl_buffer[:n], []
        return rows

    def fetchall(self) -> list[Any]:
        if self.jl_buffer is None:
            return super().fetchall()
        rows, self.jl_buffer = self.jl_buffer, []
        return rows

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row


class DatabaseWrapper(sqlite_base.DatabaseWrapper):
    """Shared by the read and write engines; `writable` decides which one this is."""

    vendor = "sqlite"
    display_name = "SQLite"  # version checks and messages are about the SQLite library
    writable = False
    features_class = DatabaseFeatures
    creation_class = DatabaseCreation

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store: GitStore | None = None
        self.mirror: Mirror | None = None
        self.jl_internal = False
        self.jl_ref: str | None = None

    # -- settings ----------------------------------------------------------------------------
    def jl_options(self) -> dict[str, Any]:
        opts = self.settings_dict.get("OPTIONS") or {}
        return {k: v for k, v in opts.items() if k in OUR_OPTIONS}

    def jl_validate(self) -> None:
        """Every bad key in one ImproperlyConfigured (django_backend_core.settings)."""
        engine = "write" if self.writable else "read"

        def only(ok: bool) -> Any:
            return lambda _v: None if ok else f"not valid for the {engine} engine"

        def template(value: Any) -> str | None:
            if not isinstance(value, str):
                return "must be a string"
            fields = {f for _, f, _, _ in string.Formatter().parse(value) if f}
            unknown = fields - {"alias", "summary", "tables", "rows"}
            if unknown:
                return f"unknown fields {sorted(unknown)}; available: alias, summary, tables, rows"
            return None

        def actor(value: Any) -> str | None:
            ok = isinstance(value, str) and value.strip()
            return None if ok else 'must be "Name <email>"'

        def seconds(value: Any) -> str | None:
            ok = isinstance(value, (int, float)) and value >= 0
            return None if ok else "must be seconds (a number >= 0)"

        w = self.writable
        validate(
            self.settings_dict,
            backend=f"django_jsonlines_git.{engine}",
            required=("NAME",),
            validators={
                "OPTIONS.ref": only(not w),
                "OPTIONS.author": actor if w else only(False),
                "OPTIONS.committer": actor if w else only(False),
                "OPTIONS.commit_message": template if w else only(False),
                "OPTIONS.lock_timeout": seconds if w else only(False),
            },
        )

    def get_connection_params(self) -> dict[str, Any]:
        settings_dict = self.settings_dict
        self.jl_validate()
        # sqlite3.connect() must not see our keys; swap this wrapper's view, never the shared
        # settings dict (other threads' connections read it).
        opts = {k: v for k, v in (settings_dict["OPTIONS"] or {}).items() if k not in OUR_OPTIONS}
        self.settings_dict = {**settings_dict, "OPTIONS": opts}
        try:
            params = super().get_connection_params()
        finally:
            self.settings_dict = settings_dict
        params["database"] = ":memory:"
        params["uri"] = False
        params["jl_path"] = str(settings_dict["NAME"])
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        params = dict(conn_params)
        path = params.pop("jl_path")
        opts = self.jl_options()
        store = GitStore(path, create=self.writable)
        conn = None
        try:
            conn = super().get_new_connection(params)
            mirror = Mirror(conn)
            if self.writable and store.try_acquire():  # recovers a half-done write
                store.release()
            self.jl_ref = store.resolve(opts["ref"]) if opts.get("ref") else None
            head = self.jl_ref or store.head()
            if self.jl_ref is None:
                self.jl_check_merge(store)
            mirror.sync(head, store.tree(head), store.read_blob)
            if not self.writable:
                conn.execute("PRAGMA query_only = ON")
        except BaseException:
            if conn is not None:
                conn.close()
            store.close()
            raise
        self.store, self.mirror = store, mirror
        return conn

    def create_cursor(self, name: str | None = None) -> CursorWrapper:
        cursor = self.connection.cursor(factory=CursorWrapper)
        cursor.db = self
        return cursor

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            if self.store is not None:
                self.store.close()
            self.store = self.mirror = None

    def is_in_memory_db(self) -> bool:
        return False

    def is_usable(self) -> bool:
        """False once the SQLite copy or the repository handle is gone (stock sqlite3 always
        says True: its in-memory test database is never closed)."""
        if self.connection is None or self.store is None:
            return False
        try:
            self.connection.execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    # -- transaction hooks -------------------------------------------------------------------
    def jl_sync(self) -> None:
        """Outside a transaction: bring the SQLite copy to HEAD (or to OPTIONS['ref'])."""
        store, mirror = self.store, self.mirror
        assert store is not None and mirror is not None
        if self.jl_ref is not None:
            head = self.jl_ref
        else:
            head = store.head()
            if head != mirror.head or not mirror.loaded:
                self.jl_check_merge(store)
        if head != mirror.head or not mirror.loaded:
            self.jl_internal = True
            try:
                mirror.sync(head, store.tree(head), store.read_blob)
            finally:
                self.jl_internal = False

    @staticmethod
    def jl_check_merge(store: GitStore) -> None:
        problem = store.unmerged_conflict()
        if problem:
            raise sqlite3.DatabaseError(f"{store.path}/{problem}")

    def jl_lock(self, in_transaction: bool) -> None:
        """Take the repository lock for a write; fail if HEAD moved under an open transaction."""
        store, mirror = self.store, self.mirror
        assert store is not None and mirror is not None
        if store.locked:
            return
        timeout = float(self.jl_options().get("lock_timeout", 10.0))
        store.acquire(timeout)
        head = store.head()
        if head != mirror.head:
            if in_transaction:
                store.release()
                raise sqlite3.OperationalError(
                    f"database is locked: HEAD of {store.path} moved from {mirror.head} to {head} "
                    "during this transaction (another writer committed); retry the transaction"
                )
            self.jl_sync()

    def jl_run(self, cursor: CursorWrapper, query: str, run: Any) -> Any:
        conn = self.connection
        kind, word = classify(query)
        if word == "VACUUM":
            raise sqlite3.NotSupportedError("VACUUM does nothing for JSONL storage")
        if not conn.in_transaction and kind != OTHER and word not in ("COMMIT", "END", "ROLLBACK"):
            self.jl_sync()
        if not self.writable:
            return run()
        if kind == TXN:
            if word == "BEGIN" and re.search(r"\b(IMMEDIATE|EXCLUSIVE)\b", query, re.I):
                self.jl_lock(in_transaction=False)
            if word in ("COMMIT", "END") and conn.in_transaction:
                return self.jl_commit(run)
            if word == "ROLLBACK" and not re.search(r"\bTO\b", query, re.I):
                try:
                    return run()
                finally:
                    self.jl_unlock()
            return run()
        if kind != WRITE:
            return run()
        self.jl_lock(in_transaction=conn.in_transaction)
        if conn.in_transaction or conn.isolation_level is not None:
            return run()  # part of a transaction: committed by commit()
        # An autocommit statement is a transaction of its own.
        self.jl_internal = True
        try:
            conn.execute("BEGIN")
        finally:
            self.jl_internal = False
        try:
            result = run()
            cursor.jl_drain()
            self.jl_commit(lambda: conn.execute("COMMIT"))
        except BaseException:
            if conn.in_transaction:  # the statement or its COMMIT (deferred FK check) failed
                conn.execute("ROLLBACK")
            self.jl_unlock()
            raise
        return result

    def jl_unlock(self) -> None:
        if self.store is not None:
            self.store.release()

    def jl_commit(self, commit: Any) -> Any:
        """COMMIT the SQLite transaction, then write the changed tables as one git commit."""
        mirror, store = self.mirror, self.store
        assert mirror is not None and store is not None
        if not self.writable:
            return commit()
        self.jl_internal = True
        try:
            changed, ddl = mirror.take_changes()
        finally:
            self.jl_internal = False
        result = commit()  # deferred FK violations surface here, before anything reaches git
        if not changed and not ddl:
            self.jl_unlock()
            return result
        try:
            self.jl_internal = True
            if not store.locked:  # DDL/DML through a path we did not see (defensive)
                store.acquire(float(self.jl_options().get("lock_timeout", 10.0)))
                if store.head() != mirror.head:
                    raise sqlite3.OperationalError(
                        f"HEAD of {store.path} moved during the transaction; changes not written"
                    )
            files, caches, summary, _schema = mirror.export(changed, ddl)
            if files:
                message = self.jl_message(files, summary)
                opts = self.jl_options()
                author = parse_actor(opts.get("author") or self.jl_default_author())
                committer = parse_actor(
                    opts.get("committer") or opts.get("author") or self.jl_default_author()
                )
                head, entries = store.commit(
                    mirror.head, mirror.entries, files, message, author, committer
                )
                mirror.apply(head, entries, caches)
            else:
                mirror.apply(mirror.head, mirror.entries, caches)  # type: ignore[arg-type]
        except BaseException:
            mirror.invalidate()  # SQLite is ahead of git: reload from HEAD next time
            raise
        finally:
            self.jl_internal = False
            self.jl_unlock()
        return result

    def jl_default_author(self) -> str:
        store = self.store
        assert store is not None
        if not hasattr(self, "_jl_author"):
            try:
                reader = store.repo.config_reader()
                name = reader.get_value("user", "name", "")
                email = reader.get_value("user", "email", "")
                self._jl_author = f"{name} <{email}>" if name else DEFAULT_AUTHOR
            except Exception:  # noqa: BLE001 - unreadable git config: fall back
                self._jl_author = DEFAULT_AUTHOR
        return self._jl_author

    def jl_message(self, files: dict[str, bytes | None], summary: list[str]) -> str:
        template = self.jl_options().get("commit_message") or DEFAULT_MESSAGE
        tables = [s.split(" ", 1)[0] for s in summary]
        if "schema.sql" in files:
            summary = [*summary, "schema.sql"]
        rows = 0
        for s in summary:
            m = re.search(r"\+(\d+) ~(\d+) -(\d+)", s)
            if m:
                rows += sum(int(x) for x in m.groups())
        return template.format(
            alias=self.alias,
            summary="; ".join(summary) or "schema",
            tables=", ".join(tables) or "schema",
            rows=rows,
        )

    # -- Django transaction API --------------------------------------------------------------
    def _commit(self) -> None:
        if self.connection is not None:
            with debug_transaction(self, "COMMIT"), self.wrap_database_errors:
                self.jl_commit(self.connection.commit)

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self.jl_unlock()
