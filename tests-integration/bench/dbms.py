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
import time
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
    samples = harness.time_samples(get, repeats=int(os.environ["REPEATS"]), warmup=2, number=20)
    out["get"] = {"samples": samples, "number": 20}
    def mixed():
        list(Item.objects.filter(n__lt=20).order_by("id"))
        Item.objects.filter(pk=7).update(n=7)
        Item.objects.filter(pk=7).exists()
    samples = harness.time_samples(mixed, repeats=int(os.environ["REPEATS"]), warmup=2, number=10)
    out["mixed"] = {"samples": samples, "number": 10}
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

        def interleaved(label_a, fn_a, label_b, fn_b, number, note=""):
            """Alternate the two timed loops so load drifts hit both alike."""
            a: list[float] = []
            b: list[float] = []
            for fn in (fn_a, fn_b):
                fn()  # warm-up
            for _ in range(h.repeats):
                for fn, out in ((fn_a, a), (fn_b, b)):
                    t0 = time.perf_counter()
                    for _ in range(number):
                        fn()
                    out.append((time.perf_counter() - t0) / number)
            h.add_external(
                label_a, {"samples": a, "number": number, "note": note}, source="this run"
            )
            h.add_external(
                label_b, {"samples": b, "number": number, "note": note}, source="this run"
            )

        interleaved(
            "raw websocket request (same SQL)", raw_get, "ORM point read (django_dbms)", orm_get, 20
        )
        before = metrics.snapshot()
        orm_get()
        h.fact("ORM point read: websocket requests per call", metrics.since(before)["requests"])
        overhead = h.ratio(
            "ORM point read cost / raw request (loopback)",
            slower="ORM point read (django_dbms)",
            faster="raw websocket request (same SQL)",
        )
        h.fact("loopback: ORM point read <= 1.15x raw request", overhead.value <= 1.15)
        h.fact("point-read SQL", query)
        raw.close()

        # The same comparison through a 2 ms-each-way latency proxy (a nearby Worker).
        sys.path.insert(0, str(ROOT / "tests-integration"))
        from faults.proxy import FaultProxy  # type: ignore[import-not-found]

        with FaultProxy(("127.0.0.1", server.port), latency_ms=2) as proxy:
            far = f"ws://127.0.0.1:{proxy.port}/api/v1/databases/bench/websocket"
            raw_far = Raw(far)
            from django.db import connections

            far_settings = {
                "default": dict(connections.settings["default"]),
                "far": {"ENGINE": "django_dbms", "WORKERS_DBMS_ENDPOINT": far},
            }
            connections.settings["far"] = connections.configure_settings(far_settings)["far"]

            def raw_get_far() -> None:
                assert raw_far.rows(query, arguments)[0][1] == "item 42"

            def orm_get_far() -> None:
                assert Item.objects.using("far").get(pk=42).name == "item 42"

            interleaved(
                "raw websocket request, 4 ms RTT",
                raw_get_far,
                "ORM point read, 4 ms RTT (django_dbms)",
                orm_get_far,
                10,
                note="through tests-integration/faults FaultProxy latency_ms=2",
            )
            far_ratio = h.ratio(
                "ORM point read cost / raw request (4 ms RTT)",
                slower="ORM point read, 4 ms RTT (django_dbms)",
                faster="raw websocket request, 4 ms RTT",
            )
            h.fact("4 ms RTT: ORM point read <= 1.15x raw request", far_ratio.value <= 1.15)
            raw_far.close()
            connections["far"].close()

        h.measure(
            "ORM mixed: filter + update + exists (django_dbms)", mixed, number=10, metrics=metrics
        )

        # django-cf 0.0.17 in its own venv, same server, same table.
        try:
            from harness import OtherVenv  # type: ignore[import-not-found]

            venv = OtherVenv(
                ["django-cf==0.0.17", "django==5.2.*", "websocket-client", "sqlparse"],
                name="django-cf-0.0.17",
            )
            from harness import time_samples  # type: ignore[import-not-found]

            script = data / "old_engine.py"
            script.write_text(OLD_SCRIPT)
            # Alternate rounds of ours and theirs so machine-load drifts hit both alike.
            rounds, per = 3, max(2, h.repeats // 3)
            ours = {"get": [], "mixed": []}
            theirs = {"get": [], "mixed": []}
            for _ in range(rounds):
                ours["get"] += time_samples(orm_get, repeats=per, warmup=1, number=20)
                ours["mixed"] += time_samples(mixed, repeats=per, warmup=1, number=10)
                old = venv.run_json(
                    script, env={"ENDPOINT": endpoint, "REPEATS": str(per)}, timeout=900
                )
                theirs["get"] += old["get"]["samples"]
                theirs["mixed"] += old["mixed"]["samples"]
            src = "django-cf==0.0.17"
            h.add_external(
                "ORM point read (django_dbms, vs 0.0.17)",
                {"samples": ours["get"], "number": 20},
                source="this run",
            )
            h.add_external(
                "ORM point read (django-cf 0.0.17 django_dbms)",
                {"samples": theirs["get"], "number": 20},
                source=src,
            )
            h.add_external(
                "ORM mixed (django_dbms, vs 0.0.17)",
                {"samples": ours["mixed"], "number": 10},
                source="this run",
            )
            h.add_external(
                "ORM mixed (django-cf 0.0.17 django_dbms)",
                {"samples": theirs["mixed"], "number": 10},
                source=src,
            )
            h.ratio(
                "point read speed-up vs django-cf 0.0.17",
                slower="ORM point read (django-cf 0.0.17 django_dbms)",
                faster="ORM point read (django_dbms, vs 0.0.17)",
                target=2.0,
            )
            h.ratio(
                "mixed workload speed-up vs django-cf 0.0.17",
                slower="ORM mixed (django-cf 0.0.17 django_dbms)",
                faster="ORM mixed (django_dbms, vs 0.0.17)",
                target=2.0,
            )
        except Exception as exc:  # the old engine is optional context, ours is the subject
            h.fact(
                "django-cf 0.0.17 comparison", f"not measured: {type(exc).__name__}: {exc}"[:500]
            )
        h.fact("rows", ROWS)
        h.fact("server", "python -m django_dbms.server (local, loopback)")
