"""Import Django's postgresql backend modules without psycopg installed.

Django's ``postgresql`` package imports psycopg (through ``psycopg_any`` and ``base``) at module
level, although operations, features, schema, creation and introspection only need a handful of
names from it. django-prisma speaks HTTP, so it must not require libpq: when neither psycopg
nor psycopg2 is importable, those modules are imported while a minimal stand-in for
``psycopg_any`` (and for ``base.psycopg_version``) sits in ``sys.modules``; the stand-ins are
removed again afterwards so Django's own ``postgresql`` ENGINE still reports its usual
"Error loading psycopg" if someone selects it. Every method that would use a psycopg object at
runtime is overridden in this package, so behaviour is the same whether psycopg is installed
or not.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from enum import IntEnum
from typing import Any

_PKG = "django.db.backends.postgresql"
_MODULES = ("features", "operations", "schema", "creation", "introspection", "compiler", "client")


class _Errors:
    class DataError(Exception):
        pass

    class DuplicateDatabase(Exception):
        pass


class _Sql:
    @staticmethod
    def quote(value: Any, connection: Any = None) -> str:
        from .literals import quote_value

        return quote_value(value)


class IsolationLevel(IntEnum):
    READ_UNCOMMITTED = 1
    READ_COMMITTED = 2
    REPEATABLE_READ = 3
    SERIALIZABLE = 4


def _mogrify(sql: str, params: Any, connection: Any) -> str:
    from .literals import compose

    return compose(sql, params)


def _shim() -> types.ModuleType:
    from .wire import JsonText

    mod = types.ModuleType(f"{_PKG}.psycopg_any")
    mod.__dict__.update(
        is_psycopg3=False,
        errors=_Errors,
        sql=_Sql,
        IsolationLevel=IsolationLevel,
        mogrify=_mogrify,
        Inet=str,
        Jsonb=lambda value, dumps=None: JsonText((dumps or __import__("json").dumps)(value)),
        RANGE_TYPES=(),
    )
    return mod


def _psycopg_available() -> bool:
    return any(importlib.util.find_spec(n) is not None for n in ("psycopg", "psycopg2"))


def load() -> dict[str, types.ModuleType]:
    """Return Django's postgresql role modules, importable with or without psycopg."""
    if _psycopg_available() or f"{_PKG}.operations" in sys.modules:
        # Django's own import order (base first) avoids its base <-> introspection cycle.
        if _psycopg_available():
            importlib.import_module(f"{_PKG}.base")
        return {name: importlib.import_module(f"{_PKG}.{name}") for name in _MODULES}
    pkg = importlib.import_module(_PKG)
    base_stub = types.ModuleType(f"{_PKG}.base")
    base_stub.psycopg_version = lambda: (0,)  # type: ignore[attr-defined]
    installed = {f"{_PKG}.psycopg_any": _shim(), f"{_PKG}.base": base_stub}
    saved = {name: sys.modules.get(name) for name in installed}
    sys.modules.update(installed)
    try:
        return {name: importlib.import_module(f"{_PKG}.{name}") for name in _MODULES}
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
            attr = name.rsplit(".", 1)[1]
            if getattr(pkg, attr, None) is installed[name]:
                delattr(pkg, attr)


pg = load()
