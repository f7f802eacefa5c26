"""Conformance plugin: django-d1 against the local D1 server (or a real/Miniflare endpoint).

Set D1_API_BASE, D1_ACCOUNT_ID, D1_TOKEN and D1_DATABASE_ID / D1_OTHER_DATABASE_ID plus
D1_TEST_DATABASE_ID / D1_TEST_OTHER_DATABASE_ID to run against another endpoint instead.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import sqlite3
import sys
from collections.abc import Iterator
from typing import Any

PACKAGES: list[str] = ["shared/django-backend-core", "packages/django-d1[server]"]
# D1 databases cannot be cloned: one process.
PARALLEL = 1


def _alias(
    api_base: str, account: str, token: str, db: str, test_db: str | None, *, local: bool = False
) -> dict:
    settings: dict[str, Any] = {
        "ENGINE": "django_d1",
        "CLOUDFLARE_ACCOUNT_ID": account,
        "CLOUDFLARE_DATABASE_ID": db,
        "CLOUDFLARE_TOKEN": token,
        "OPTIONS": {"api_base": api_base, "timeout": 60},
    }
    if local:
        # The local server runs on this interpreter's SQLite, which may be older than D1's.
        settings["OPTIONS"]["sqlite_version"] = sqlite3.sqlite_version
    if test_db:
        settings["TEST"] = {"CLOUDFLARE_DATABASE_ID": test_db}
    return settings


@contextlib.contextmanager
def configure(workdir: pathlib.Path) -> Iterator[dict[str, Any]]:
    api = os.environ.get("D1_API_BASE")
    if api:
        account = os.environ.get("D1_ACCOUNT_ID", "account")
        token = os.environ.get("D1_TOKEN", "devtoken")
        yield {
            "DATABASES": {
                "default": _alias(
                    api,
                    account,
                    token,
                    os.environ.get("D1_DATABASE_ID", "default"),
                    os.environ.get("D1_TEST_DATABASE_ID"),
                ),
                "other": _alias(
                    api,
                    account,
                    token,
                    os.environ.get("D1_OTHER_DATABASE_ID", "other"),
                    os.environ.get("D1_TEST_OTHER_DATABASE_ID"),
                ),
            }
        }
        return
    from django_backend_core.servers import LocalServer

    data = workdir / "d1-data"
    data.mkdir(parents=True, exist_ok=True)
    token = "conformance-token"
    server = LocalServer(
        [sys.executable, "-m", "django_d1.server", "--port", "{port}", "--data", str(data),
         "--token", token],
        ready="http:/healthz",
        name="d1",
        log_path=workdir / "d1-server.log",
    )  # fmt: skip
    with server:
        api = server.url("http", "/client/v4")
        yield {
            "DATABASES": {
                "default": _alias(api, "account", token, "default", None, local=True),
                "other": _alias(api, "account", token, "other", None, local=True),
            }
        }
