"""``manage.py dbshell``: the core's in-process SQL prompt over the D1 REST API."""

from __future__ import annotations

from django_backend_core.remote_sqlite.client import DatabaseClient as RemoteClient


class DatabaseClient(RemoteClient):
    executable_name = "d1"
    prompt = "d1"

    def banner(self) -> str:
        db = self.connection.settings_dict.get("CLOUDFLARE_DATABASE_ID")
        return f"D1 database {db} over the REST API."
