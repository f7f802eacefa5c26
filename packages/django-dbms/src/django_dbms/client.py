"""``manage.py dbshell``: the core's in-process SQL prompt over the websocket.

A Durable Object has no command-line client; the prompt runs statements through the
connection (its socket, Access headers and error mapping).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django_backend_core.remote_sqlite.client import DatabaseClient as RemoteClient


class DatabaseClient(RemoteClient):
    executable_name = "dbms"
    prompt = "dbms"

    def banner(self) -> str:
        url = urlsplit(str(self.connection.settings_dict.get("WORKERS_DBMS_ENDPOINT", "")))
        # Host and path only: never a query string or user info.
        return f"workers-dbms database at {url.hostname}{url.path}."
