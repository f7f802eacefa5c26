"""Introspection: hides D1's internal ``_cf_*`` tables (e.g. ``_cf_KV``)."""

from django_backend_core.remote_sqlite.introspection import (
    DatabaseIntrospection as RemoteIntrospection,
)


class DatabaseIntrospection(RemoteIntrospection):
    pass
