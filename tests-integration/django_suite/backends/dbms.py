"""Conformance plugin: django-dbms against the local workers-dbms server.

Both aliases live on one server (one SQLite file per database id), as two Durable Objects
would on one Worker. Set ``CLOUDFLARE_MINIFLARE=1`` (or use the ``dbms_miniflare`` plugin) to
run against the Miniflare Worker of ``tests-integration/cloudflare`` instead: the same protocol
served by a Durable Object on workerd (how it holds transactions there: see its README).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

PACKAGES: list[str] = ["shared/django-backend-core", "packages/django-dbms[server]"]
# Test databases cannot be cloned: one process.
PARALLEL = 1

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _databases(base: str, sqlite_version: str | None = None) -> dict[str, Any]:
    def alias(name: str) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "ENGINE": "django_dbms",
            "WORKERS_DBMS_ENDPOINT": f"{base}/api/v1/databases/{name}-db/websocket",
            "TEST": {"NAME": f"test-{name}-db"},
        }
        if sqlite_version:
            settings["OPTIONS"] = {"sqlite_version": sqlite_version}
        return settings

    return {"default": alias("default"), "other": alias("other")}


@contextlib.contextmanager
def configure(workdir: pathlib.Path, *, miniflare: bool | None = None) -> Iterator[dict[str, Any]]:
    from django_backend_core.servers import LocalServer

    if miniflare is None:
        miniflare = os.environ.get("CLOUDFLARE_MINIFLARE") == "1"
    if miniflare:
        tier = ROOT / "tests-integration" / "cloudflare"
        if not (tier / "node_modules" / "miniflare").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=tier, check=True)
        with LocalServer(
            ["node", str(tier / "runner.mjs"), "--port", "{port}"],
            cwd=tier,
            ready="tcp",
            timeout=60,
            name="miniflare",
            log_path=workdir / "miniflare.log",
        ) as server:
            yield {"DATABASES": _databases(f"ws://127.0.0.1:{server.port}")}
        return
    env = dict(os.environ)
    src = str(ROOT / "packages" / "django-dbms" / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    data = workdir / "dbms-data"
    argv = [sys.executable, "-m", "django_dbms.server", "--port", "{port}", "--data", str(data)]
    argv += ["--lock-timeout", "30"]
    with LocalServer(
        argv, env=env, ready="tcp", name="dbms", log_path=workdir / "dbms-server.log"
    ) as server:
        # The local server runs on this interpreter's SQLite, which may be older than a DO's.
        yield {"DATABASES": _databases(f"ws://127.0.0.1:{server.port}", sqlite3.sqlite_version)}
