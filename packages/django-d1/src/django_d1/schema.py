"""Schema editor: the remote-SQLite editor (table rebuilds as one atomic batch)."""

from django_backend_core.remote_sqlite.schema import DatabaseSchemaEditor as RemoteSchemaEditor


class DatabaseSchemaEditor(RemoteSchemaEditor):
    pass
