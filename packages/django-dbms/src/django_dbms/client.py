"""``dbshell``: a Durable Object has no command-line client."""

from __future__ import annotations

from django.db.backends.base.client import BaseDatabaseClient


class DatabaseClient(BaseDatabaseClient):
    executable_name = None

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        raise NotImplementedError(
            "workers-dbms has no shell client; use `manage.py shell` and connection.cursor(), "
            "or the Worker's HTTP /query route."
        )

    def runshell(self, parameters):
        self.settings_to_cmd_args_env(self.connection.settings_dict, parameters)
