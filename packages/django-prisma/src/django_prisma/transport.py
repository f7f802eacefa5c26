"""Prisma 7 HTTP transport: raw SQL over ``/query`` and interactive transactions.

One keep-alive ``httpx.Client`` per Django connection. The client keeps a cookie jar
(Accelerate routes interactive transactions by cookie) and echoes the last
``Accelerate-Query-Engine-Jwt`` it received, as ``@prisma/client`` does. Transactions start
lazily: ``begin()`` only marks the connection, the first statement opens
``/transaction/start``; so ``atomic()`` with N statements costs N + 2 requests and an empty
``atomic()`` costs none.
"""

from __future__ import annotations

import base64
import email.utils
import json
import random
import re
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from django_backend_core import dbapi
from django_backend_core.metrics import RoundTrips
from django_backend_core.secrets import Redactor
from django_backend_core.transport import Result, Statement

from .errors import map_error
from .wire import add_casts, decode_rows, encode_args

__all__ = ["CacheStrategy", "PrismaTransport", "parse_url"]

DEFAULT_ENGINE_HASH = "7.2.0"
_TAG_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_ROW_RETURNING = re.compile(
    r"^\s*(\(\s*)*(select|with|values|show|explain|table|fetch)\b", re.IGNORECASE
)
_RETURNING = re.compile(r"\breturning\b", re.IGNORECASE)
# Statements that only read: safe to send again after a transient failure.
_READ_ONLY = re.compile(r"^\s*(\(\s*)*(select|show|explain|values|table|fetch)\b", re.IGNORECASE)
# Gateway/overload answers worth a retry (a 500 only when it carries no Prisma error).
_RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class CacheStrategy:
    """Accelerate cache strategy: ``ttl``/``swr`` seconds and up to 5 invalidation tags."""

    ttl: int = 0
    swr: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if isinstance(self.tags, str):
            raise ValueError("CacheStrategy.tags must be a list of strings, not one string")
        object.__setattr__(self, "tags", tuple(self.tags))
        for name in ("ttl", "swr"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"CacheStrategy.{name} must be a non-negative int, got {value!r}")
        validate_tags(self.tags)

    def headers(self) -> dict[str, str]:
        headers = {"cache-control": f"max-age={self.ttl},stale-while-revalidate={self.swr}"}
        if self.tags:
            headers["accelerate-cache-tags"] = ",".join(self.tags)
        return headers


def validate_tags(tags: Sequence[str]) -> None:
    """Accelerate's rules: at most 5 tags, each ``[A-Za-z0-9_]``, at most 64 characters."""
    if isinstance(tags, str):
        raise ValueError("cache tags must be a list of strings, not one string")
    if len(tags) > 5:
        raise ValueError(f"Accelerate accepts at most 5 cache tags, got {len(tags)}")
    for tag in tags:
        if not isinstance(tag, str) or not _TAG_RE.match(tag):
            raise ValueError(f"invalid cache tag {tag!r}: use 1-64 characters from [A-Za-z0-9_]")


def parse_url(url: str) -> tuple[str, str | None]:
    """``prisma://`` / ``prisma+postgres://HOST/?api_key=KEY`` -> (http(s) base URL, key).

    http is used only for localhost / 127.0.0.1 / [::1], as @prisma/client does.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("prisma", "prisma+postgres", "http", "https"):
        raise ValueError(
            "the Prisma URL must start with prisma:// or prisma+postgres:// "
            f"(got scheme {parts.scheme!r})"
        )
    query = urllib.parse.parse_qs(parts.query)
    key = query.get("api_key", [None])[0]
    host = parts.hostname or ""
    if parts.scheme in ("http", "https"):
        scheme = parts.scheme
    else:
        local = host in ("localhost", "127.0.0.1", "::1") or "localhost" in host
        scheme = "http" if local else "https"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    base = f"{scheme}://{netloc}{parts.path.rstrip('/')}"
    return base, key


def is_local_dev_key(api_key: str) -> bool:
    """Whether ``api_key`` is a local ``prisma dev`` key (base64url JSON naming a
    ``databaseUrl``), as opposed to an Accelerate / Prisma Postgres key."""
    try:
        data = json.loads(base64.urlsafe_b64decode(api_key + "=" * (-len(api_key) % 4)))
    except (ValueError, TypeError):
        return False
    return isinstance(data, dict) and "databaseUrl" in data


def is_read_only(sql: str) -> bool:
    return bool(_READ_ONLY.match(sql))


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None if absent/invalid."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Transient(Exception):
    """A failed attempt that may be retried: ``error`` is what to raise if it is not."""

    def __init__(self, error: Exception, *, sent: bool, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.sent = sent  # the request may have reached the server
        self.wait = wait  # the server's Retry-After, in seconds


def returns_rows(sql: str) -> bool:
    """Whether to send ``sql`` as a ``query`` (rows back) rather than ``execute`` (a count)."""
    return bool(_ROW_RETURNING.match(sql) or _RETURNING.search(sql))


class PrismaTransport:
    """Sends statements to a Prisma 7 query-plan executor (Accelerate or ``prisma dev``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        engine_hash: str = DEFAULT_ENGINE_HASH,
        timeout: float = 30.0,
        transaction_timeout_ms: int = 15_000,
        max_wait_ms: int = 5_000,
        isolation_level: str | None = None,
        redactor: Redactor | None = None,
        metrics: RoundTrips | None = None,
        http_transport: httpx.BaseTransport | None = None,
        typed_params: bool = True,
        naive_datetimes: bool = False,
        autocommit_write_transactions: bool = False,
        retries: int = 3,
        retry_backoff: float = 0.05,
        retry_max_wait: float = 5.0,
    ) -> None:
        self.base_url = base_url
        self.naive_datetimes = naive_datetimes
        self.autocommit_write_transactions = autocommit_write_transactions
        self.retries = max(0, int(retries))
        self.retry_backoff = retry_backoff
        self.retry_max_wait = retry_max_wait
        self.typed_params = typed_params
        self.redactor = redactor or Redactor()
        self.redactor.add(api_key)
        self.metrics = metrics if metrics is not None else RoundTrips()
        self.transaction_timeout_ms = transaction_timeout_ms
        self.max_wait_ms = max_wait_ms
        self.isolation_level = isolation_level
        self.cache_strategy: CacheStrategy | None = None
        self.last_cache_status: str | None = None
        self.last_response_headers: dict[str, str] = {}
        self._jwt: str | None = None
        self._tx_id: str | None = None
        self._tx_pending = False
        self._closed = False
        self._client = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "Prisma-Engine-Hash": engine_hash,
                "Prisma-Engine-Version": engine_hash,
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            timeout=timeout,
            transport=http_transport,
        )

    def __repr__(self) -> str:  # never shows the key
        state = "tx" if self._tx_id else ("pending" if self._tx_pending else "autocommit")
        return f"<PrismaTransport {self.base_url} {state}>"

    # --- transaction state -----------------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        return self._tx_pending or self._tx_id is not None

    @property
    def transaction_id(self) -> str | None:
        return self._tx_id

    def begin(self) -> None:
        """Mark a transaction; it is opened on the server with the first statement."""
        if not self.in_transaction:
            self._tx_pending = True

    def commit(self) -> None:
        self._end("commit")

    def rollback(self) -> None:
        self._end("rollback")

    def _end(self, action: str) -> None:
        tx_id, self._tx_id, self._tx_pending = self._tx_id, None, False
        if tx_id is None:
            return
        try:
            self._post(f"/transaction/{tx_id}/{action}", {}, statements=0)
        except dbapi.OperationalError:
            if action == "commit":
                # The commit may not have reached the server: roll back (best effort) so the
                # server-side transaction does not hold its locks until it times out.
                try:
                    self._post(f"/transaction/{tx_id}/rollback", {}, statements=0)
                except Exception:
                    pass
            raise

    def _start(self) -> str:
        body: dict[str, Any] = {"timeout": self.transaction_timeout_ms, "maxWait": self.max_wait_ms}
        if self.isolation_level:
            body["isolationLevel"] = self.isolation_level
        # Retried like a read: a start whose answer was lost leaves at most an empty server-side
        # transaction, which the server closes after its timeout.
        data = self._post("/transaction/start", body, statements=0, retry=True)
        tx_id = data.get("id") if isinstance(data, dict) else None
        if not tx_id:
            raise dbapi.OperationalError(
                "the Prisma server did not return a transaction id", payload=data
            )
        self._tx_id = str(tx_id)
        self._tx_pending = False
        return self._tx_id

    # --- statements -------------------------------------------------------------------------
    def execute(self, stmt: Statement) -> Result:
        if self._closed:
            raise dbapi.InterfaceError("the Prisma connection is closed")
        if (
            self.autocommit_write_transactions
            and stmt.params
            and not self.in_transaction
            and not is_read_only(stmt.sql)
        ):
            # @prisma/dev (PGlite) loses a deferred constraint violation raised by the implicit
            # COMMIT of a parameterised autocommit statement: the client gets a success, the
            # server rolls the write back. An explicit transaction reports it at COMMIT.
            return self.batch([stmt])[0]
        if self._tx_pending:
            self._start()
        path = f"/transaction/{self._tx_id}/query" if self._tx_id else "/query"
        query = returns_rows(stmt.sql)
        args, arg_types = encode_args(stmt.params)
        sql = add_casts(stmt.sql, stmt.params) if self.typed_params and stmt.params else stmt.sql
        body = {
            "operation": "queryRaw" if query else "executeRaw",
            "plan": {
                "type": "query" if query else "execute",
                "args": {"type": "rawSql", "sql": sql, "args": args, "argTypes": arg_types},
            },
            "params": {},
        }
        data = self._post(path, body, statements=1, cache=True, retry=is_read_only(stmt.sql))
        result = data.get("data") if isinstance(data, dict) else None
        if query:
            if not isinstance(result, dict):
                raise dbapi.InterfaceError("unexpected answer to a raw query", payload=data)
            types = list(result.get("types") or [])
            rows = decode_rows(
                types, result.get("rows") or [], naive_datetimes=self.naive_datetimes
            )
            return Result(
                columns=list(result.get("columns") or []),
                rows=rows,
                rowcount=len(rows),
                payload=data,
                types=types,
            )
        return Result(rowcount=int(result) if isinstance(result, int) else -1, payload=data)

    def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Run statements atomically: inside the open transaction, or in a new one."""
        if self.in_transaction:
            return [self.execute(s) for s in stmts]
        self.begin()
        try:
            results = [self.execute(s) for s in stmts]
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return results

    def invalidate(self, tags: Sequence[str] | str) -> None:
        """``POST /invalidate``: drop Accelerate cache entries by tag (``"all"`` for all)."""
        if tags != "all":
            validate_tags(list(tags))
            tags = list(tags)
        self._post("/invalidate", {"tags": tags}, statements=0, expect_json=False)

    def connection_info(self) -> Any:
        return self._request("GET", "/connection-info", None, statements=0)

    @contextmanager
    def using_cache(self, strategy: CacheStrategy | None) -> Iterator[None]:
        previous, self.cache_strategy = self.cache_strategy, strategy
        try:
            yield
        finally:
            self.cache_strategy = previous

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        tx_id, self._tx_id, self._tx_pending = self._tx_id, None, False
        try:
            if tx_id is not None:  # do not leave a server-side transaction holding locks
                try:
                    self._client.post(f"/transaction/{tx_id}/rollback", content=b"{}")
                except httpx.HTTPError:
                    pass
        finally:
            self._client.close()

    # --- HTTP -------------------------------------------------------------------------------
    def _post(
        self,
        path: str,
        body: Any,
        *,
        statements: int,
        cache: bool = False,
        expect_json: bool = True,
        retry: bool = False,
    ) -> Any:
        return self._request(
            "POST",
            path,
            body,
            statements=statements,
            cache=cache,
            expect_json=expect_json,
            retry=retry,
        )

    def _request(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        statements: int,
        cache: bool = False,
        expect_json: bool = True,
        retry: bool = False,
    ) -> Any:
        """One logical request, sent again after transient failures within the retry budget.

        ``retry=True`` (reads, transaction start): 429, 502/503/504, a 500 without a Prisma
        error, and connection failures are retried. Otherwise (writes, commit, rollback) only
        failures that prove the request was not executed are: 429 and failing to connect.
        ``Retry-After`` is honoured; a wait beyond ``retry_max_wait`` is not attempted.
        """
        content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        attempt = 0
        while True:
            try:
                return self._attempt(method, path, content, statements, cache, expect_json)
            except _Transient as failure:
                wait = failure.wait
                if wait is None:
                    wait = self.retry_backoff * (2**attempt) * (1 + random.random())
                if (
                    attempt >= self.retries
                    or (failure.sent and not retry)
                    or wait > self.retry_max_wait
                ):
                    raise failure.error from None
                attempt += 1
                self.metrics.retries += 1
                time.sleep(wait)

    def _attempt(
        self,
        method: str,
        path: str,
        content: bytes,
        statements: int,
        cache: bool,
        expect_json: bool,
    ) -> Any:
        headers: dict[str, str] = {}
        if self._jwt:
            headers["Accelerate-Query-Engine-Jwt"] = self._jwt
        if cache:
            strategy = self.cache_strategy
            headers.update(strategy.headers() if strategy else {"cache-control": "no-cache"})
        try:
            response = self._client.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as exc:
            self.metrics.record(statements=statements, sent=len(content))
            error = dbapi.OperationalError(
                self.redactor.redact(f"cannot reach the Prisma server: {type(exc).__name__}: {exc}")
            )
            if isinstance(exc, httpx.TimeoutException) and not isinstance(
                exc, httpx.ConnectTimeout
            ):
                raise error from None  # the timeout is the caller's whole budget
            # Failing to connect proves the request was never sent; anything later may not.
            sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            raise _Transient(error, sent=sent) from None
        self.metrics.record(
            statements=statements, sent=len(content), received=len(response.content)
        )
        jwt = response.headers.get("accelerate-query-engine-jwt")
        if jwt:
            self._jwt = jwt
        if cache:
            self.last_cache_status = response.headers.get("accelerate-cache-status")
            self.last_response_headers = dict(response.headers)
        if response.status_code >= 400:
            try:
                payload: Any = response.json()
            except ValueError:
                payload = response.text
            error = map_error(
                response.status_code,
                payload,
                header_code=response.headers.get("prisma-error-code"),
                redactor=self.redactor,
            )
            status = response.status_code
            if status == 429:
                # Rate limited before execution: safe to send again, writes included.
                wait = retry_after_seconds(response.headers.get("retry-after"))
                raise _Transient(error, sent=False, wait=wait)
            if status in _RETRY_STATUSES or (status == 500 and not _prisma_error(payload)):
                wait = retry_after_seconds(response.headers.get("retry-after"))
                raise _Transient(error, sent=True, wait=wait)
            raise error
        if not expect_json or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise dbapi.InterfaceError(
                f"the Prisma server sent a non-JSON answer (HTTP {response.status_code})",
                payload=self.redactor.redact(response.text[:500]),
            ) from None


def _prisma_error(payload: Any) -> bool:
    """Whether an error body is the query engine's own (``{code?, error, meta?}``): such
    errors are deterministic and not worth a retry (a gateway's 500 is not one)."""
    return isinstance(payload, dict) and bool(
        payload.get("code") or payload.get("meta") or payload.get("error")
    )
