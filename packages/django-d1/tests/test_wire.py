"""The HTTP layer under D1Transport: one write per request, TCP_NODELAY on the socket."""

from __future__ import annotations

import socket

import httpx
from django_d1.transport import CoalescingBackend, CoalescingStream, D1HTTPTransport, D1Transport


class RecordingStream:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.writes.append(buffer)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return b"HTTP/1.1 200 OK\r\n"

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, info: str):
        return None


def test_writes_are_sent_together_before_the_first_read():
    inner = RecordingStream()
    stream = CoalescingStream(inner)  # type: ignore[arg-type]
    stream.write(b"POST /raw HTTP/1.1\r\n\r\n", timeout=5)
    stream.write(b"")
    stream.write(b'{"sql":"SELECT 1"}', timeout=5)
    assert inner.writes == []
    assert stream.read(100) == b"HTTP/1.1 200 OK\r\n"
    assert inner.writes == [b'POST /raw HTTP/1.1\r\n\r\n{"sql":"SELECT 1"}']
    stream.read(100)
    assert len(inner.writes) == 1  # nothing new to send
    stream.close()
    assert inner.closed


class CountingBackend(CoalescingBackend):
    """Records every stream it opens (public httpcore NetworkBackend API only)."""

    def __init__(self, backend):
        super().__init__(backend)
        self.streams: list[CoalescingStream] = []

    def connect_tcp(self, *args, **kwargs):
        stream = super().connect_tcp(*args, **kwargs)
        self.streams.append(stream)
        return stream


def test_transport_uses_coalescing_backend_and_nodelay(d1_endpoint, monkeypatch):
    from django_backend_core.transport import Statement
    from django_d1 import transport as transport_mod

    backends: list[CountingBackend] = []

    def counting(inner):
        backends.append(CountingBackend(inner))
        return backends[-1]

    monkeypatch.setattr(transport_mod, "CoalescingBackend", counting)
    t = D1Transport(
        api_base=d1_endpoint.api_base,
        account_id="acc",
        database_id="wire",
        token=d1_endpoint.token,
    )
    try:
        assert t._fast is not None  # our transport: sent straight through its httpcore pool
        for _ in range(3):
            assert t.execute(Statement("SELECT 1 AS one", [])).rows == [(1,)]
        (backend,) = backends
        (stream,) = backend.streams  # one keep-alive connection for the three requests
        sock = stream.get_extra_info("socket")
        assert isinstance(sock, socket.socket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert t.metrics.requests == 3
    finally:
        t.close()


def test_d1_http_transport_serves_a_plain_httpx_client(d1_endpoint):
    """The transport is a complete httpx transport, errors mapped to httpx's classes."""
    with httpx.Client(transport=D1HTTPTransport()) as client:
        r = client.post(
            d1_endpoint.api_base + "/accounts/acc/d1/database/wire/raw",
            json={"sql": "SELECT 2 AS two"},
            headers={"Authorization": f"Bearer {d1_endpoint.token}"},
        )
        assert r.status_code == 200 and r.json()["result"][0]["results"]["rows"] == [[2]]
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            client.get(f"http://127.0.0.1:{port}/")
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("expected httpx.ConnectError")


def test_user_client_is_kept():
    client = httpx.Client()
    t = D1Transport(api_base="http://127.0.0.1:1", account_id="a", database_id="b", token="x",
                    client=client)  # fmt: skip
    assert t.client is client
    t.close()


def _parsed(rows: list, *, meta: dict | None = None) -> list[tuple]:
    """Rows of a /raw answer as D1Transport._parse returns them."""
    import json

    from django_backend_core.transport import Statement
    from django_d1.transport import _Reply

    t = D1Transport(api_base="http://127.0.0.1:1", account_id="a", database_id="b", token="x")
    item = {"results": {"columns": ["a", "b"], "rows": rows}, "success": True,
            "meta": meta or {"changes": 0}}  # fmt: skip
    body = json.dumps({"result": [item], "errors": [], "messages": [], "success": True})
    try:
        (result,) = t._parse(_Reply(200, [], body.encode()), [Statement("SELECT a, b FROM t", [])])
    finally:
        t.close()
    return result.rows


def test_parse_turns_byte_arrays_into_bytes_and_keeps_other_values():
    # Plain rows take the fast path (no "[" beyond the envelope's arrays): values unchanged.
    assert _parsed([[1, "x"], [2.5, None]]) == [(1, "x"), (2.5, None)]
    assert _parsed([]) == []
    # A BLOB (array of byte values) becomes bytes; a "[" inside a string changes nothing.
    assert _parsed([[[0, 255, 16], "[not, an, array]"]]) == [(b"\x00\xff\x10", "[not, an, array]")]
    assert _parsed([["[", [104, 105]]]) == [("[", b"hi")]
    # An array elsewhere in the body (meta) makes the count differ: the per-value path still
    # finds the BLOB.
    assert _parsed([[[1], "y"]], meta={"changes": 0, "x": []}) == [(b"\x01", "y")]
