"""Choose the project's databases from the environment.

``BLOG_BACKEND`` names the backend (``sqlite3``, ``d1``, ``dbms``, ``jsonlines_git``,
``prisma``; not ``astra``, whose models are cqlengine models). sqlite3 needs nothing else: it
uses files under ``BLOG_DATA_DIR``. Every other backend talks to a server, so its settings come
as JSON in ``BLOG_DATABASES_SECRET`` (aliases ``default`` and ``analytics``; the variable's name contains SECRET so Django's
debug page masks it, since it holds tokens). ``tests-integration/demo/run.py`` starts the
backend's local server and sets both variables for you; for a real cloud database, write
the JSON yourself (keys holding secrets contain TOKEN/KEY/SECRET/PASS so Django masks them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

BACKENDS = ("sqlite3", "d1", "dbms", "jsonlines_git", "prisma")
NOT_APPLICABLE = {
    "astra": "django-astra maps cqlengine models (DjangoCassandraModel), not Django ORM models; "
    "this project's models cannot run on it. Its demo is the party finder "
    "(docs/examples/partyfinder_project; `make demo BACKEND=astra`).",
}
ALIASES = ("default", "analytics")


def sqlite_databases(data_dir: Path) -> dict[str, dict[str, Any]]:
    """Two sqlite files; test databases are files too so worker threads can share them."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        alias: {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(data_dir / f"{alias}.sqlite3"),
            # Two task workers write at once: wait for the lock instead of failing.
            "OPTIONS": {"timeout": 20},
            "TEST": {"NAME": str(data_dir / f"test_{alias}.sqlite3")},
        }
        for alias in ALIASES
    }


def from_environment(base_dir: Path) -> tuple[str, dict[str, dict[str, Any]]]:
    """Return ``(backend name, DATABASES)`` or raise ImproperlyConfigured saying what to set."""
    backend = os.environ.get("BLOG_BACKEND", "sqlite3")
    if backend in NOT_APPLICABLE:
        raise ImproperlyConfigured(f"BLOG_BACKEND={backend}: {NOT_APPLICABLE[backend]}")
    if backend not in BACKENDS:
        raise ImproperlyConfigured(f"BLOG_BACKEND={backend!r} is not one of {', '.join(BACKENDS)}.")
    raw = os.environ.get("BLOG_DATABASES_SECRET")
    if raw:
        try:
            databases = json.loads(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(f"BLOG_DATABASES_SECRET is not valid JSON: {exc}") from None
        missing = [alias for alias in ALIASES if alias not in databases]
        if missing:
            raise ImproperlyConfigured(
                f"BLOG_DATABASES_SECRET lacks the alias(es) {', '.join(missing)}; "
                "give both 'default' and 'analytics'."
            )
        return backend, databases
    if backend == "sqlite3":
        data_dir = Path(os.environ.get("BLOG_DATA_DIR", base_dir / "var"))
        return backend, sqlite_databases(data_dir)
    raise ImproperlyConfigured(
        f"BLOG_BACKEND={backend} needs a running server. Run "
        f"`python tests-integration/demo/run.py --backend {backend} --serve` (starts the local "
        "server and this project), or set BLOG_DATABASES_SECRET to a JSON DATABASES dict with the "
        "aliases 'default' and 'analytics'."
    )
