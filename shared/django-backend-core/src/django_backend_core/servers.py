"""Start a local server process on a free 127.0.0.1 port, wait until it answers, stop it.

Every backend ships a local server; its pytest plugin, ``make demo``, the conformance runner
and the benchmarks all need to start it the same way: on a free port, with its output in a
log file, ready before the first query, and reliably gone afterwards (by PID and process
group, TERM then KILL) even when a test fails.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .secrets import Redactor

_LIVE: weakref.WeakSet[LocalServer] = weakref.WeakSet()
_ADDRESS_IN_USE = re.compile(r"(?i)address already in use|EADDRINUSE|errno 98\b|in use by another")


class _PortTaken(Exception):
    """The automatically chosen port was taken before the server bound it."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def tcp_ready(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ready(host: str, port: int, path: str = "/", timeout: float = 1.0) -> bool:
    """True once ``GET path`` gets any HTTP answer below 500."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        return conn.getresponse().status < 500
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


Ready = str | Callable[["LocalServer"], bool]


class LocalServer:
    """One server process.

    ``argv`` may contain ``{port}`` and ``{host}``; ``ready`` is ``"tcp"`` (port accepts),
    ``"http:/path"`` (GET answers < 500), ``"none"`` or a callable ``(server) -> bool``.
    Output (stdout and stderr) goes to ``log_path`` (a temporary file by default, removed on
    a clean stop). ``redactor`` masks secrets in the log tail shown in errors.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        ready: Ready = "tcp",
        timeout: float = 30.0,
        name: str | None = None,
        log_path: str | os.PathLike[str] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        if not argv:
            raise ValueError("argv must name a program")
        self.host = host
        self._template = [str(a) for a in argv]
        self._auto_port = port is None
        self.port = port if port is not None else free_port(host)
        self.argv = self._render_argv()
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.ready = ready
        self.timeout = timeout
        self.name = name or Path(self.argv[0]).name
        self._own_log = log_path is None
        self.log_path: Path | None = Path(log_path) if log_path is not None else None
        self.redactor = redactor or Redactor()
        self.process: subprocess.Popen[bytes] | None = None

    def _render_argv(self) -> list[str]:
        return [
            a.replace("{port}", str(self.port)).replace("{host}", self.host) for a in self._template
        ]

    def __repr__(self) -> str:
        return f"<LocalServer {self.name} {self.host}:{self.port} pid={self.pid}>"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def url(self, scheme: str = "http", path: str = "") -> str:
        if path and not path.startswith("/"):
            path = "/" + path
        return f"{scheme}://{self.host}:{self.port}{path}"

    def is_ready(self) -> bool:
        ready = self.ready
        if callable(ready):
            return bool(ready(self))
        if ready == "tcp":
            return tcp_ready(self.host, self.port)
        if ready.startswith("http:"):
            return http_ready(self.host, self.port, ready[len("http:") :] or "/")
        if ready == "none":
            return True
        raise ValueError(f"unknown readiness check {ready!r}")

    def start(self) -> LocalServer:
        """Start and wait until ready. With an automatic port, a server that dies because
        the port was taken meanwhile (another process won the race) is retried on a new
        port, so ``.port`` is final only once ``start()`` returns."""
        if self.running:
            return self
        for attempt in range(3):
            try:
                return self._start_once()
            except _PortTaken:
                if attempt == 2:
                    self._fail("could not bind a free port (address already in use, 3 tries)")
                self.port = free_port(self.host)
                self.argv = self._render_argv()
        raise AssertionError("unreachable")  # pragma: no cover

    def _start_once(self) -> LocalServer:
        if tcp_ready(self.host, self.port, timeout=0.2):
            # Someone else answers there: readiness checks would talk to the wrong process.
            if self._auto_port:
                raise _PortTaken
            raise RuntimeError(
                f"{self.name}: {self.host}:{self.port} is already in use by another process"
            )
        if self.log_path is None:
            fd, path = tempfile.mkstemp(prefix=f"{self.name}-", suffix=".log")
            os.close(fd)
            self.log_path = Path(path)
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        if self.env:
            env.update(self.env)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=env,
                start_new_session=sys.platform != "win32",
            )
        _LIVE.add(self)
        deadline = time.monotonic() + self.timeout
        delay = 0.02
        while True:
            code = self.process.poll()
            if code is not None:
                if self._auto_port and _ADDRESS_IN_USE.search(self._log_since(offset)):
                    self.stop(keep_log=True)
                    raise _PortTaken
                self._fail(f"exited with code {code} before it was ready")
            try:
                if self.is_ready():
                    return self
            except Exception as exc:  # a user readiness callable failed: report, then stop
                self._fail(f"readiness check raised {type(exc).__name__}: {exc}")
            if time.monotonic() >= deadline:
                self._fail(f"was not ready within {self.timeout:g}s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def _fail(self, why: str) -> None:
        tail = self.log_tail()
        self.stop(keep_log=True)
        raise RuntimeError(
            self.redactor.redact(
                f"{self.name} ({' '.join(self.argv)}) on {self.host}:{self.port} {why}. "
                f"Log {self.log_path}, last lines:\n{tail}"
            )
        )

    def _log_since(self, offset: int) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as fh:
            fh.seek(offset)
            return fh.read(65536).decode("utf-8", "replace")

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(size - 16384, 0))
            data = fh.read().decode("utf-8", "replace")
        return self.redactor.redact("\n".join(data.splitlines()[-lines:]))

    def stop(self, timeout: float = 10.0, *, keep_log: bool = False) -> int | None:
        """Stop the process group (TERM, then KILL after ``timeout``); return the exit code."""
        proc = self.process
        code = None
        if proc is not None:
            if proc.poll() is None:
                self._signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    proc.wait(timeout)
            code = proc.returncode
            # The group may still hold children that ignored TERM.
            self._signal(getattr(signal, "SIGKILL", signal.SIGTERM))
        _LIVE.discard(self)
        if self._own_log and not keep_log and self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()
            self.log_path = None
        return code

    def _signal(self, sig: int) -> None:
        proc = self.process
        if proc is None:
            return
        try:
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, sig)
            else:  # pragma: no cover - Windows
                proc.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.stop(timeout=3)
