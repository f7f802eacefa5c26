"""Conformance plugin: django-dbms against the Miniflare Worker (workerd, a real Durable Object
over ``ctx.storage.sql``) of ``tests-integration/cloudflare``, instead of the Python server.

Same backend and settings as the ``dbms`` plugin; reports go to ``dbms_miniflare-*``. Needs
node and ``npm ci`` in ``tests-integration/cloudflare`` (run here if node_modules is missing).
"""

from __future__ import annotations

import contextlib
import importlib.util
import pathlib
from collections.abc import Iterator
from typing import Any

_spec = importlib.util.spec_from_file_location(
    "conformance_backend_dbms_base", pathlib.Path(__file__).with_name("dbms.py")
)
assert _spec and _spec.loader
_dbms = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_dbms)

PACKAGES: list[str] = _dbms.PACKAGES
PARALLEL = _dbms.PARALLEL


@contextlib.contextmanager
def configure(workdir: pathlib.Path) -> Iterator[dict[str, Any]]:
    with _dbms.configure(workdir, miniflare=True) as settings:
        yield settings
