"""Conformance plugin: django-prisma against two local @prisma/dev servers (default, other).

Each alias gets its own stateless @prisma/dev (Node 22, PGlite Postgres 17) started through
``django_prisma.server.PrismaDevServer`` (the core's LocalServer), stopped by PID on exit.
Set PRISMA_URL / PRISMA_OTHER_URL (prisma+postgres://...?api_key=...) to run against other
endpoints instead; the test run wipes schema public of those databases.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
from collections.abc import Iterator
from typing import Any

PACKAGES: list[str] = ["shared/django-backend-core", "packages/django-prisma"]
# One database per Prisma URL: no test-database cloning.
PARALLEL = 1
# Django's TestCase keeps one interactive transaction open per test class; @prisma/dev caps
# interactive transactions at 5 minutes, so test-database creation (hundreds of tables in one
# schema editor) runs in autocommit (atomic_migrations=False).
OPTIONS = {
    "transaction_timeout": 300_000,
    "max_wait": 60_000,
    "timeout": 120,
    "atomic_migrations": False,
}


@contextlib.contextmanager
def configure(workdir: pathlib.Path) -> Iterator[dict[str, Any]]:
    url, other = os.environ.get("PRISMA_URL"), os.environ.get("PRISMA_OTHER_URL")
    if url and other:
        yield {
            "DATABASES": {
                alias: {"ENGINE": "django_prisma", "URL": u, "OPTIONS": dict(OPTIONS)}
                for alias, u in (("default", url), ("other", other))
            }
        }
        return
    from django_prisma.server import start_servers

    with start_servers(2) as (default, other_server):
        for server in (default, other_server):
            server.add_test_collations()
        yield {
            "DATABASES": {
                "default": default.settings(OPTIONS=dict(OPTIONS)),
                "other": other_server.settings(OPTIONS=dict(OPTIONS)),
            }
        }
