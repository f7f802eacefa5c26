"""Test-database creation for stores where databases cannot be created over SQL.

The test database is an existing database the settings point at (``TEST`` settings of the
backend); creating it means emptying it, so the backend must first prove it is a test database.
"""

from __future__ import annotations

from django.db.backends.sqlite3.creation import DatabaseCreation as SQLiteCreation


class DatabaseCreation(SQLiteCreation):
    def _get_test_db_name(self):
        return self.connection.settings_dict["NAME"]

    def _create_test_db(self, verbosity, autoclobber, keepdb=False):
        self.connection.check_test_database()
        if not keepdb:
            self.connection.wipe_database()
        return self.connection.settings_dict["NAME"]

    def _destroy_test_db(self, test_database_name, verbosity):
        # The database outlives the run (it was not created by us); leave the data for
        # inspection. The next run wipes it after the same safety check.
        pass

    def get_test_db_clone_settings(self, suffix):
        raise NotImplementedError("Cloning test databases is not supported (no parallel tests).")

    def test_db_signature(self):
        return (self.connection.alias, self.connection.settings_dict.get("NAME"))
