"""The blocking websocket (wire.py) against a websockets server that misbehaves on purpose."""

from __future__ import annotations

import select
import threading
import time

import pytest
from django_dbms.wire import Closed, WebSocket
from websockets.sync.server import serve


@pytest.fixture
def server():
    """Echo server whose handler a test can replace (``server.handler = fn``)."""
    state = type("State", (), {})()
    state.handler = lambda ws: [ws.send(m) for m in ws]

    def handler(ws):
        state.handler(ws)

    with serve(handler, "127.0.0.1", 0, compression=None) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        state.url = f"ws://127.0.0.1:{srv.socket.getsockname()[1]}/"
        yield state
        srv.shutdown()


def wait_readable(ws: WebSocket, timeout: float = 5.0) -> None:
    """Until what the server sent unasked has reached the client: read along with the
    handshake response, or waiting on the socket (a fixed sleep is flaky on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while not ws._frames and not select.select([ws.sock], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the server sent nothing within the timeout"


def test_round_trip_and_fragmented_messages(server):
    def fragmented(ws):
        for message in ws:
            ws.send([message[:3], message[3:]])  # one message in two frames

    ws = WebSocket(server.url)
    assert ws.send("hello") == 5
    assert ws.recv(5) == b"hello"
    server.handler = fragmented
    ws2 = WebSocket(server.url)
    ws2.send("fragmented")
    assert ws2.recv(5) == b"fragmented"
    ws.close()
    ws2.close()


def test_idle_ping_is_answered_and_the_socket_stays_alive(server):
    pongs = []

    def pinger(ws):
        pongs.append(ws.ping())
        for message in ws:
            ws.send(message)

    server.handler = pinger
    ws = WebSocket(server.url)
    wait_readable(ws)
    assert ws.alive()  # the ping was read and answered, nothing else pending
    # The server thread stores ping()'s waiter after the ping left: on a loaded machine the
    # client can read the ping first.
    deadline = time.monotonic() + 5
    while not pongs:
        assert time.monotonic() < deadline, "the server thread never stored its ping waiter"
        time.sleep(0.01)
    assert pongs[0].wait(5)
    ws.send("x")
    assert ws.recv(5) == b"x"
    ws.close()


def test_server_close_while_idle_is_noticed_before_sending(server):
    server.handler = lambda ws: ws.close()
    ws = WebSocket(server.url)
    wait_readable(ws)
    assert not ws.alive()
    with pytest.raises(Closed):
        ws.send("x")


def test_unexpected_message_while_idle_means_the_stream_is_not_trusted(server):
    server.handler = lambda ws: (ws.send("unsolicited"), [None for _ in ws])
    ws = WebSocket(server.url)
    wait_readable(ws)
    assert not ws.alive()


def test_recv_times_out(server):
    server.handler = lambda ws: [None for _ in ws]  # reads, never answers
    ws = WebSocket(server.url)
    ws.send("x")
    with pytest.raises(TimeoutError):
        ws.recv(0.2)
    ws.abort()


def test_a_frame_read_with_the_handshake_response_is_kept():
    """The server's response and a message right behind it, in ONE TCP write: the client's
    first recv() gets both, and the message must not be lost with the handshake."""
    import socket

    from websockets.frames import Frame, Opcode
    from websockets.server import ServerProtocol

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    done = threading.Event()

    def serve():
        conn, _ = listener.accept()
        protocol = ServerProtocol()
        events = []
        while not events:
            protocol.receive_data(conn.recv(65536))
            events = protocol.events_received()
        protocol.send_response(protocol.accept(events[0]))
        protocol.send_frame(Frame(Opcode.TEXT, b"unsolicited"))
        conn.sendall(b"".join(protocol.data_to_send()))  # response + frame in one write
        done.wait(5)  # keep the connection open: alive() must not merely see an EOF
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        ws = WebSocket(f"ws://127.0.0.1:{port}/")
        # Both arrived in one segment, so no waiting: whether the first recv() took the
        # frame along with the response or left it on the socket, alive() must see it.
        assert not ws.alive()  # a message nobody asked for: the stream is not trusted
    finally:
        done.set()
        thread.join(5)
        listener.close()
