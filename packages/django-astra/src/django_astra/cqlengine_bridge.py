"""cqlengine talks to Django's connection for the alias, resolved per thread, on first use.

cqlengine keeps a process-wide registry of named connections. We register one lightweight
entry per django_astra alias whose ``session``/``cluster`` resolve to
``django.db.connections[alias]`` at call time, so cqlengine queries use the calling thread's
Django connection (connect on first use, CONN_MAX_AGE, close(), DEBUG query log all apply).
"""

from __future__ import annotations

import time
from _thread import get_ident as _get_ident
from typing import Any

from cassandra.cqlengine import connection as cqlengine_connection
from django.conf import settings as _settings


class _SessionProxy:
    """What cqlengine sees as ``conn.session``: prepares its statements and maps errors."""

    def __init__(self, alias: str):
        self.alias = alias

    @property
    def _wrapper(self) -> Any:
        from django.db import connections

        return connections[self.alias]

    @property
    def row_factory(self) -> Any:
        from cassandra.query import dict_factory

        return dict_factory

    def execute(self, query: Any, params: Any = None, timeout: Any = None, **kwargs: Any) -> Any:
        wrapper = self._wrapper
        with wrapper.wrap_database_errors:
            wrapper.ensure_connection()
            start = time.monotonic()
            try:
                return wrapper.connection.execute(query, params, timeout=_timeout(timeout))
            finally:
                if wrapper.queries_logged:
                    text = getattr(query, "query_string", query)
                    wrapper.queries_log.append(
                        {
                            "sql": f"{text} -- params: {params!r}" if params else str(text),
                            "time": f"{time.monotonic() - start:.3f}",
                        }
                    )

    def __getattr__(self, name: str) -> Any:
        wrapper = self._wrapper
        wrapper.ensure_connection()
        return getattr(wrapper.connection.session, name)


def execute_prepared(alias: str, cql: str, values: list[Any]) -> list[Any]:
    """Run a ``?``-style statement prepared once per connection; rows as dicts."""
    from django.db import connections

    return execute_prepared_on(connections[alias], cql, values)


def execute_prepared_on(wrapper: Any, cql: str, values: list[Any]) -> list[Any]:
    """:func:`execute_prepared` on a Django connection already looked up (the ORM's hot path).

    Keeps what ``connection.cursor()`` guarantees (health check, connect on first use, thread
    check, DEBUG query log, Django exception classes) without building a cursor.
    """
    if wrapper.health_check_enabled and not wrapper.health_check_done:
        wrapper.close_if_health_check_failed()
    conn = wrapper.connection
    if conn is None:
        wrapper.ensure_connection()
        conn = wrapper.connection
    if wrapper._thread_ident != _get_ident():
        wrapper.validate_thread_sharing()
    try:
        if not (wrapper.force_debug_cursor or _debug()):
            return conn.run_prepared(cql, values)
        start = time.monotonic()
        try:
            return conn.run_prepared(cql, values)
        finally:
            wrapper.queries_log.append(
                {"sql": f"{cql} -- params: {values!r}", "time": f"{time.monotonic() - start:.3f}"}
            )
    except Exception:
        with wrapper.wrap_database_errors:
            raise


def execute_statement(
    model: Any, statement: Any, consistency_level: Any, timeout: Any, connection: Any = None
) -> Any:
    """cqlengine's ``query._execute_statement`` for django_astra aliases.

    cqlengine serialises the partition key into a routing key on every statement; ours are
    prepared (by CQL text, once per connection), and the driver routes prepared statements
    from their bind metadata, so that work is skipped. Other cqlengine connections (registered
    by the application itself) go through cqlengine unchanged.
    """
    from cassandra.cqlengine.query import _execute_statement
    from cassandra.query import SimpleStatement

    alias = connection or model._get_connection()
    entry = cqlengine_connection._connections.get(alias)
    if not isinstance(entry, DjangoConnection):
        return _execute_statement(model, statement, consistency_level, timeout, connection)
    query = SimpleStatement(
        str(statement), consistency_level=consistency_level, fetch_size=statement.fetch_size
    )
    return entry._proxy.execute(query, statement.get_context(), timeout=timeout)


def _debug() -> bool:
    """``settings.DEBUG`` (what ``queries_logged`` reads); LazySettings caches the value itself."""
    return bool(_settings.DEBUG)


def _timeout(t: Any) -> Any:
    from cassandra.cqlengine.connection import NOT_SET

    return None if t is NOT_SET else t


class DjangoConnection(cqlengine_connection.Connection):
    """A cqlengine connection entry bound to a Django alias (no network until used)."""

    def __init__(self, alias: str):
        self.name = alias
        self.alias = alias
        self.hosts = []
        self.consistency = None
        self.retry_connect = False
        self.lazy_connect = False
        self.cluster_options = {}
        self._proxy = _SessionProxy(alias)

    @property
    def session(self) -> Any:  # type: ignore[override]
        return self._proxy

    @session.setter
    def session(self, value: Any) -> None:
        pass

    @property
    def cluster(self) -> Any:  # type: ignore[override]
        from django.db import connections

        w = connections[self.alias]
        w.ensure_connection()
        return w.connection.cluster

    @cluster.setter
    def cluster(self, value: Any) -> None:
        pass

    def setup(self) -> None:
        pass

    def handle_lazy_connect(self) -> None:
        pass


def register(alias: str, *, default: bool) -> None:
    conn = DjangoConnection(alias)
    cqlengine_connection._connections[alias] = conn
    if default:
        cqlengine_connection._connections[cqlengine_connection.DEFAULT_CONNECTION] = conn


def astra_aliases() -> list[str]:
    from django.conf import settings

    return [a for a, d in settings.DATABASES.items() if d.get("ENGINE") == "django_astra"]
