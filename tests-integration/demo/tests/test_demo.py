"""The demo driver on Django's sqlite3: the walk, the app's tests, --serve and Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RUN = ROOT / "tests-integration" / "demo" / "run.py"


def demo(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUN), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def check_table(out: str) -> None:
    assert "== sqlite3 ==" in out
    steps = ("migrate", "sample data", "pages", "bulk_create", "process_analytics")
    for step in (*steps, "task queue", "audit log"):
        assert re.search(rf"^  {re.escape(step)}\s+ok\s", out, re.M), step
    assert "pages ok: 18/18" in out
    assert "in one atomic transaction" in out  # sqlite3 has transactions
    assert "via conditional UPDATE" in out  # and no SKIP LOCKED
    rows = int(re.search(r"rows written: ([\d,]+)", out).group(1).replace(",", ""))
    assert rows > 1200  # at least the bulk inserts
    assert "round trips: not counted" in out  # Django's sqlite3 has no core metrics


def test_blog_tests_pass_on_sqlite3():
    proc = demo("--backend", "sqlite3", "--test")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "sqlite3: blog project tests passed" in proc.stdout
    assert re.search(r"Ran (\d+) tests", proc.stderr)


def test_unknown_backend_is_refused():
    proc = demo("--backend", "nosuch")
    assert proc.returncode != 0
    assert "unknown backend" in proc.stderr + proc.stdout


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_walk_then_serve_then_ctrl_c_stops_runserver():
    """--serve first walks the app and prints the table, then leaves runserver up."""
    proc = subprocess.Popen(
        [sys.executable, str(RUN), "--backend", "sqlite3", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )
    lines: list[str] = []
    port = None
    deadline = time.monotonic() + 120
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            m = re.search(r"is running at http://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
            if "password:" in line and port:
                break
            assert time.monotonic() < deadline, "".join(lines)
        assert port and _port_open(port), "".join(lines)
        check_table("".join(lines))
        assert re.search(r"user: admin  password: \S{8,}", "".join(lines))
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, "".join(lines) + rest
    assert "servers stopped" in rest
    assert not _port_open(port)
