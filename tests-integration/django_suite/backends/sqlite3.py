"""Conformance plugin: Django's stock sqlite3 backend (the reference figures, no server)."""

from __future__ import annotations

import contextlib
import pathlib
from collections.abc import Iterator
from typing import Any

# Nothing from the workspace: the stock backend ships with Django.
PACKAGES: list[str] = []
# sqlite3 can clone test databases, so runtests.py may use several processes.
PARALLEL = 2


@contextlib.contextmanager
def configure(workdir: pathlib.Path) -> Iterator[dict[str, Any]]:
    """Same DATABASES as Django's tests/test_sqlite.py (in-memory test databases)."""
    yield {
        "DATABASES": {
            "default": {"ENGINE": "django.db.backends.sqlite3"},
            "other": {"ENGINE": "django.db.backends.sqlite3"},
        }
    }
