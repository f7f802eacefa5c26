"""The latency/fault proxy against real local upstreams (an HTTP/1.1 server and a TCP echo)."""

from __future__ import annotations

import asyncio
import http.client
import http.server
import importlib.util
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

FAULTS = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("faults_proxy_under_test", FAULTS / "proxy.py")
proxy_mod = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = proxy_mod
_spec.loader.exec_module(proxy_mod)
FaultProxy = proxy_mod.FaultProxy


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self):
        self.server.hits += 1
        body = (b"x" * 5000) if self.path == "/big" else f"hello {self.server.hits}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.server.hits += 1
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def upstream():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.hits = 0
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def echo():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=_echo, args=(conn,), daemon=True).start()

    def _echo(conn):
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    yield srv.getsockname()
    stop.set()
    srv.close()


def _get(proxy, path="/", conn=None):
    conn = conn or http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", path)
    resp = conn.getresponse()
    return conn, resp.status, dict(resp.getheaders()), resp.read()


def _roundtrip(port, payload=b"ping"):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        t0 = time.perf_counter()
        s.sendall(payload)
        got = s.recv(100)
        return got, time.perf_counter() - t0


def test_raw_latency_each_way(echo):
    with FaultProxy(echo, latency_ms=150) as p:
        got, rtt = _roundtrip(p.port)
        assert got == b"ping"
        assert rtt >= 0.3  # 150 ms up + 150 ms down
        p.set_latency(0)
        got, rtt = _roundtrip(p.port)
        assert got == b"ping" and rtt < 0.3
        assert p.stats.connections == 2 and p.stats.bytes_up == 8 and p.stats.bytes_down == 8


def test_http_latency_and_keepalive(upstream):
    with FaultProxy(upstream.server_address, latency_up_ms=30, latency_down_ms=40, http=True) as p:
        conn, status, _, body = _get(p)
        t0 = time.perf_counter()
        conn, status, _, body = _get(p, conn=conn)
        assert status == 200 and body.startswith(b"hello")
        assert time.perf_counter() - t0 >= 0.07
        assert p.stats.connections == 1 and p.stats.requests == 2


def test_http_429_with_retry_after_then_502_503_then_pass(upstream):
    with FaultProxy(upstream.server_address, http=True) as p:
        p.http_error(429, times=2, retry_after=3)
        p.http_error(502)
        p.http_error(503, retry_after=0.5)
        hits = upstream.hits
        conn, status, headers, body = _get(p)
        assert status == 429 and headers["Retry-After"] == "3" and b"429" in body
        conn, status, headers, _ = _get(p, conn=conn)  # same keep-alive connection
        assert status == 429
        assert _get(p, conn=conn)[1] == 502
        conn, status, headers, _ = _get(p, conn=conn)
        assert status == 503 and headers["Retry-After"] == "0.5"
        assert upstream.hits == hits  # none of them reached the server
        assert _get(p, conn=conn)[1] == 200 and upstream.hits == hits + 1
        assert p.stats.faults == {"http 429": 2, "http 502": 1, "http 503": 1}
        assert p.pending_faults == 0


def test_http_post_body_forwarded(upstream):
    with FaultProxy(upstream.server_address, http=True) as p:
        conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10)
        conn.request(
            "POST", "/", body=b'{"sql": "select 1"}', headers={"Content-Type": "application/json"}
        )
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == b'{"sql": "select 1"}'


def test_http_drop_closes_without_reply(upstream):
    with FaultProxy(upstream.server_address, http=True) as p:
        p.drop()
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            _get(p)
        assert _get(p)[1] == 200


def test_raw_drop_closes_new_connection(echo):
    with FaultProxy(echo) as p:
        p.drop()
        with socket.create_connection(("127.0.0.1", p.port), timeout=5) as s:
            with pytest.raises(ConnectionError):
                s.sendall(b"x")
                if s.recv(10) == b"":
                    raise ConnectionAbortedError("closed")
        assert _roundtrip(p.port)[0] == b"ping"


def test_reset_mid_response(upstream):
    with FaultProxy(upstream.server_address, http=True) as p:
        p.reset(after_bytes=40)
        conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10)
        conn.request("GET", "/big")
        with pytest.raises(
            (ConnectionResetError, http.client.IncompleteRead, http.client.RemoteDisconnected)
        ):
            resp = conn.getresponse()
            resp.read()
        assert p.stats.faults["reset"] == 1
        assert _get(p, "/big")[3] == b"x" * 5000


def test_raw_reset(echo):
    with FaultProxy(echo) as p:
        p.reset(after_bytes=2)
        with socket.create_connection(("127.0.0.1", p.port), timeout=5) as s:
            s.sendall(b"hello")
            got = b""
            with pytest.raises(ConnectionResetError):
                while True:
                    chunk = s.recv(10)
                    if not chunk:
                        raise AssertionError("clean close, expected a reset")
                    got += chunk
        assert got == b"he"


def test_stall_for_seconds(upstream):
    with FaultProxy(upstream.server_address, http=True) as p:
        p.stall(seconds=0.3)
        t0 = time.perf_counter()
        assert _get(p)[1] == 200
        assert time.perf_counter() - t0 >= 0.3


def test_stall_until_cleared(upstream):
    with FaultProxy(upstream.server_address, http=True) as p:
        p.stall()
        conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=0.5)
        conn.request("GET", "/")
        with pytest.raises(TimeoutError):
            conn.getresponse()
        p.clear()
        assert _get(p)[1] == 200


def test_disconnect_all(echo):
    with FaultProxy(echo) as p:
        s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
        s.sendall(b"a")
        assert s.recv(1) == b"a"
        p.disconnect_all()
        assert s.recv(1) == b""
        s.close()


def test_http_error_needs_http_mode(echo):
    with pytest.raises(ValueError):
        FaultProxy(echo).http_error(503)
    with pytest.raises(ValueError):
        FaultProxy(echo).drop(times=0)


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl CLI")
def test_tls_termination(upstream):
    with FaultProxy(upstream.server_address, http=True, tls=True, latency_ms=5) as p:
        assert p.url().startswith("https://127.0.0.1:")
        ctx = ssl.create_default_context(cafile=str(p.cert_path))
        conn = http.client.HTTPSConnection("127.0.0.1", p.port, context=ctx, timeout=10)
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read().startswith(b"hello")
        with pytest.raises(ssl.SSLError):  # untrusted without the cert
            bad = http.client.HTTPSConnection(
                "127.0.0.1", p.port, context=ssl.create_default_context(), timeout=10
            )
            bad.request("GET", "/")


def test_cli(echo):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faults.proxy",
            "--upstream",
            f"{echo[0]}:{echo[1]}",
            "--latency-ms",
            "1",
        ],
        cwd=FAULTS.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:")
        port = int(line.split()[2].rsplit(":", 1)[1])
        assert _roundtrip(port)[0] == b"ping"
    finally:
        proc.terminate()
        proc.wait(10)


def test_websocket_through_http_mode():
    websockets = pytest.importorskip("websockets")
    from websockets.asyncio.server import serve
    from websockets.sync.client import connect

    ready = threading.Event()
    state = {}

    async def echo_ws(ws):
        async for msg in ws:
            await ws.send(f"echo {msg}")

    def run_server():
        async def main():
            async with serve(echo_ws, "127.0.0.1", 0) as server:
                state["port"] = server.sockets[0].getsockname()[1]
                state["stop"] = asyncio.get_running_loop().create_future()
                state["loop"] = asyncio.get_running_loop()
                ready.set()
                await state["stop"]

        asyncio.run(main())

    t = threading.Thread(target=run_server, daemon=True)
    t.start()
    assert ready.wait(10)
    try:
        with FaultProxy(("127.0.0.1", state["port"]), http=True, latency_ms=20) as p:
            with connect(p.url("ws", "/")) as ws:
                t0 = time.perf_counter()
                ws.send("hi")
                assert ws.recv(timeout=10) == "echo hi"
                assert time.perf_counter() - t0 >= 0.04
            assert p.stats.requests == 1 and p.stats.forwarded_requests == 1
            assert websockets.__version__
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set_result, None)
        t.join(10)


def test_tcp_handshake_costs_one_rtt_on_a_new_connection(echo):
    with FaultProxy(echo, latency_ms=100) as p:
        with socket.create_connection(("127.0.0.1", p.port), timeout=10) as s:
            t0 = time.perf_counter()
            s.sendall(b"a")
            assert s.recv(10) == b"a"
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            s.sendall(b"b")
            assert s.recv(10) == b"b"
            second = time.perf_counter() - t0
        assert 0.4 <= first < 0.58  # handshake RTT + request RTT
        assert 0.2 <= second < 0.38  # kept-alive: one RTT
    with FaultProxy(echo, latency_ms=100, handshake=False) as p:
        assert 0.2 <= _roundtrip(p.port)[1] < 0.38


def test_latency_is_per_chunk_not_per_request(echo):
    """Chunks sent 30 ms apart come back 30 ms apart (pipelined), each one RTT after sending."""
    with FaultProxy(echo, latency_ms=100, handshake=False) as p:
        with socket.create_connection(("127.0.0.1", p.port), timeout=10) as s:
            t0 = time.perf_counter()
            s.sendall(b"1")
            time.sleep(0.03)
            s.sendall(b"2")
            assert s.recv(1) == b"1"
            t1 = time.perf_counter() - t0
            assert s.recv(1) == b"2"
            t2 = time.perf_counter() - t0
        assert 0.2 <= t1 < 0.3 and 0.23 <= t2 < 0.33 and t2 - t1 < 0.1


def test_http_error_costs_a_round_trip(upstream):
    with FaultProxy(upstream.server_address, http=True, latency_ms=40) as p:
        conn, status, _, _ = _get(p)  # new connection: 2 RTT
        p.http_error(503)
        t0 = time.perf_counter()
        assert _get(p, conn=conn)[1] == 503
        assert 0.08 <= time.perf_counter() - t0 < 0.16


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl CLI")
def test_tls_handshake_crosses_the_delayed_path(upstream, tmp_path):
    """New HTTPS connection: TCP + TLS 1.3 + request = 3 RTT; kept-alive request: 1 RTT."""
    with FaultProxy(
        upstream.server_address, http=True, tls=True, latency_ms=40, cert_dir=tmp_path
    ) as p:
        assert p.cert_path == tmp_path / "cert.pem"
        ctx = ssl.create_default_context(cafile=str(p.cert_path))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        conn = http.client.HTTPSConnection("127.0.0.1", p.port, context=ctx, timeout=10)
        t0 = time.perf_counter()
        conn.request("GET", "/")
        assert conn.getresponse().read().startswith(b"hello")
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.request("GET", "/")
        assert conn.getresponse().read().startswith(b"hello")
        second = time.perf_counter() - t0
        conn.close()
        assert 0.24 <= first < 0.36
        assert 0.08 <= second < 0.16
        assert p.stats.connections == 1 and p.stats.requests == 2


def test_reset_passes_through_the_delayed_path(upstream):
    with FaultProxy(upstream.server_address, http=True, latency_ms=5) as p:
        p.reset(after_bytes=40)
        conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10)
        conn.request("GET", "/big")
        with pytest.raises(ConnectionResetError):
            conn.getresponse().read()


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl CLI")
def test_cli_tls_cert_dir_and_stats_file(upstream, tmp_path):
    import json

    stats = tmp_path / "stats.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "faults.proxy", "--upstream",
         f"{upstream.server_address[0]}:{upstream.server_address[1]}", "--tls", "--http",
         "--cert-dir", str(tmp_path), "--stats-file", str(stats)],
        cwd=FAULTS.parent,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        port = int(line.split()[2].rsplit(":", 1)[1])
        ctx = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().read().startswith(b"hello")
        conn.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if stats.exists() and json.loads(stats.read_text()).get("requests") == 1:
                break
            time.sleep(0.05)
        assert json.loads(stats.read_text())["connections"] == 1
        assert json.loads(stats.read_text())["requests"] == 1
    finally:
        proc.terminate()
        proc.wait(10)
