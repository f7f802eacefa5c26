"""Settings for the party-finder site: django-astra's sample app with admin and sessions.

The party finder's models are cqlengine models (``DjangoCassandraModel``) on the alias
``cassandra``. Django's own SQL models (users, permissions, content types, the admin log) cannot
live in Cassandra, so they use a small sqlite3 file as ``default``; sessions use Cassandra with
a TTL (``django_astra.sessions``).

The ``cassandra`` alias comes from ``PARTY_CASSANDRA_SECRET`` (a JSON settings dict, e.g. for
Astra: ``{"ENGINE": "django_astra", "NAME": "<keyspace>", "USER": "token", "PASSWORD":
"AstraCS:...", "OPTIONS": {"connection": {"cloud": {"secure_connect_bundle": "/path.zip"}}}}``;
its name contains SECRET so Django's debug page masks it), else from ``PARTY_CQL_HOST`` /
``PARTY_CQL_PORT`` (the local server: ``python -m django_astra.server --port 9042 --data DIR``).
"""

import json
import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# The party-finder app ships with django-astra (packages/django-astra/tests/partyfinder), where
# its own tests use it; this site imports it from there rather than keeping a copy.
PARTYFINDER_HOME = BASE_DIR.parents[2] / "packages" / "django-astra" / "tests"
if str(PARTYFINDER_HOME) not in sys.path:
    sys.path.insert(0, str(PARTYFINDER_HOME))

SECRET_KEY = os.environ.get("PARTY_SECRET_KEY", "django-insecure-party-finder-local-demo")
DEBUG = os.environ.get("PARTY_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django_astra",
    "django_astra.sessions",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "partyfinder",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pfsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def cassandra_database() -> dict:
    raw = os.environ.get("PARTY_CASSANDRA_SECRET")
    if raw:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(f"PARTY_CASSANDRA_SECRET is not valid JSON: {exc}") from None
    return {
        "ENGINE": "django_astra",
        "NAME": os.environ.get("PARTY_KEYSPACE", "partyfinder"),
        "HOST": os.environ.get("PARTY_CQL_HOST", "127.0.0.1"),
        "PORT": int(os.environ.get("PARTY_CQL_PORT", "9042")),
    }


DATA_DIR = Path(os.environ.get("PARTY_DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    # Users, permissions, content types and the admin log are Django SQL models.
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "auth.sqlite3")},
    "cassandra": cassandra_database(),
}

SESSION_ENGINE = "django_astra.sessions.backends.db"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
