"""Django settings for django-prisma's tests; the live server's URL is filled in per session."""

from __future__ import annotations

import sys
from pathlib import Path

import django
import pytest
from django.conf import settings

sys.path.insert(0, str(Path(__file__).parent))

if not settings.configured:
    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django_prisma",
                "URL": "prisma+postgres://127.0.0.1:9/",
                "API_KEY": "placeholder",
                "OPTIONS": {"transaction_timeout": 60_000},
            }
        },
        INSTALLED_APPS=["django.contrib.contenttypes", "testapp"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


@pytest.fixture(scope="session")
def live_db(prisma_server):
    """Point the default alias at the session's @prisma/dev and create the test tables."""
    from django.apps import apps
    from django.db import connection

    connection.close()
    connection.settings_dict.update(prisma_server.settings(OPTIONS={"transaction_timeout": 60_000}))
    with connection.schema_editor() as editor:
        for model in apps.get_app_config("testapp").get_models():
            editor.create_model(model)
    yield connection
    connection.close()


@pytest.fixture
def db(live_db):
    """Each test starts from empty tables."""
    from django.apps import apps

    yield live_db
    tables = [m._meta.db_table for m in apps.get_app_config("testapp").get_models()]
    tables.append("testapp_book_tags")
    with live_db.cursor() as cursor:
        names = ", ".join(f'"{t}"' for t in tables)
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
