"""pytest plugin for django-d1: a session fixture that starts the local D1 server.

* ``d1_server``: ``python -m django_d1.server`` on a free port with token ``devtoken``
  (``d1_server.url("http", "/client/v4")`` is the ``api_base`` to use);
* ``d1_endpoint``: where integration tests run — the local server by default, or the endpoint
  named by ``D1_API_BASE`` / ``D1_ACCOUNT_ID`` / ``D1_DATABASE_ID`` / ``D1_TOKEN`` (Miniflare or
  real Cloudflare).

Import-cheap: no Django, no httpx until a fixture runs.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

TOKEN = "devtoken"


@dataclass(frozen=True)
class D1Endpoint:
    """Connection facts for one D1 REST endpoint (secrets stay out of the repr)."""

    api_base: str
    account_id: str
    database_id: str
    token: str
    local: bool

    def __repr__(self) -> str:
        return f"D1Endpoint({self.api_base!r}, db={self.database_id!r}, local={self.local})"

    def settings(self, database_id: str | None = None, **extra: Any) -> dict[str, Any]:
        """A DATABASES entry for this endpoint."""
        options: dict[str, Any] = {"api_base": self.api_base}
        if self.local:
            # The local server runs on this interpreter's SQLite, which may be older than D1's.
            options["sqlite_version"] = sqlite3.sqlite_version
        return {
            "ENGINE": "django_d1",
            "CLOUDFLARE_ACCOUNT_ID": self.account_id,
            "CLOUDFLARE_DATABASE_ID": database_id or self.database_id,
            "CLOUDFLARE_TOKEN": self.token,
            "OPTIONS": {**options, **extra.pop("OPTIONS", {})},
            **extra,
        }


@pytest.fixture(scope="session")
def d1_server(tmp_path_factory: Any) -> Iterator[Any]:
    """The local D1 server for the session (a ``django_backend_core.servers.LocalServer``)."""
    from django_backend_core.servers import LocalServer

    data = tmp_path_factory.mktemp("d1-data")
    argv = [sys.executable, "-m", "django_d1.server", "--port", "{port}", "--data", str(data)]
    argv += ["--token", TOKEN]
    with LocalServer(argv, name="d1-server", ready="http:/healthz", timeout=30) as server:
        yield server


@pytest.fixture(scope="session")
def d1_endpoint(request: pytest.FixtureRequest) -> D1Endpoint:
    """The endpoint integration tests use (env-selected, else the local server)."""
    api = os.environ.get("D1_API_BASE")
    if api:
        return D1Endpoint(
            api_base=api,
            account_id=os.environ.get("D1_ACCOUNT_ID", "account"),
            database_id=os.environ.get("D1_DATABASE_ID", "test-" + uuid.uuid4().hex[:8]),
            token=os.environ.get("D1_TOKEN", TOKEN),
            local=False,
        )
    server = request.getfixturevalue("d1_server")
    return D1Endpoint(
        api_base=server.url("http", "/client/v4"),
        account_id="account",
        database_id="db-" + uuid.uuid4().hex[:8],
        token=TOKEN,
        local=True,
    )
