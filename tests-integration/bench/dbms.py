"""Benchmark: django-dbms on the local workers-dbms server (``make bench BACKEND=dbms``).

* ORM point read vs a raw websocket request carrying the same SQL on the same server
  (target: the ORM costs at most 1.15x the raw request);
* the same ORM workload through django-cf 0.0.17's ``django_dbms`` engine, installed in its
  own venv and pointed at the same server (target: ours is at least 2x faster);
* round trips per operation from the transport's counters.
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROWS = 200
ROOT = Path(__file__).resolve().parents[2]

OLD_SCRIPT = textwrap.dedent(
    """
    import importlib.util, json, os, sys
    spec = importlib.util.spec_from_file_location("harness", os.environ["BENCH_HARNESS"])
    harness = sys.modules["harness"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    import django
    from django.conf import settings
    settings.configure(
        DATABASES={"default": {
            "ENGINE": "django_dbms",
            "WORKERS_DBMS_ENDPOINT": os.environ["ENDPOINT"],
            "WORKERS_DBMS_CACHE": False,
        }},
        INSTALLED_APPS=[],
        USE_TZ=False,
    )
    django.setup()
    from django.db import models

    class Item(models.Model):
        name = models.CharField(max_length=50)
        n = models.IntegerField()

        class Meta:
            app_label = "bench"
            db_table = "bench_item"

    out = {}
    def get():
        item = Item.objects.get(pk=42)
        assert item.name == "item 42", item.name
    out["get"] = harness.time_samples(get, repeats=int(os.environ["REPEATS"]), warmup=2, number=20)
    def mixed():
        list(Item.objects.filter(n__lt=20).order_by("id"))
        Item.objects.filter(pk=7).update(n=7)
        Item.objects.filter(pk=7).exists()
    out["mixed"] = harness.time_samples(mixed, repeats=int(os.environ["REPEATS"]), warmup=2, number=10)
    print(json.dumps(out))
    """
)


def main(h: Any) -> None:
    import django
    from django.conf import settings
    from django_backend_core.servers import LocalServer

    data = Path(tempfile.mkdtemp(prefix="dbms-bench-"))
    argv = [sys.executable, "-m", "django_dbms.server", "--port", "{port}", "--data", str(data)]
    with LocalServer(argv, ready="tcp", name="dbms-bench") as server:
        endpoint = f"ws://127.0.0.1:{server.port}/api/v1/databases/bench/websocket"
        if not settings.configured:
            settings.configure(
                DATABASES={"default": {"ENGINE": "django_dbms", "WORKERS_DBMS_ENDPOINT": endpoint}},
                INSTALLED_APPS=[],
                USE_TZ=False,
            )
            django.setup()
        from django.db import connection, models
        from django_dbms.testing import Raw

        class Item(models.Model):
            name = models.CharField(max_length=50)
            n = models.IntegerField()

            class Meta:
                app_label = "bench"
                db_table = "bench_item"

        with connection.schema_editor() as editor:
            editor.create_model(Item)
        Item.objects.bulk_create(
            [Item(id=i, name=f"item {i}", n=i % 50) for i in range(1, ROWS + 1)]
        )
        transport = connection.connection.transport.inner
        metrics = transport.metrics

        # The exact frame the ORM sends for the point read, replayed by a raw client.
        sent: list[tuple[str, Any]] = []
        original = transport.request

        def spy(query: str, arguments: Any, *, retry: bool) -> Any:
            sent.append((query, arguments))
            return original(query, arguments, retry=retry)

        transport.request = spy
        Item.objects.get(pk=42)
        transport.request = original
        query, arguments = sent[-1]
        raw = Raw(endpoint)

        def raw_get() -> None:
            rows = raw.rows(query, arguments)
            assert rows[0][1] == "item 42"

        def orm_get() -> None:
            item = Item.objects.get(pk=42)
            assert item.name == "item 42"

        def mixed() -> None:
            list(Item.objects.filter(n__lt=20).order_by("id"))
            Item.objects.filter(pk=7).update(n=7)
            Item.objects.filter(pk=7).exists()

        n = 20
        h.measure("raw websocket request (same SQL)", raw_get, number=n)
        h.measure("ORM point read (django_dbms)", orm_get, number=n, metrics=metrics)
        h.measure(
            "ORM mixed: filter + update + exists (django_dbms)", mixed, number=10, metrics=metrics
        )
        overhead = h.ratio(
            "ORM point read cost / raw request",
            slower="ORM point read (django_dbms)",
            faster="raw websocket request (same SQL)",
        )
        h.fact("ORM point read <= 1.15x raw request", overhead.value <= 1.15)
        h.fact("point-read SQL", query)
        raw.close()

        # django-cf 0.0.17 in its own venv, same server, same table.
        try:
            from harness import OtherVenv  # type: ignore[import-not-found]

            venv = OtherVenv(
                ["django-cf==0.0.17", "django==5.2.*", "websocket-client", "sqlparse"],
                name="django-cf-0.0.17",
            )
            script = data / "old_engine.py"
            script.write_text(OLD_SCRIPT)
            old = venv.run_json(
                script, env={"ENDPOINT": endpoint, "REPEATS": str(h.repeats)}, timeout=900
            )
            h.add_external(
                "ORM point read (django-cf 0.0.17 django_dbms)",
                old["get"],
                source="django-cf==0.0.17",
            )
            h.add_external(
                "ORM mixed: filter + update + exists (django-cf 0.0.17 django_dbms)",
                old["mixed"],
                source="django-cf==0.0.17",
            )
            h.ratio(
                "point read speed-up vs django-cf 0.0.17",
                slower="ORM point read (django-cf 0.0.17 django_dbms)",
                faster="ORM point read (django_dbms)",
                target=2.0,
            )
            h.ratio(
                "mixed workload speed-up vs django-cf 0.0.17",
                slower="ORM mixed: filter + update + exists (django-cf 0.0.17 django_dbms)",
                faster="ORM mixed: filter + update + exists (django_dbms)",
                target=2.0,
            )
        except Exception as exc:  # the old engine is optional context, ours is the subject
            h.fact(
                "django-cf 0.0.17 comparison", f"not measured: {type(exc).__name__}: {exc}"[:500]
            )
        h.fact("rows", ROWS)
        h.fact("server", "python -m django_dbms.server (local, loopback)")
