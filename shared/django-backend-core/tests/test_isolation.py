"""The core imports nothing store-specific, and its plugin-facing modules import cheaply."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = [
    "httpx",
    "httpcore",
    "anyio",
    "websockets",
    "cassandra",
    "git",
    "lark",
    "starlette",
    "uvicorn",
    "psycopg",
    "psycopg2",
    "django_d1",
    "django_dbms",
    "django_prisma",
    "django_astra",
    "django_jsonlines_git",
]

PROBE = """
import importlib, json, pkgutil, sys
import django_backend_core
names = []
for info in pkgutil.walk_packages(django_backend_core.__path__, "django_backend_core."):
    importlib.import_module(info.name)
    names.append(info.name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


def run(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_module_imports_without_store_libraries():
    result = run(PROBE)
    modules = set(result["modules"])
    for name in ("dbapi", "transport", "params", "cursor", "errors", "secrets", "settings"):
        assert f"django_backend_core.{name}" in modules
    for name in ("metrics", "servers", "testing"):
        assert f"django_backend_core.{name}" in modules
    loaded = result["loaded"]
    leaked = sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert leaked == []


def test_plugin_facing_imports_are_cheap():
    code = (
        "import json, sys\n"
        "import django_backend_core.testing, django_backend_core.servers\n"
        "print(json.dumps({'loaded': sorted(sys.modules)}))\n"
    )
    loaded = run(code)["loaded"]
    assert "pytest" not in loaded  # imported only when a fixture is built
    assert "django" not in loaded  # nor Django, so plugins never touch settings at import
