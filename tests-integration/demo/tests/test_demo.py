"""The demo driver: the sqlite3 walk, the app's tests, --serve and Ctrl-C, and astra's party finder."""

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
    # pytest-django ran them (the blog project's pytest.ini turns it on).
    m = re.search(r"^(\d+) passed", proc.stdout, re.M)
    assert m and int(m.group(1)) >= 20, proc.stdout[-3000:]


def test_astra_walks_the_party_finder():
    """astra's row: sync, parties per city, the LWT, admin pages, sessions TTL, what it cannot do."""
    proc = demo("--backend", "astra")
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-3000:]
    assert "== astra ==" in out
    for step in (
        "migrate/sync",
        "parties per city",
        "list by city",
        "count me in (LWT)",
        "admin pages",
        "sessions (TTL)",
    ):
        assert re.search(rf"^  {re.escape(step)}\s+ok\s", out, re.M), step
    assert re.search(r"^  transaction\.atomic\s+cannot\s", out, re.M)
    assert "-5 refused (would go below zero, stays 3)" in out
    pages = re.search(r"pages ok: (\d+)/(\d+)", out)
    assert pages and pages.group(1) == pages.group(2) and int(pages.group(2)) >= 15
    trips = int(re.search(r"round trips: ([\d,]+)", out).group(1).replace(",", ""))
    rows = int(re.search(r"rows written: ([\d,]+)", out).group(1).replace(",", ""))
    assert trips > 0 and rows >= 18 + 3  # at least the parties and guests
    assert "cannot do: filter on a non-key" in out
    assert re.search(r"^  astra\s+ok\s+ok\s", out, re.M)  # the summary row


def test_astra_is_left_out_of_the_blog_tests_with_its_reason():
    proc = demo("--backend", "astra", "--test")
    assert proc.returncode == 2
    assert "pytest packages/django-astra/tests" in proc.stderr


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


def test_astra_serve_runs_the_party_finder_until_ctrl_c():
    """`make demo BACKEND=astra SERVE=1`: the walk, then runserver + the CQL server; Ctrl-C
    stops both."""
    import json
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, str(RUN), "--backend", "astra", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    lines: list[str] = []
    port = cql_port = None
    deadline = time.monotonic() + 180
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if m := re.search(
                r"party finder on astra is running at http://127\.0\.0\.1:(\d+)/", line
            ):
                port = int(m.group(1))
            if m := re.search(r"local CQL server: 127\.0\.0\.1:(\d+)", line):
                cql_port = int(m.group(1))
                break
            assert time.monotonic() < deadline, "".join(lines)
        out = "".join(lines)
        assert port and cql_port, out
        assert "== astra ==" in out and re.search(r"pages ok: (\d+)/\1 ", out), out  # the walk
        assert re.search(r"user: admin  password: \S{8,}", out)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/parties/Berlin.json") as r:
            data = json.load(r)
        assert data["city"] == "Berlin" and len(data["parties"]) == 3  # made by the walk
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as r:
            assert r.status == 200
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, "".join(lines) + rest
    assert "servers stopped" in rest
    assert not _port_open(port) and not _port_open(cql_port)


def test_admin_password_reaches_the_walk_even_when_it_starts_with_a_dash(tmp_path):
    """The serve password goes through the environment: token_urlsafe() can start with "-",
    which argparse took for an option (a CI failure), and argv is visible in `ps`."""
    import json

    result = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(BLOG_BACKEND="sqlite3", DEMO_ADMIN_PASSWORD="-dash-first-password")
    proc = subprocess.run(
        [sys.executable, str(RUN.parent / "flow.py"), "--result", str(result)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT / "docs" / "examples" / "blog_project",
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(result.read_text())
    assert data["admin_password"] == "-dash-first-password"
    assert data["migrate_ok"] and data["pages"] == "18/18", data
