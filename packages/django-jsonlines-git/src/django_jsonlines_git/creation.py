"""Test databases are separate repository directories, never the configured NAME."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.creation import BaseDatabaseCreation


class DatabaseCreation(BaseDatabaseCreation):
    def _get_test_db_name(self) -> str:
        name = self.connection.settings_dict["TEST"]["NAME"]
        real_name = self.connection.settings_dict["NAME"]
        if not real_name:
            if name:
                return str(name)
            raise ImproperlyConfigured(f"DATABASES[{self.connection.alias!r}] has no NAME")
        real = Path(real_name)
        test = Path(name) if name else real.parent / f"test_{real.name}"
        if test.resolve() == real.resolve():
            raise ImproperlyConfigured(
                f"DATABASES[{self.connection.alias!r}]['TEST']['NAME'] is the real repository "
                f"{real}; tests would overwrite it. Use another directory."
            )
        return str(test)

    def _create_test_db(self, verbosity: int, autoclobber: bool, keepdb: bool = False) -> str:
        if not self.connection.writable:
            raise ImproperlyConfigured(
                f"DATABASES[{self.connection.alias!r}] uses the read engine, which cannot build "
                "a test database. Point it at the write alias's test repository with "
                "TEST={'MIRROR': '<write alias>'}."
            )
        name = self._get_test_db_name()
        self.jl_real = Path(self.connection.settings_dict["NAME"]).resolve()
        if keepdb:
            return name
        if os.path.exists(name):
            if verbosity >= 1:
                self.log(
                    f"Destroying old test database for alias {self._get_database_display_str(verbosity, name)}..."
                )
            if not autoclobber:
                confirm = input(
                    f"Type 'yes' if you would like to try deleting the test database '{name}', "
                    "or 'no' to cancel: "
                )
                if confirm != "yes":
                    self.log("Tests cancelled.")
                    sys.exit(1)
            shutil.rmtree(name)
        return name

    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        real = getattr(self, "jl_real", None)
        if real is not None and Path(test_database_name).resolve() == real:
            raise ImproperlyConfigured("refusing to delete the real repository")
        shutil.rmtree(test_database_name, ignore_errors=True)

    def get_test_db_clone_settings(self, suffix: str) -> dict[str, Any]:
        orig = self.connection.settings_dict
        root, ext = os.path.splitext(str(orig["NAME"]))  # sqlite3's naming: test_1.sqlite3
        return {**orig, "NAME": f"{root}_{suffix}{ext}"}

    def _clone_test_db(self, suffix: str, verbosity: int, keepdb: bool = False) -> None:
        source = self.connection.settings_dict["NAME"]
        target = self.get_test_db_clone_settings(suffix)["NAME"]
        if os.path.exists(target):
            if keepdb:
                return
            shutil.rmtree(target)
        shutil.copytree(source, target, symlinks=True)

    def test_db_signature(self) -> tuple[Any, ...]:
        return (self.connection.settings_dict["NAME"], self._get_test_db_name())
