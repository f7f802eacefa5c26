"""Conformance baseline: Django's stock postgresql backend (psycopg 3) on the same local
Postgres that django-prisma uses (@prisma/dev's PGlite), through its direct TCP port.

This is the denominator of django-prisma's ">= 95 % of the baseline" goal: same server, same
Postgres build, only the backend differs.
"""

from __future__ import annotations

import contextlib
import pathlib
import urllib.parse
from collections.abc import Iterator
from typing import Any

PACKAGES: list[str] = ["tests-integration/prisma/baseline-deps"]
# PGlite is one database; CREATE DATABASE clones are not meaningful here.
PARALLEL = 1


def _alias(database_url: str) -> dict[str, Any]:
    parts = urllib.parse.urlsplit(database_url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": parts.hostname,
        "PORT": parts.port,
        "NAME": parts.path.lstrip("/") or "template1",
        "USER": parts.username,
        "PASSWORD": parts.password,
        "OPTIONS": {"sslmode": "disable"},
    }


@contextlib.contextmanager
def configure(workdir: pathlib.Path) -> Iterator[dict[str, Any]]:
    from django_prisma.server import start_servers

    with start_servers(2) as (default, other):
        for server in (default, other):
            server.add_test_collations()
        yield {
            "DATABASES": {
                "default": _alias(default.database_url),
                "other": _alias(other.database_url),
            }
        }
