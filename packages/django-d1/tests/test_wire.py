"""The HTTP layer under D1Transport: one write per request, TCP_NODELAY on the socket."""

from __future__ import annotations

import socket

import httpx
from django_d1.transport import CoalescingBackend, CoalescingStream, D1Transport


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


def test_transport_uses_coalescing_backend_and_nodelay(d1_endpoint):
    t = D1Transport(
        api_base=d1_endpoint.api_base,
        account_id="acc",
        database_id="wire",
        token=d1_endpoint.token,
    )
    try:
        pool = t.client._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool._network_backend, CoalescingBackend)
        from django_backend_core.transport import Statement

        assert t.execute(Statement("SELECT 1 AS one", [])).rows == [(1,)]
        (conn,) = pool.connections
        sock = conn._connection._network_stream.stream.get_extra_info("socket")
        assert isinstance(sock, socket.socket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert t.metrics.requests == 1
    finally:
        t.close()


def test_user_client_is_kept():
    client = httpx.Client()
    t = D1Transport(api_base="http://127.0.0.1:1", account_id="a", database_id="b", token="x",
                    client=client)  # fmt: skip
    assert t.client is client
    t.close()
