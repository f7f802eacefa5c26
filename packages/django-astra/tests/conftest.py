"""Test targets: the local CQL server by default, a real cluster when CASSANDRA_HOSTS is set
(``CASSANDRA_HOSTS=h1,h2 CASSANDRA_PORT=9042 [CASSANDRA_USER/CASSANDRA_PASSWORD]``), or Astra with
``ASTRA_BUNDLE=/path/secure-connect.zip ASTRA_TOKEN=AstraCS:... ASTRA_KEYSPACE=...``."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))


class Target:
    def __init__(self, kind: str, settings: dict[str, Any], cluster_kwargs: dict[str, Any]):
        self.kind = kind
        self.settings = settings
        self.cluster_kwargs = cluster_kwargs

    def cluster(self, **kw: Any) -> Any:
        from cassandra.cluster import Cluster

        return Cluster(**{**self.cluster_kwargs, **kw})


@pytest.fixture(scope="session")
def cql_target(request: Any) -> Target:
    if os.environ.get("ASTRA_BUNDLE") and os.environ.get("ASTRA_TOKEN"):
        from cassandra.auth import PlainTextAuthProvider

        conn = {
            "cloud": {"secure_connect_bundle": os.environ["ASTRA_BUNDLE"]},
            "auth_provider": PlainTextAuthProvider("token", os.environ["ASTRA_TOKEN"]),
        }
        settings = {
            "ENGINE": "django_astra",
            "NAME": os.environ.get("ASTRA_KEYSPACE", "default_keyspace"),
            "OPTIONS": {"connection": conn},
        }
        return Target("astra", settings, dict(conn, protocol_version=4))
    if os.environ.get("CASSANDRA_HOSTS"):
        hosts = os.environ["CASSANDRA_HOSTS"].split(",")
        port = int(os.environ.get("CASSANDRA_PORT", "9042"))
        settings = {
            "ENGINE": "django_astra",
            "NAME": "partyfinder",
            "HOST": os.environ["CASSANDRA_HOSTS"],
            "PORT": port,
            "USER": os.environ.get("CASSANDRA_USER", ""),
            "PASSWORD": os.environ.get("CASSANDRA_PASSWORD", ""),
        }
        return Target(
            "cluster", settings, {"contact_points": hosts, "port": port, "protocol_version": 4}
        )
    server = request.getfixturevalue("cql_server")
    settings = {
        "ENGINE": "django_astra",
        "NAME": "partyfinder",
        "HOST": "127.0.0.1",
        "PORT": server.port,
    }
    return Target(
        "local",
        settings,
        {"contact_points": ["127.0.0.1"], "port": server.port, "protocol_version": 4},
    )


@pytest.fixture
def local_only(cql_target: Target) -> Target:
    if cql_target.kind != "local":
        pytest.skip("needs the local CQL server")
    return cql_target


@pytest.fixture(scope="session")
def session(cql_target: Target) -> Any:
    """A raw driver session (dict rows) on a fresh keyspace."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, ExecutionProfile
    from cassandra.policies import RoundRobinPolicy
    from cassandra.query import dict_factory

    cluster = cql_target.cluster(
        execution_profiles={
            EXEC_PROFILE_DEFAULT: ExecutionProfile(
                row_factory=dict_factory, load_balancing_policy=RoundRobinPolicy()
            )
        }
    )
    s = cluster.connect()
    ks = "t_" + uuid.uuid4().hex[:10]
    if cql_target.kind != "astra":
        s.execute(
            f"CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
        )
        s.set_keyspace(ks)
    else:
        s.set_keyspace(cql_target.settings["NAME"])
    yield s
    if cql_target.kind != "astra":
        s.execute(f"DROP KEYSPACE {ks}")
    cluster.shutdown()


@pytest.fixture(scope="session")
def django_env(cql_target: Target, request: Any) -> Any:
    """Django configured with a SQL default DB and the Cassandra alias 'cassandra'; tables synced."""
    import django
    from django.conf import settings

    databases = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        "cassandra": dict(cql_target.settings),
    }
    if cql_target.kind == "local":
        astra = request.getfixturevalue("cql_server_astra")
        databases["astra"] = {
            "ENGINE": "django_astra",
            "NAME": "default_keyspace",
            "HOST": "127.0.0.1",
            "PORT": astra.port,
        }
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="test-not-secret",
            USE_TZ=True,
            DATABASES=databases,
            INSTALLED_APPS=[
                "django_astra",
                "django_astra.sessions",
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "django.contrib.sessions",
                "django.contrib.messages",
                "django.contrib.admin",
                "partyfinder",
            ],
            MIDDLEWARE=[
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.messages.middleware.MessageMiddleware",
            ],
            TEMPLATES=[
                {
                    "BACKEND": "django.template.backends.django.DjangoTemplates",
                    "APP_DIRS": True,
                    "OPTIONS": {
                        "context_processors": [
                            "django.template.context_processors.request",
                            "django.contrib.auth.context_processors.auth",
                            "django.contrib.messages.context_processors.messages",
                        ]
                    },
                }
            ],
            ROOT_URLCONF="partyfinder.urls",
            SESSION_ENGINE="django_astra.sessions.backends.db",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        )
        django.setup()
    from django.core.management import call_command

    call_command("sync_cassandra", database="cassandra", verbosity=0)
    return settings


@pytest.fixture
def settings_override() -> Any:
    from django.test import override_settings

    return override_settings
