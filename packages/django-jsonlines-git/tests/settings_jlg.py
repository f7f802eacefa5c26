"""Django settings for the package tests (also used by the subprocess workers)."""

import os

DATA = os.environ.get("JLG_DATA", "/nonexistent-jlg-data")
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    "json-git": {
        "ENGINE": "django_jsonlines_git.write",
        "NAME": DATA,
        "OPTIONS": {"lock_timeout": 2},
    },
    "json-git-read": {"ENGINE": "django_jsonlines_git.read", "NAME": DATA},
}
DATABASE_ROUTERS = ["jlg_testapp.routers.JsonGitDbRouter"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "jlg_testapp"]
USE_TZ = True
SECRET_KEY = "jlg-tests"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
