"""Test databases on D1: an existing, separate database, emptied after a safety check.

D1 cannot create a database over SQL. ``manage.py test`` switches the connection to
``TEST['CLOUDFLARE_DATABASE_ID']`` (required against Cloudflare; with a local server it defaults
to ``test_<database id>``, which the server creates on first use) and refuses to go on if that
is the production id.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_backend_core.remote_sqlite.creation import DatabaseCreation as RemoteCreation


class DatabaseCreation(RemoteCreation):
    def _test_database_id(self) -> str:
        sd = self.connection.settings_dict
        test_id = (sd.get("TEST") or {}).get("CLOUDFLARE_DATABASE_ID")
        production = getattr(self.connection, "_production_database_id", None) or sd.get(
            "CLOUDFLARE_DATABASE_ID"
        )
        if not test_id:
            if not self.connection._is_local():
                raise ImproperlyConfigured(
                    "django_d1: set DATABASES[alias]['TEST']['CLOUDFLARE_DATABASE_ID'] to a "
                    "separate D1 database for tests; refusing to run tests against "
                    f"{production!r}."
                )
            test_id = f"test_{production}"
        if test_id == production:
            raise ImproperlyConfigured(
                "django_d1: TEST['CLOUDFLARE_DATABASE_ID'] is the production database id; "
                "refusing to empty it for tests."
            )
        return test_id

    def _get_test_db_name(self):
        return self._test_database_id()

    def _switch(self, database_id: str) -> None:
        alias = self.connection.alias
        self.connection.close()
        self.connection.settings_dict["CLOUDFLARE_DATABASE_ID"] = database_id
        if alias in settings.DATABASES:
            settings.DATABASES[alias]["CLOUDFLARE_DATABASE_ID"] = database_id

    def _create_test_db(self, verbosity, autoclobber, keepdb=False):
        conn = self.connection
        if getattr(conn, "_production_database_id", None) is None:
            conn._production_database_id = conn.settings_dict.get("CLOUDFLARE_DATABASE_ID")
        test_id = self._test_database_id()
        conn._test_database_id = test_id
        self._switch(test_id)
        # Which settings dict was switched: a copy of this connection (Django's own tests make
        # them with copy.copy) shares these attributes but must not switch the real one back.
        conn._switched_settings = conn.settings_dict
        conn.check_test_database()
        if not keepdb:
            conn.wipe_database()
        return test_id

    def destroy_test_db(self, old_database_name=None, verbosity=1, keepdb=False, suffix=None):
        super().destroy_test_db(old_database_name, verbosity, keepdb, suffix)
        production = getattr(self.connection, "_production_database_id", None)
        switched = getattr(self.connection, "_switched_settings", None)
        if production is not None and switched is self.connection.settings_dict:
            self._switch(production)
            self.connection._switched_settings = None
            self.connection._test_database_id = None
            self.connection._production_database_id = None
