"""A blocking websocket that does its I/O in the caller's thread.

``websockets.sync.client`` reads the socket in a background thread and hands every message to
the caller through a queue: two thread switches per request, which on loopback cost more than
the rest of the client put together. workers-dbms has one request in flight per socket and no
server push, so nothing needs reading while no request is waiting: this class drives
``websockets``' sans-I/O :class:`~websockets.client.ClientProtocol` (framing, masking, the
handshake, ping/pong and close handling stay the library's) over a plain blocking socket, in
the thread that sends the request.

What the reader thread used to notice on its own (the server closed the socket while it sat
idle, e.g. after another session's ``rollback`` aborted the Durable Object) :meth:`WebSocket.
alive` finds out with one non-blocking poll before each request, so a dead socket is replaced
before anything is sent on it.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Mapping

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidHandshake
from websockets.frames import Frame, Opcode
from websockets.http11 import USER_AGENT, Response
from websockets.protocol import State
from websockets.uri import parse_uri

_RECV = 64 * 1024
_READABLE = select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR


class Closed(Exception):
    """The connection is over (EOF, reset, or a close frame)."""

    def __init__(self, protocol: ClientProtocol) -> None:
        close = protocol.close_rcvd
        super().__init__(f"connection closed ({close})" if close else "connection closed")


class WebSocket:
    """One client websocket; not thread-safe (the transport holds its lock around use)."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        max_size: int | None = 64 * 1024 * 1024,
        proxy: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        deadline = time.monotonic() + timeout
        uri = parse_uri(url)
        sock = _open_socket(uri, timeout, proxy)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if uri.secure:
                context = ssl_context or ssl.create_default_context()
                sock.settimeout(_left(deadline))
                sock = context.wrap_socket(sock, server_hostname=uri.host)
            self.sock = sock
            self.protocol = ClientProtocol(uri, max_size=max_size)
            self._poll = select.poll()
            self._poll.register(sock, _READABLE)
            self._frames: list[Frame] = []
            self._buf = bytearray(_RECV)
            self.response = self._handshake(headers, deadline)
        except BaseException:
            sock.close()
            raise

    # -- opening handshake ------------------------------------------------------------------
    def _handshake(self, headers: Mapping[str, str] | None, deadline: float) -> Response:
        protocol = self.protocol
        request = protocol.connect()
        if headers:
            request.headers.update(headers)
        request.headers.setdefault("User-Agent", USER_AGENT)
        protocol.send_request(request)
        self._flush()
        while True:
            try:
                events = self._read(_left(deadline))
            except Closed:
                raise protocol.handshake_exc or InvalidHandshake(
                    "the server closed the connection during the opening handshake"
                ) from None
            for i, event in enumerate(events):
                if isinstance(event, Response):
                    if protocol.handshake_exc is not None:
                        raise protocol.handshake_exc
                    # Frames read in the same recv() as the response (a ping, a close, a
                    # stray message) are kept for recv()/alive(), not dropped.
                    self._frames.extend(events[i + 1 :])
                    return event
                self._frames.append(event)  # pragma: no cover - frames come after the response
            if protocol.handshake_exc is not None:
                raise protocol.handshake_exc

    # -- I/O ---------------------------------------------------------------------------------
    def _flush(self) -> None:
        data = self.protocol.data_to_send()
        if not data:
            return
        if data[-1] == b"":  # the protocol asks to half-close: the connection is over
            data.pop()
            if data:
                self.sock.sendall(b"".join(data))
            self.abort()
            return
        self.sock.sendall(data[0] if len(data) == 1 else b"".join(data))

    def _read(self, timeout: float | None) -> list:
        """Block up to ``timeout`` for bytes, feed them to the protocol, return its events."""
        self.sock.settimeout(timeout)
        try:
            # Into a reused buffer: recv(n) allocates n bytes per call, and a large n means
            # an mmap/munmap pair each time (most replies are a few hundred bytes).
            n = self.sock.recv_into(self._buf)
            data = self._buf[:n]
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
            raise TimeoutError("timed out") from None
        except OSError:  # reset by peer and the like: the stream is over
            data = b""
        protocol = self.protocol
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        self._flush()  # pongs, and the answer to a close frame
        events = protocol.events_received()
        if not data and not events:
            self.abort()
            raise Closed(protocol)
        return events

    def send(self, text: str) -> int:
        """Send one text message; the number of bytes it took on the wire (payload)."""
        payload = text.encode()
        protocol = self.protocol
        if protocol.state is not State.OPEN:
            raise Closed(self.protocol)
        protocol.send_text(payload)
        self._flush()
        return len(payload)

    def recv(self, timeout: float | None) -> bytes:
        """The next complete message (text or binary) as bytes, waiting up to ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        parts: list[bytes] = []
        while True:
            while self._frames:
                frame = self._frames.pop(0)
                opcode = frame.opcode
                if opcode is Opcode.TEXT or opcode is Opcode.BINARY or opcode is Opcode.CONT:
                    if frame.fin and not parts:
                        return bytes(frame.data)
                    parts.append(bytes(frame.data))
                    if frame.fin:
                        return b"".join(parts)
                elif opcode is Opcode.CLOSE:
                    self.abort()
                    raise Closed(self.protocol)
                # PING was answered by the protocol (see _flush); PONG needs nothing.
            if self.protocol.state is not State.OPEN:
                self.abort()
                raise Closed(self.protocol)
            self._frames.extend(self._read(None if deadline is None else _left(deadline)))

    def alive(self) -> bool:
        """False if the server closed the socket while it sat idle (one poll, no blocking).

        An idle workers-dbms socket receives nothing, so anything readable now is an EOF, a
        close frame or a ping; a stray data frame means the stream can no longer be trusted.
        """
        if self.sock.fileno() < 0 or self.protocol.state is not State.OPEN:
            return False
        pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
        while pending or self._poll.poll(0):
            pending = False
            try:
                self._frames.extend(self._read(0.0))
            except (Closed, TimeoutError):
                pass  # closed: seen below; timed out: a partial TLS record, nothing complete
            if self.sock.fileno() < 0 or self.protocol.state is not State.OPEN:
                self.abort()
                return False
        if any(f.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT) for f in self._frames):
            self.abort()
            return False
        self._frames = [f for f in self._frames if f.opcode is Opcode.CLOSE]
        return not self._frames

    def close(self, timeout: float = 1.0) -> None:
        """Closing handshake (best effort, bounded by ``timeout``), then close the socket."""
        try:
            if self.protocol.state is State.OPEN:
                self.protocol.send_close()
                self._flush()
                deadline = time.monotonic() + timeout
                while self.sock.fileno() >= 0 and self.protocol.state is not State.CLOSED:
                    self._read(_left(deadline))
        except (OSError, Closed, TimeoutError):
            pass
        finally:
            self.abort()

    def abort(self) -> None:
        """Close the TCP connection now, without a closing handshake."""
        if self.sock.fileno() >= 0:
            try:
                self._poll.unregister(self.sock)
            except (KeyError, ValueError, OSError):  # pragma: no cover
                pass
            self.sock.close()


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


def _open_socket(uri, timeout: float, proxy: bool) -> socket.socket:
    """A connected TCP socket; through the environment's proxy (HTTPS_PROXY, ALL_PROXY...)
    when ``proxy`` is true and one applies, as ``websockets.sync.client.connect`` does."""
    if proxy:
        from websockets.uri import get_proxy, parse_proxy

        url = get_proxy(uri)
        if url is not None:
            from websockets.sync.client import connect_http_proxy, connect_socks_proxy
            from websockets.sync.utils import Deadline

            parsed = parse_proxy(url)
            if parsed.scheme.startswith("socks"):
                return connect_socks_proxy(parsed, uri, Deadline(timeout))
            return connect_http_proxy(parsed, uri, Deadline(timeout), user_agent_header=USER_AGENT)
    return socket.create_connection((uri.host, uri.port), timeout=timeout)
