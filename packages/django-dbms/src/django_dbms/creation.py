"""Test databases: another database id on the same Worker, never the configured one."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django_backend_core.remote_sqlite.creation import DatabaseCreation as RemoteCreation


class DatabaseCreation(RemoteCreation):
    def _get_test_db_name(self):
        test_name = (self.connection.settings_dict.get("TEST") or {}).get("NAME")
        if test_name:
            return test_name
        name = self.connection.database_id
        test_name = f"test-{name}"
        if len(test_name) > 32:
            raise ImproperlyConfigured(
                f"The test database id {test_name!r} is longer than workers-dbms allows (32); "
                "set DATABASES[...]['TEST']['NAME']."
            )
        return test_name

    def _create_test_db(self, verbosity, autoclobber, keepdb=False):
        test_name = self._get_test_db_name()
        self.connection.close()
        self.connection.settings_dict["NAME"] = test_name
        self.connection.check_test_database()
        if not keepdb:
            self.connection.wipe_database()
        self.connection.close()
        return test_name

    def test_db_signature(self):
        return (self.connection.alias, self.connection.endpoint)
