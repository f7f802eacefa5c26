"""The backends `make demo` knows about, and how to tell whether one works yet.

A backend joins the demo with one entry here. Its local server is started by the same
``configure(workdir)`` context manager the conformance runner uses
(``tests-integration/django_suite/backends/<plugin>.py``), so server start-up lives in one
place. The demo maps that plugin's ``other`` alias to the blog project's ``analytics`` alias.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "tests-integration" / "django_suite" / "backends"


@dataclass(frozen=True)
class DemoBackend:
    name: str  # BLOG_BACKEND value
    engine: str  # module whose import proves the backend is written
    plugin: str | None  # django_suite plugin providing configure(workdir); None: no server
    package: str | None = None  # workspace path, for messages
    # Which app the demo walks: "blog" (the reference blog project, Django SQL models) or
    # "partyfinder" (django-astra's party finder: cqlengine models, docs/examples/partyfinder_project).
    app: str = "blog"
    # Why two task workers cannot run at once against this backend's LOCAL server (None: they
    # can). The demo then runs them one after the other and says why.
    serial_workers: str | None = None

    @property
    def has_server(self) -> bool:
        """Whether the demo starts a local server for this backend (all but Django's sqlite3)."""
        return self.plugin is not None or self.app == "partyfinder"

    def plugin_path(self) -> Path | None:
        return None if self.plugin is None else PLUGINS / f"{self.plugin}.py"


BACKENDS: dict[str, DemoBackend] = {
    b.name: b
    for b in [
        DemoBackend("sqlite3", "django.db.backends.sqlite3.base", None),
        DemoBackend("d1", "django_d1.base", "d1", "packages/django-d1"),
        DemoBackend("dbms", "django_dbms.base", "dbms", "packages/django-dbms"),
        DemoBackend(
            "jsonlines_git",
            "django_jsonlines_git.write.base",
            "jsonlines_git",
            "packages/django-jsonlines-git",
        ),
        DemoBackend(
            "prisma",
            "django_prisma.base",
            "prisma",
            "packages/django-prisma",
            serial_workers=(
                "@prisma/dev runs PGlite, which serves one database session at a time: two "
                "concurrent sessions interleave their wire messages (SQLSTATE 08P01). Workers run "
                "one after the other here; Prisma Postgres itself has no such limit"
            ),
        ),
        # django-astra stores cqlengine models, not the blog's Django SQL models: its row walks
        # the party finder on the local CQL server (started here, not by a conformance plugin:
        # Django's SQL test suite does not apply to it).
        DemoBackend("astra", "django_astra.base", None, "packages/django-astra", app="partyfinder"),
    ]
}


def why_unusable(backend: DemoBackend) -> str | None:
    """None if the backend can run the demo, else the reason (e.g. "not implemented yet")."""
    proc = subprocess.run(
        [sys.executable, "-c", f"import {backend.engine}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return f"import {backend.engine} fails: {lines[-1] if lines else 'exit ' + str(proc.returncode)}"
    path = backend.plugin_path()
    if path is not None and not path.exists():
        return f"no server plugin yet ({path.relative_to(ROOT)})"
    return None


def load_plugin(backend: DemoBackend) -> ModuleType:
    path = backend.plugin_path()
    assert path is not None
    spec = importlib.util.spec_from_file_location(f"demo_plugin_{backend.plugin}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def environment(backend: DemoBackend, workdir: Path) -> Iterator[dict[str, str]]:
    """Start the backend's server(s) and yield the env vars the blog project reads.

    Servers stop when the block exits, also on KeyboardInterrupt.
    """
    if backend.app == "partyfinder":
        with cql_server(workdir) as port:
            yield {
                "BLOG_BACKEND": backend.name,
                "PARTY_CQL_PORT": str(port),
                "PARTY_DATA_DIR": str(workdir / "data"),
            }
        return
    env = {"BLOG_BACKEND": backend.name, "BLOG_DATA_DIR": str(workdir / "data")}
    if backend.serial_workers:
        env["BLOG_DEMO_SERIAL_WORKERS"] = backend.serial_workers
    if backend.plugin is None:
        yield env
        return
    plugin = load_plugin(backend)
    with plugin.configure(workdir) as settings:
        databases = dict(settings["DATABASES"])
        if "analytics" not in databases:
            databases["analytics"] = databases.pop("other")
        env["BLOG_DATABASES_SECRET"] = json.dumps(databases, default=str)
        ignored = sorted(k for k in settings if k != "DATABASES")
        if ignored:
            print(f"  note: the demo ignores the plugin's other settings: {', '.join(ignored)}")
        yield env


@contextlib.contextmanager
def cql_server(workdir: Path) -> Iterator[int]:
    """django-astra's local CQL server on a free port; stopped (by PID) when the block exits."""
    from django_backend_core.servers import LocalServer

    argv = [sys.executable, "-m", "django_astra.server", "--port", "{port}"]
    argv += ["--data", str(workdir / "cql")]
    server = LocalServer(argv, name="cql-server", ready="tcp", timeout=60, cwd=ROOT)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    with server:
        yield server.port


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env
