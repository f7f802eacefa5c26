"""servers.LocalServer with real processes on real ports."""

from __future__ import annotations

import os
import socket
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from django_backend_core.secrets import Redactor
from django_backend_core.servers import LocalServer, free_port, http_ready, tcp_ready
from django_backend_core.testing import server_fixture

PY = sys.executable

# A tiny HTTP server: optional start delay, prints its port, answers GET /health with 200.
HTTP_SERVER = textwrap.dedent(
    """
    import http.server, sys, time
    port, delay = int(sys.argv[1]), float(sys.argv[2])
    print("starting on", port, flush=True)
    time.sleep(delay)
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            code = 200 if self.path == "/health" else 404
            self.send_response(code); self.end_headers(); self.wfile.write(b"ok %d" % port)
        def log_message(self, *a): pass
    http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
    """
)


def gone(pid: int, within: float = 5.0) -> bool:
    """True once ``pid`` no longer exists (or is a zombie nobody has reaped yet)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return True
        if "\nState:\tZ" in state:
            return True
        time.sleep(0.05)
    return False


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
    assert not tcp_ready("127.0.0.1", port)


def test_tcp_ready_start_url_and_stop_by_pid():
    server = LocalServer([PY, "-c", HTTP_SERVER, "{port}", "0"], name="tiny")
    assert server.pid is None and not server.running
    server.start()
    try:
        assert server.running and server.pid
        assert server.url("http", "health") == f"http://127.0.0.1:{server.port}/health"
        with urllib.request.urlopen(server.url(path="/health"), timeout=5) as resp:
            assert resp.read() == f"ok {server.port}".encode()  # {port} reached the process
        assert "starting on" in server.log_tail()
        log = server.log_path
        assert log is not None and log.exists()
    finally:
        code = server.stop()
    assert code is not None
    assert gone(server.pid)
    assert not server.running
    assert not log.exists()  # temporary log removed on a clean stop
    assert not tcp_ready("127.0.0.1", server.port)


def test_http_readiness_waits_for_late_server():
    server = LocalServer([PY, "-c", HTTP_SERVER, "{port}", "0.6"], ready="http:/health", timeout=20)
    started = time.monotonic()
    with server:
        assert time.monotonic() - started >= 0.6
        assert http_ready(server.host, server.port, "/health")
        assert not http_ready(server.host, free_port(), "/")
    assert gone(server.pid)


def test_callable_readiness_and_explicit_port_and_log_path(tmp_path):
    port = free_port()
    seen = []

    def ready(srv: LocalServer) -> bool:
        seen.append(srv.port)
        return http_ready(srv.host, srv.port, "/health")

    log = tmp_path / "server.log"
    with LocalServer([PY, "-c", HTTP_SERVER, "{port}", "0"], port=port, ready=ready, log_path=log):
        assert seen and set(seen) == {port}
    assert log.exists() and "starting on" in log.read_text()  # a given log is kept


def test_timeout_error_carries_log_tail_and_kills_process():
    script = "import time\nprint('hello-from-server token=abcd1234', flush=True)\ntime.sleep(60)"
    server = LocalServer([PY, "-c", script], timeout=1.5, name="sleepy")
    with pytest.raises(RuntimeError) as info:
        server.start()
    msg = str(info.value)
    assert "sleepy" in msg and "not ready within 1.5s" in msg
    assert "hello-from-server" in msg
    assert "abcd1234" not in msg  # the tail is redacted
    assert gone(server.pid)


def test_early_exit_reported_fast_with_redacted_tail():
    script = "import sys\nprint('failing with SECRET-XYZ-1', flush=True)\nsys.exit(3)"
    server = LocalServer([PY, "-c", script], timeout=30, redactor=Redactor("SECRET-XYZ-1"))
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="exited with code 3") as info:
        server.start()
    assert time.monotonic() - started < 10
    assert "failing with" in str(info.value) and "SECRET-XYZ-1" not in str(info.value)


def test_context_manager_stops_on_exception():
    server = LocalServer([PY, "-c", HTTP_SERVER, "{port}", "0"])
    with pytest.raises(ZeroDivisionError):
        with server:
            pid = server.pid
            1 / 0  # noqa: B018
    assert pid and gone(pid)


def test_stop_escalates_to_kill_and_reaps_the_process_group(tmp_path):
    child_pid_file = tmp_path / "child.pid"
    script = textwrap.dedent(
        f"""
        import signal, subprocess, sys, socket, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the leader ignores TERM
        child = subprocess.Popen([sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
        open({str(child_pid_file)!r}, "w").write(str(child.pid))
        s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
        while True:
            time.sleep(1)
        """
    )
    server = LocalServer([PY, "-c", script, "{port}"]).start()
    for _ in range(100):
        if child_pid_file.exists() and child_pid_file.read_text():
            break
        time.sleep(0.05)
    child = int(child_pid_file.read_text())
    started = time.monotonic()
    code = server.stop(timeout=1)
    assert code == -9  # TERM was ignored, KILL ended it
    assert time.monotonic() - started < 8
    assert gone(server.pid) and gone(child)


def test_argv_host_substitution_and_env():
    script = (
        "import os, socket, sys\n"
        "print(sys.argv[1], os.environ['CORE_TEST_VAR'], flush=True)\n"
        "s = socket.socket(); s.bind((sys.argv[1], int(sys.argv[2]))); s.listen()\n"
        "import time; time.sleep(60)\n"
    )
    with LocalServer([PY, "-c", script, "{host}", "{port}"], env={"CORE_TEST_VAR": "v1"}) as s:
        assert s.argv[-2:] == ["127.0.0.1", str(s.port)]
        deadline = time.monotonic() + 5
        while "127.0.0.1 v1" not in s.log_tail() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "127.0.0.1 v1" in s.log_tail()


def test_invalid_arguments():
    with pytest.raises(ValueError):
        LocalServer([])
    with pytest.raises(ValueError):
        LocalServer([PY, "-c", "pass"], ready="carrier-pigeon").is_ready()


tiny_server = server_fixture(
    [PY, "-c", HTTP_SERVER, "{port}", "0"], scope="module", name="tiny_server", ready="http:/health"
)


def test_server_fixture_factory(tiny_server):
    assert isinstance(tiny_server, LocalServer) and tiny_server.running
    assert http_ready(tiny_server.host, tiny_server.port, "/health")
    assert os.getpgid(tiny_server.pid) == tiny_server.pid  # own process group


@pytest.mark.parametrize("listening", [True, False])
def test_port_taken_meanwhile_is_retried_on_a_new_port(monkeypatch, listening):
    # listening: caught before the start; bound only: the server dies with EADDRINUSE.
    import django_backend_core.servers as servers_mod

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    if listening:
        taken.listen()
    taken_port = taken.getsockname()[1]
    real_free_port = servers_mod.free_port
    ports = iter([taken_port])
    monkeypatch.setattr(
        servers_mod, "free_port", lambda host="127.0.0.1": next(ports, None) or real_free_port(host)
    )
    try:
        server = LocalServer([PY, "-c", HTTP_SERVER, "{port}", "0"], ready="http:/health")
        assert server.port == taken_port
        with server:
            assert server.port != taken_port
            assert str(server.port) in server.argv
            assert http_ready(server.host, server.port, "/health")
    finally:
        taken.close()


def test_explicit_port_in_use_is_an_error_not_a_retry():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        server = LocalServer([PY, "-c", HTTP_SERVER, "{port}", "0"], port=port, timeout=20)
        with pytest.raises(RuntimeError, match="exited with code 1") as info:
            server.start()
        assert "Address already in use" in str(info.value)
        assert gone(server.pid)
        taken.listen()
        with pytest.raises(RuntimeError, match="already in use by another process"):
            LocalServer([PY, "-c", HTTP_SERVER, "{port}", "0"], port=port).start()
    finally:
        taken.close()
