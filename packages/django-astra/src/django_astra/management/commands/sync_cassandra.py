"""``manage.py sync_cassandra``: keyspace (not on Astra), tables, new columns, indexes."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connections


def cassandra_models(alias: str) -> list[type]:
    """Every concrete DjangoCassandraModel of the installed apps that lives on ``alias``."""
    import importlib
    import inspect

    from django.apps import apps

    from ...models import DjangoCassandraModel

    found: list[type] = []
    for cfg in apps.get_app_configs():
        try:
            mod = importlib.import_module(f"{cfg.name}.models")
        except ModuleNotFoundError as e:
            if e.name != f"{cfg.name}.models":
                raise
            continue
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if (
                issubclass(obj, DjangoCassandraModel)
                and obj is not DjangoCassandraModel
                and not getattr(obj, "__abstract__", False)
                and obj.__module__ == mod.__name__
                and obj._class_get_connection() == alias
                and obj not in found
            ):
                found.append(obj)
    return found


def sync(alias: str, stdout: Any = None, verbosity: int = 1) -> list[str]:
    """Create/alter what the models need; returns a list of human-readable changes."""
    from cassandra.cqlengine import management

    from ...models import Vector
    from ..keyspace_ops import create_keyspace

    wrapper = connections[alias]
    wrapper.ensure_connection()
    conn = wrapper.connection
    keyspace = wrapper.settings_dict["NAME"]
    changes: list[str] = []
    if conn.astra:
        if not conn.keyspace_exists(keyspace):
            raise CommandError(
                f"Keyspace {keyspace!r} does not exist. Astra DB creates keyspaces in its console or DevOps API, "
                "not over CQL; create it there and run sync_cassandra again."
            )
        conn.use_keyspace(keyspace)
    elif create_keyspace(
        conn, keyspace, (wrapper.settings_dict.get("OPTIONS") or {}).get("replication")
    ):
        changes.append(f"created keyspace {keyspace}")
    prev = os.environ.get("CQLENG_ALLOW_SCHEMA_MANAGEMENT")
    os.environ["CQLENG_ALLOW_SCHEMA_MANAGEMENT"] = "1"
    try:
        for model in cassandra_models(alias):
            table = model._raw_column_family_name()
            ks_meta = conn.cluster.metadata.keyspaces.get(model._get_keyspace())
            before = ks_meta.tables.get(table) if ks_meta else None
            before_cols = set(before.columns) if before else set()
            before_idx = set(before.indexes) if before else set()
            if before is not None:
                _create_indexes(conn, model, before, changes, Vector)
            # On Astra, index=True means SAI (created below); keep cqlengine from emitting legacy 2i.
            held = [c for c in model._columns.values() if c.index] if conn.astra else []
            for c in held:
                c.index = False
            try:
                management.sync_table(model, keyspaces=[model._get_keyspace()], connections=[alias])
            finally:
                for c in held:
                    c.index = True
            conn.cluster.refresh_table_metadata(model._get_keyspace(), table)
            after = conn.cluster.metadata.keyspaces[model._get_keyspace()].tables[table]
            if before is None:
                changes.append(f"created table {model._get_keyspace()}.{table}")
                _create_indexes(conn, model, after, changes, Vector)
                conn.cluster.refresh_table_metadata(model._get_keyspace(), table)
                after = conn.cluster.metadata.keyspaces[model._get_keyspace()].tables[table]
            for col in sorted(set(after.columns) - before_cols):
                if before is not None:
                    changes.append(f"added column {table}.{col}")
            for idx in sorted(set(after.indexes) - before_idx):
                if f"created index {idx}" not in changes:
                    changes.append(f"created index {idx}")
    finally:
        if prev is None:
            os.environ.pop("CQLENG_ALLOW_SCHEMA_MANAGEMENT", None)
        else:
            os.environ["CQLENG_ALLOW_SCHEMA_MANAGEMENT"] = prev
    return changes


def _create_indexes(
    conn: Any, model: type, table_meta: Any, changes: list[str], vector_cls: type
) -> None:
    """SAI for vectors (and for every index on Astra) before cqlengine would emit legacy 2i."""
    existing_targets = {i.index_options.get("target") for i in table_meta.indexes.values()}
    ks = model._get_keyspace()
    table = model._raw_column_family_name()
    for col in model._columns.values():
        name = col.db_field_name
        if name not in table_meta.columns or name in existing_targets:
            continue
        idx_name = f"{table}_{name}_idx"
        if isinstance(col, vector_cls):
            cql = (
                f'CREATE CUSTOM INDEX IF NOT EXISTS "{idx_name}" ON "{ks}"."{table}" ("{name}") '
                f"USING 'StorageAttachedIndex' WITH OPTIONS = {{'similarity_function': '{col.similarity}'}}"
            )
        elif col.index and conn.astra:
            cql = f'CREATE CUSTOM INDEX IF NOT EXISTS "{idx_name}" ON "{ks}"."{table}" ("{name}") USING \'StorageAttachedIndex\''
        else:
            continue
        conn.execute(cql)
        changes.append(f"created index {idx_name}")


class Command(BaseCommand):
    help = "Create the keyspace (not on Astra), tables, new columns and indexes for DjangoCassandraModel classes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--database", default=None, help="DATABASES alias (default: every django_astra alias)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from ...cqlengine_bridge import astra_aliases

        aliases = [options["database"]] if options["database"] else astra_aliases()
        if not aliases:
            raise CommandError("No DATABASES entry uses ENGINE 'django_astra'.")
        for alias in aliases:
            if connections[alias].settings_dict.get("ENGINE") != "django_astra":
                raise CommandError(f"Database {alias!r} is not a django_astra database.")
            changes = sync(alias, self.stdout, options.get("verbosity", 1))
            if options.get("verbosity", 1):
                if changes:
                    for c in changes:
                        self.stdout.write(f"{alias}: {c}")
                else:
                    self.stdout.write(f"{alias}: no changes")
