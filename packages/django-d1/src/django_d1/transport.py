"""The D1 REST transport: one keep-alive ``httpx.Client``, the ``/raw`` endpoint, batches.

Errors are always read from the Cloudflare envelope (never ``raise_for_status`` first) and
mapped to PEP 249 classes keeping the Cloudflare code. Reads are retried on 429 (honouring
``Retry-After``), 5xx and connection failures; writes only when the request provably never
reached the server (connect errors), because a retried write may apply twice.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpcore
import httpx
from django_backend_core import dbapi
from django_backend_core.errors import SQLITE_RULES, ErrorMapper, Rule
from django_backend_core.metrics import RoundTrips
from django_backend_core.remote_sqlite.base import is_read
from django_backend_core.secrets import Redactor, Secret
from django_backend_core.transport import Result, Statement

D1_RULES: tuple[Rule, ...] = (
    Rule(dbapi.OperationalError, code=(10000, 10001, 9106, 9109), status=None),
    Rule(dbapi.OperationalError, code=(7404, 7403, 7400, 7429, 7502)),
    Rule(dbapi.OperationalError, status=(401, 403, 404, 429)),
    Rule(dbapi.DataError, message=r"D1_TYPE_ERROR"),
    Rule(
        dbapi.NotSupportedError,
        message=r"state\.storage\.transaction\(\)|not authorized: SQLITE_AUTH",
    ),
    Rule(dbapi.IntegrityError, message=r"FOREIGN KEY constraint failed"),
    *SQLITE_RULES,
    Rule(dbapi.OperationalError, status=(500, 502, 503, 504)),
)

RETRY_STATUSES = {429, 500, 502, 503, 504}


class D1Transport:
    """Transport to ``{api_base}/accounts/{account}/d1/database/{database}/raw``."""

    def __init__(
        self,
        *,
        api_base: str,
        account_id: str,
        database_id: str,
        token: Secret | str,
        timeout: float = 30.0,
        retries: int = 3,
        max_retry_wait: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.token = token if isinstance(token, Secret) else Secret(token)
        self.redactor = Redactor(self.token)
        self.errors = ErrorMapper(D1_RULES, redactor=self.redactor)
        self.url = f"{api_base.rstrip('/')}/accounts/{account_id}/d1/database/{database_id}/raw"
        self.retries = retries
        self.max_retry_wait = max_retry_wait
        self.metrics = RoundTrips()
        self.timeout = timeout
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=D1HTTPTransport(),
        )
        # Built once per connection (the point read should cost little more than a raw POST).
        self._url = httpx.URL(self.url)
        headers = {
            "Authorization": f"Bearer {self.token.reveal()}",
            "Content-Type": "application/json",
            "User-Agent": "django-d1",
        }
        self._headers = httpx.Headers(headers)
        self._timeouts = self.client.timeout.as_dict()
        # Our own transport: send straight through its httpcore pool, skipping httpx.Client's
        # per-request work (auth, redirects, cookies, event hooks: none of which D1 uses).
        # A client passed in by the user goes through client.send() as it expects.
        transport = getattr(self.client, "_transport", None) if client is None else None
        self._fast = transport if isinstance(transport, D1HTTPTransport) else None
        host = self._url.raw_host
        if self._url.port is not None:
            host += b":%d" % self._url.port
        self._raw_url = httpcore.URL(
            scheme=self._url.raw_scheme,
            host=self._url.raw_host,
            port=self._url.port,
            target=self._url.raw_path,
        )
        self._raw_headers = [(b"Host", host)] + [
            (k.encode(), v.encode()) for k, v in headers.items()
        ]

    def __repr__(self) -> str:
        return f"<D1Transport {self.redactor.redact(self.url)}>"

    # -- Transport protocol ----------------------------------------------------------------
    def execute(self, stmt: Statement) -> Result:
        body = {"sql": stmt.sql, "params": stmt.params}
        results = self._post(body, [stmt])
        return results[-1] if results else Result()

    def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        if not stmts:
            return []
        body = {"batch": [{"sql": s.sql, "params": s.params} for s in stmts]}
        results = self._post(body, stmts)
        if len(results) != len(stmts):
            # A statement with several ';'-separated statements answers several items; keep
            # the last one per request item is impossible to tell apart, so refuse loudly.
            raise dbapi.InterfaceError(
                f"D1 returned {len(results)} results for {len(stmts)} statements"
            )
        return results

    def close(self) -> None:
        self.client.close()

    # -- wire ------------------------------------------------------------------------------
    def _post(self, body: dict[str, Any], stmts: Sequence[Statement]) -> list[Result]:
        count = len(stmts)
        read = all(is_read(s.sql) and not _RETURNING_WRITE.search(s.sql) for s in stmts)
        payload = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        attempt = 0
        deadline = time.monotonic() + self.timeout
        while True:
            retry = attempt > 0
            try:
                response = self._send(payload)
            except httpx.ConnectError as exc:  # never reached the server: safe to retry
                self.metrics.record(statements=count, sent=len(payload), retries=int(retry))
                if attempt < self.retries and time.monotonic() < deadline:
                    attempt += 1
                    time.sleep(min(0.1 * 2**attempt, 2.0))
                    continue
                raise self.errors.map_exception(exc) from None
            except httpx.TimeoutException as exc:
                self.metrics.record(statements=count, sent=len(payload), retries=int(retry))
                if read and attempt < self.retries and time.monotonic() < deadline:
                    attempt += 1
                    continue
                raise dbapi.OperationalError(
                    self.redactor.redact(
                        f"D1 request timed out ({type(exc).__name__}); "
                        + (
                            "it was not retried because a write may have been applied."
                            if not read
                            else "gave up after retries."
                        )
                    )
                ) from None
            except httpx.HTTPError as exc:
                self.metrics.record(statements=count, sent=len(payload), retries=int(retry))
                if read and attempt < self.retries and time.monotonic() < deadline:
                    attempt += 1
                    continue
                raise self.errors.map_exception(exc) from None
            self.metrics.record(
                statements=count,
                sent=len(payload),
                received=len(response.content),
                retries=int(retry),
            )
            status = response.status_code
            if status in RETRY_STATUSES and attempt < self.retries:
                # 429 means the request was refused before running: safe for writes too.
                if status == 429 or read:
                    wait = self._retry_after(response, attempt)
                    if time.monotonic() + wait < deadline:
                        attempt += 1
                        time.sleep(wait)
                        continue
            return self._parse(response, stmts)

    def _send(self, payload: bytes) -> _Reply:
        """One POST of ``payload``; httpx exceptions on failure."""
        if self._fast is not None:
            headers = [*self._raw_headers, (b"Content-Length", b"%d" % len(payload))]
            request = httpcore.Request(
                b"POST",
                self._raw_url,
                headers=headers,
                content=payload,
                extensions={"timeout": self._timeouts},
            )
            with _mapped_httpcore_errors():
                reply = self._fast.pool.handle_request(request)
                try:
                    content = reply.read()
                finally:
                    reply.close()
            return _Reply(reply.status, reply.headers, content)
        request = httpx.Request(
            "POST",
            self._url,
            headers=self._headers,
            content=payload,
            extensions={"timeout": self._timeouts},
        )
        response = self.client.send(request)
        return _Reply(response.status_code, response.headers.raw, response.content)

    def _retry_after(self, response: _Reply, attempt: int) -> float:
        header = response.header("retry-after")
        try:
            wait = float(header) if header is not None else 0.2 * 2**attempt
        except ValueError:
            wait = 0.2 * 2**attempt
        return max(0.0, min(wait, self.max_retry_wait))

    def _parse(self, response: _Reply, stmts: Sequence[Statement]) -> list[Result]:
        status = response.status_code
        try:
            data = json.loads(response.content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            text = response.content[:200].decode("utf-8", "replace")
            raise self.errors.map(
                f"D1 answered HTTP {status} without a JSON envelope: {text}",
                status=status,
                payload=None,
            )
        if not data.get("success") or data.get("errors"):
            errors = data.get("errors") or [{"code": None, "message": f"HTTP {status}"}]
            first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
            message = "; ".join(
                str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
            )
            code = first.get("code")
            exc = self.errors.map(message, code=code, status=status, payload=data)
            if status == 429 and not exc.code:
                exc.code = 429
            raise exc
        out = []
        items = data.get("result") or []
        # A multi-statement "sql" answers one item per statement: they belong to one Statement.
        owners = list(stmts) if len(items) == len(stmts) else [stmts[-1]] * len(items)
        # BLOBs come back as arrays of byte values. Every JSON array costs at least one "[" in
        # the body: when the body holds no more "[" than the envelope's own arrays (top-level
        # ones, each item's columns, rows and row arrays), no value is an array and the
        # per-value check is skipped.
        structural = sum(type(v) is list for v in data.values())
        for item in items:
            results = item.get("results") if type(item) is dict else None
            if type(results) is dict:
                structural += type(results.get("columns")) is list
                rows = results.get("rows")
                if type(rows) is list:
                    structural += 1 + sum(type(row) is list for row in rows)
        no_arrays = response.content.count(b"[") == structural
        for item, stmt in zip(items, owners, strict=True):
            results = item.get("results") or {}
            columns = list(results.get("columns") or [])
            raw_rows = results.get("rows") or ()
            if no_arrays:
                rows = list(map(tuple, raw_rows))
            else:
                rows = [
                    tuple([bytes(v) if type(v) is list else v for v in row])  # BLOB: byte array
                    for row in raw_rows
                ]
            meta = item.get("meta") or {}
            changes = int(meta.get("changes") or 0)
            writes = _is_write(stmt.sql)
            rowcount = changes if writes else -1
            last = meta.get("last_row_id")
            # last_row_id is sticky on D1: only an INSERT that changed rows sets it.
            lastrowid = int(last) if changes > 0 and last and _is_insert(stmt.sql) else None
            out.append(
                Result(
                    columns=columns, rows=rows, rowcount=rowcount, lastrowid=lastrowid, payload=meta
                )
            )
        return out


class _Reply:
    """Status, raw headers and body of one answer (httpx's or httpcore's)."""

    __slots__ = ("status_code", "raw_headers", "content")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        self.status_code = status
        self.raw_headers = headers
        self.content = content

    def header(self, name: str) -> str | None:
        key = name.lower().encode()
        for k, v in self.raw_headers:
            if k.lower() == key:
                return v.decode("latin-1")
        return None


class D1HTTPTransport(httpx.BaseTransport):
    """httpx transport over a public ``httpcore.ConnectionPool`` with TCP_NODELAY and one
    write per request.

    httpcore writes the request head and body separately; without TCP_NODELAY, Nagle holds
    the body back until the head is acknowledged (a round trip, plus the peer's delayed ACK).
    Each extra write also wakes the peer once more. The pool is built with a
    :class:`CoalescingBackend` through httpcore's public ``network_backend`` argument (no
    patching of httpx's private pool). httpcore's retries stay off: ``D1Transport`` retries
    with write-safety rules. TLS verification follows httpx (certifi, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR`` when ``trust_env``).
    """

    def __init__(
        self, *, verify: bool | str = True, trust_env: bool = True, max_connections: int = 10
    ) -> None:
        self.pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=trust_env),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            retries=0,
            socket_options=[NODELAY],
            network_backend=CoalescingBackend(httpcore.SyncBackend()),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _mapped_httpcore_errors():
            response = self.pool.handle_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.pool.close()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _mapped_httpcore_errors():
            yield from self.stream

    def close(self) -> None:
        if hasattr(self.stream, "close"):
            self.stream.close()


# httpcore's exceptions as httpx's (what httpx.HTTPTransport does), most specific first.
_HTTPCORE_TO_HTTPX: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _mapped_httpcore_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core_cls, httpx_cls in _HTTPCORE_TO_HTTPX:
            if isinstance(exc, core_cls):
                raise httpx_cls(str(exc)) from exc
        raise


NODELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class CoalescingBackend(httpcore.NetworkBackend):
    """Wraps httpcore's backend so that its streams send each request in one write."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self.backend = backend

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self.backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return CoalescingStream(stream)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        stream = self.backend.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return CoalescingStream(stream)

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


class CoalescingStream(httpcore.NetworkStream):
    """Buffers writes until the next read (HTTP/1.1: the request is complete by then)."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self.stream = stream
        self.pending: list[bytes] = []
        self.write_timeout: float | None = None

    def flush(self) -> None:
        if self.pending:
            data = b"".join(self.pending)
            self.pending.clear()
            self.stream.write(data, timeout=self.write_timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self.pending.append(buffer)
            self.write_timeout = timeout

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.flush()
        return self.stream.read(max_bytes, timeout=timeout)

    def close(self) -> None:
        self.pending.clear()
        self.stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        self.flush()
        return CoalescingStream(self.stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


_RETURNING_WRITE = re.compile(r"^\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.I)
_INSERT = re.compile(r"^\s*(?:INSERT|REPLACE)\b", re.I)


def _is_write(sql: str) -> bool:
    return not is_read(sql) or bool(_RETURNING_WRITE.search(sql))


def _is_insert(sql: str) -> bool:
    return bool(_INSERT.search(sql))
