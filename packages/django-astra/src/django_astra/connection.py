"""One Django connection = one driver Cluster + Session, created on first use.

Nothing here touches the driver's classes globally: settings become Cluster kwargs and one
ExecutionProfile owned by this connection. Repeated statements are prepared once per
connection and executed by id (the driver re-prepares transparently after a server restart).
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.query import BatchStatement, BatchType, SimpleStatement, dict_factory
from django_backend_core import dbapi
from django_backend_core.metrics import RoundTrips
from django_backend_core.params import translate
from django_backend_core.secrets import Redactor

from .errors import map_error

_NAMED = re.compile(r"%\((\w+)\)s")
PREPARED_CACHE_SIZE = 512

_LEGACY_PROFILE_KEYS = ("load_balancing_policy", "retry_policy", "default_retry_policy")

#: Clusters not shut down yet, for the exit hook below.
_OPEN_CLUSTERS: weakref.WeakSet[Cluster] = weakref.WeakSet()
_exit_hook = threading.Lock()
_exit_hook_registered = False


def _shutdown_open_clusters() -> None:
    """Shut down clusters still open at interpreter exit (Django never closes connections then).

    The driver's own ``atexit`` hook runs after ``concurrent.futures`` has stopped its
    executors, so its scheduler thread fails with "cannot schedule new futures after
    shutdown". Registered like ``concurrent.futures`` (and after it), this runs first.
    """
    for cluster in list(_OPEN_CLUSTERS):
        try:
            cluster.shutdown()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def _track(cluster: Cluster) -> None:
    global _exit_hook_registered
    _OPEN_CLUSTERS.add(cluster)
    with _exit_hook:
        if _exit_hook_registered:
            return
        register = getattr(threading, "_register_atexit", None)
        if register is not None:
            try:
                register(_shutdown_open_clusters)
            except RuntimeError:  # the interpreter is already shutting down
                return
        _exit_hook_registered = True


def _consistency(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, int):
        return value
    try:
        return ConsistencyLevel.name_to_value[str(value).upper()]
    except KeyError:
        raise dbapi.ProgrammingError(f"Unknown consistency level {value!r}") from None


class CassandraConnection:
    """The object Django keeps in ``DatabaseWrapper.connection``."""

    def __init__(self, params: dict[str, Any], redactor: Redactor):
        self.redactor = redactor
        self.keyspace: str = params["keyspace"]
        self.prepared: OrderedDict[str, Any] = OrderedDict()
        self._named: dict[
            str, tuple[str, list[str]]
        ] = {}  # cqlengine %(n)s text -> (? text, names)
        # Requests the driver sent for us (PREPAREs included); statements = CQL statements run.
        self.metrics = RoundTrips()
        self._lock = threading.Lock()
        cluster_kwargs = dict(params["cluster"])
        profile_kwargs: dict[str, Any] = {"row_factory": dict_factory}
        for key in _LEGACY_PROFILE_KEYS:
            if key in cluster_kwargs:
                profile_kwargs["retry_policy" if "retry" in key else key] = cluster_kwargs.pop(key)
        profile_kwargs.setdefault(
            "load_balancing_policy", TokenAwarePolicy(DCAwareRoundRobinPolicy())
        )
        self.astra = params["astra"]
        cl = _consistency(
            params.get("consistency"),
            ConsistencyLevel.LOCAL_QUORUM if self.astra else ConsistencyLevel.LOCAL_ONE,
        )
        if self.astra and cl in (
            ConsistencyLevel.ONE,
            ConsistencyLevel.ANY,
            ConsistencyLevel.LOCAL_ONE,
        ):
            raise dbapi.ProgrammingError(
                f"Astra DB refuses writes at {ConsistencyLevel.value_to_name[cl]}; use LOCAL_QUORUM (the default)."
            )
        profile_kwargs["consistency_level"] = cl
        profile_kwargs["serial_consistency_level"] = _consistency(
            params.get("serial_consistency"), ConsistencyLevel.LOCAL_SERIAL
        )
        if params.get("request_timeout") is not None:
            profile_kwargs["request_timeout"] = float(params["request_timeout"])
        cluster_kwargs["execution_profiles"] = {
            EXEC_PROFILE_DEFAULT: ExecutionProfile(**profile_kwargs)
        }
        try:
            self.cluster = Cluster(**cluster_kwargs)
            _track(self.cluster)
            self.session = self.cluster.connect()
        except Exception as e:  # noqa: BLE001 - mapped to OperationalError & co
            try:
                self.cluster.shutdown()
            except Exception:  # noqa: BLE001
                pass
            raise map_error(e, redactor) from None
        if self.cluster.metadata.dbaas and not self.astra:
            # The server said it is Astra (PRODUCT_TYPE=DATASTAX_APOLLO): its write guardrail applies.
            self.astra = True
            prof = self.cluster.profile_manager.default
            if params.get("consistency") is None:
                prof.consistency_level = ConsistencyLevel.LOCAL_QUORUM
        self.use_keyspace(self.keyspace, missing_ok=True)

    # -- keyspace
    def keyspace_exists(self, name: str) -> bool:
        return name in self.cluster.metadata.keyspaces

    def use_keyspace(self, name: str, *, missing_ok: bool = False) -> None:
        self.keyspace = name
        if missing_ok and not self.keyspace_exists(name):
            return
        try:
            self.session.set_keyspace(name)
        except Exception as e:  # noqa: BLE001
            raise map_error(e, self.redactor) from None

    # -- statements
    def _prepare(self, cql: str) -> Any:
        with self._lock:
            ps = self.prepared.get(cql)
            if ps is not None:
                self.prepared.move_to_end(cql)
                return ps
        ps = self.session.prepare(cql)
        self.metrics.record(statements=0, sent=len(cql))
        with self._lock:
            self.prepared[cql] = ps
            if len(self.prepared) > PREPARED_CACHE_SIZE:
                self.prepared.popitem(last=False)
        return ps

    def statement(
        self, cql: str, params: Sequence[Any] | Mapping[str, Any] | None
    ) -> tuple[Any, Any]:
        """Django-style ``%s`` / ``%(name)s`` CQL to a prepared statement and its bound values."""
        if params is None:
            return SimpleStatement(cql), None
        if isinstance(params, Mapping):
            hit = self._named.get(cql)
            if hit is None:
                hit = (_NAMED.sub("?", cql), _NAMED.findall(cql))
                if len(self._named) > PREPARED_CACHE_SIZE:
                    self._named.clear()
                self._named[cql] = hit
            q, names = hit
            values = [_unwrap(params[n]) for n in names]
        else:
            q, values = translate(cql, list(params), style="qmark")
            values = [_unwrap(v) for v in values]
        if q.lstrip()[:5].upper() == "BEGIN":
            # Batches vary in length; bind them client-side instead of filling the prepared cache.
            return SimpleStatement(cql), params
        return self._prepare(q), values

    def execute(self, cql: str | Any, params: Any = None, *, timeout: Any = None) -> Any:
        try:
            if isinstance(cql, str):
                stmt, values = self.statement(cql, params)
            else:
                stmt, values = cql, params
                if (
                    isinstance(stmt, SimpleStatement)
                    and isinstance(values, Mapping)
                    and not _is_batch(stmt)
                ):
                    prepared, values = self.statement(stmt.query_string, values)
                    if (
                        stmt.fetch_size
                        or stmt.consistency_level is not None
                        or stmt.serial_consistency_level is not None
                    ) and hasattr(prepared, "bind"):
                        # Per-statement settings (cqlengine's .consistency(), fetch size) go on
                        # the bound statement; the prepared one carries none of them.
                        b = prepared.bind(values)
                        if stmt.fetch_size:
                            b.fetch_size = stmt.fetch_size
                        if stmt.consistency_level is not None:
                            b.consistency_level = stmt.consistency_level
                        if stmt.serial_consistency_level is not None:
                            b.serial_consistency_level = stmt.serial_consistency_level
                        stmt, values = b, None
                    else:
                        stmt = prepared
            self.metrics.record()
            if timeout is None:
                return self.session.execute(stmt, values)
            return self.session.execute(stmt, values, timeout=timeout)
        except dbapi.Error:
            raise
        except Exception as e:  # noqa: BLE001
            raise map_error(e, self.redactor) from None

    def run_prepared(self, cql: str, values: list[Any]) -> list[Any]:
        """``?``-style CQL, prepared once per connection; returns the rows (dicts)."""
        try:
            ps = self.prepared.get(cql) or self._prepare(cql)
            m = self.metrics
            m.requests += 1
            m.statements += 1
            return self.session.execute(ps, values).current_rows
        except dbapi.Error:
            raise
        except Exception as e:  # noqa: BLE001
            raise map_error(e, self.redactor) from None

    def batch(
        self, statements: Sequence[tuple[str, Any]], *, logged: bool = True, counter: bool = False
    ) -> Any:
        kind = (
            BatchType.COUNTER if counter else (BatchType.LOGGED if logged else BatchType.UNLOGGED)
        )
        b = BatchStatement(batch_type=kind)
        try:
            for cql, params in statements:
                stmt, values = self.statement(cql, params)
                b.add(stmt, values)
            self.metrics.record(statements=len(statements))
            return self.session.execute(b)
        except dbapi.Error:
            raise
        except Exception as e:  # noqa: BLE001
            raise map_error(e, self.redactor) from None

    def is_usable(self) -> bool:
        if self.session.is_shutdown:
            return False
        try:
            self.session.execute("SELECT key FROM system.local WHERE key='local'", timeout=5)
        except Exception:  # noqa: BLE001
            return False
        return True

    def close(self) -> None:
        self.cluster.shutdown()


def _unwrap(v: Any) -> Any:
    # cqlengine wraps IN values in InQuoter; bound as a list for ``IN ?``.
    inner = getattr(v, "value", None)
    if inner is not None and type(v).__name__ in ("InQuoter", "ValueQuoter"):
        return list(inner) if type(v).__name__ == "InQuoter" else inner
    return v


def _is_batch(stmt: Any) -> bool:
    return stmt.query_string.lstrip()[:5].upper() == "BEGIN"


def connection_params(settings_dict: dict[str, Any]) -> dict[str, Any]:
    """Settings → Cluster kwargs. No network."""
    from django.core.exceptions import ImproperlyConfigured

    opts = dict(settings_dict.get("OPTIONS") or {})
    conn_opts = dict(opts.get("connection") or {})
    for legacy in ("lazy_connect", "retry_connect", "consistency", "session"):
        v = conn_opts.pop(legacy, None)
        if legacy == "consistency" and v is not None:
            opts.setdefault("consistency", v)
        if legacy == "session" and v:
            raise ImproperlyConfigured(
                "OPTIONS['connection']['session'] is not supported: django-astra never patches the driver's "
                "Session class. Use OPTIONS['consistency'] / OPTIONS['request_timeout'] instead."
            )
    keyspace = settings_dict.get("NAME")
    if not keyspace:
        raise ImproperlyConfigured(
            "settings.DATABASES is improperly configured: NAME (the keyspace) is required."
        )
    cloud = conn_opts.get("cloud")
    astra = bool(cloud) or bool(opts.get("astra"))
    if not cloud:
        hosts = conn_opts.pop("contact_points", None) or [
            h.strip() for h in str(settings_dict.get("HOST") or "127.0.0.1").split(",") if h.strip()
        ]
        conn_opts["contact_points"] = hosts
        if settings_dict.get("PORT"):
            conn_opts.setdefault("port", int(settings_dict["PORT"]))
        conn_opts.setdefault("protocol_version", 4)
    if settings_dict.get("USER") and "auth_provider" not in conn_opts:
        conn_opts["auth_provider"] = PlainTextAuthProvider(
            settings_dict["USER"], settings_dict.get("PASSWORD") or ""
        )
    conn_opts.setdefault("connect_timeout", float(opts.get("connect_timeout", 10)))
    return {
        "keyspace": keyspace,
        "cluster": conn_opts,
        "astra": astra,
        "consistency": opts.get("consistency"),
        "serial_consistency": opts.get("serial_consistency"),
        "request_timeout": opts.get("request_timeout"),
        "replication": opts.get("replication"),
        "started": time.time(),
    }
