"""pytest plugin for django-dbms: fixtures that start a workers-dbms server.

* ``dbms_server``: the local server (``python -m django_dbms.server``), once per session;
* ``dbms_target``: where the integration tests run: the local server by default, the
  Miniflare Worker of ``tests-integration/cloudflare`` when ``CLOUDFLARE_MINIFLARE=1``, or a
  deployed workers-dbms when ``WORKERS_DBMS_TEST_URL`` (``wss://host``) is set (Access
  credentials from ``WORKERS_DBMS_ACCESS_ID``/``WORKERS_DBMS_ACCESS_SECRET``).

Imports stay cheap (no Django, no websockets) because every workspace pytest run loads it.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django_backend_core.testing import server_fixture

dbms_server = server_fixture(
    [
        sys.executable,
        "-m",
        "django_dbms.server",
        "--port",
        "{port}",
        "--data",
        "{tmp}",
        "--lock-timeout",
        "2",
    ],
    name="dbms_server",
    ready="tcp",
)


@dataclass
class DBMSTarget:
    """A workers-dbms deployment to test against."""

    kind: str  # "local", "miniflare" or "remote"
    base: str  # ws(s)://host[:port]
    access_id: str | None = None
    access_secret: str | None = None
    server: Any = None
    #: Seconds a session waits for another session's transaction lock before it gets an
    #: error (None: production, which waits forever).
    lock_timeout: float | None = None

    def endpoint(self, database_id: str | None = None) -> str:
        database_id = database_id or f"t{uuid.uuid4().hex[:12]}"
        return f"{self.base}/api/v1/databases/{database_id}/websocket"

    def http(self, database_id: str) -> str:
        base = self.base.replace("wss://", "https://").replace("ws://", "http://")
        return f"{base}/api/v1/databases/{database_id}/query"


def _miniflare_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "tests-integration" / "cloudflare"
        if candidate.is_dir():
            return candidate
    raise RuntimeError("tests-integration/cloudflare not found (needs a source checkout)")


@pytest.fixture(scope="session")
def dbms_target(request: pytest.FixtureRequest) -> Iterator[DBMSTarget]:
    remote = os.environ.get("WORKERS_DBMS_TEST_URL")
    if remote:
        yield DBMSTarget(
            "remote",
            remote.rstrip("/"),
            os.environ.get("WORKERS_DBMS_ACCESS_ID"),
            os.environ.get("WORKERS_DBMS_ACCESS_SECRET"),
        )
        return
    if os.environ.get("CLOUDFLARE_MINIFLARE") == "1":
        from django_backend_core.servers import LocalServer

        root = _miniflare_root()
        if not (root / "node_modules" / "miniflare").is_dir():
            pytest.skip("CLOUDFLARE_MINIFLARE=1 but miniflare is not installed: npm ci there")
        with LocalServer(
            ["node", str(root / "runner.mjs"), "--port", "{port}"],
            cwd=root,
            ready="tcp",
            timeout=60,
            name="miniflare",
        ) as server:
            yield DBMSTarget(
                "miniflare", f"ws://127.0.0.1:{server.port}", server=server, lock_timeout=5
            )
        return
    server = request.getfixturevalue("dbms_server")
    yield DBMSTarget("local", f"ws://127.0.0.1:{server.port}", server=server, lock_timeout=2)
