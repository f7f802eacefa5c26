"""pytest plugin for django-astra: ``cql_server`` / ``cql_server_astra`` start the local CQL server.

Import-cheap: nothing but the fixture factory is imported until a fixture is used.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest


def _server(tmp_path_factory: Any, *extra: str) -> Iterator[Any]:
    from django_backend_core.servers import LocalServer

    data = tmp_path_factory.mktemp("cql-data")
    argv = [
        sys.executable,
        "-m",
        "django_astra.server",
        "--port",
        "{port}",
        "--data",
        str(data),
        *extra,
    ]
    with LocalServer(
        argv, name="cql-server" + ("-astra" if extra else ""), ready="tcp", timeout=30
    ) as server:
        yield server


@pytest.fixture(scope="session")
def cql_server(tmp_path_factory: Any) -> Iterator[Any]:
    """A local CQL server (Cassandra mode) for the test session; ``.port`` to connect."""
    yield from _server(tmp_path_factory)


@pytest.fixture(scope="session")
def cql_server_astra(tmp_path_factory: Any) -> Iterator[Any]:
    """A local CQL server in Astra mode (Astra product type, keyspace DDL refused)."""
    yield from _server(tmp_path_factory, "--astra")
