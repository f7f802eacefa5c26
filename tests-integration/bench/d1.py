"""Benchmark: django-d1 on the local D1 server (``make bench BACKEND=d1``).

* ORM point read vs a raw keep-alive httpx POST of the same SQL to the same server
  (target: the ORM costs at most 1.15x the raw request), on loopback and through the
  tests-integration/faults latency proxy (2 ms each way);
* a mixed ORM workload vs django-cf 0.1.5's REST engine (``django_cf.d1_api``) installed in its
  own venv and pointed at the same server (target: ours >= 3x faster), with requests per call
  for both;
* ``bulk_create`` of 10,000 rows x 4 columns (target: <= 10 HTTP requests).

django-cf hard-codes ``http.client.HTTPSConnection("api.cloudflare.com")``; its bench script
replaces that class with a connection to the local server (still one new connection per query,
as django-cf does): plain HTTP on loopback, and HTTPS through the TLS-terminating latency proxy
for the production-like comparison.

The production-like comparison (HTTPS, 20 ms RTT) uses ``tests-integration/faults``'
FaultProxy, whose network model (see its module docstring) charges what a real path charges:
each chunk RTT/2 per direction, one RTT for the TCP handshake of each new connection, and the
TLS handshake's records crossing the same delayed path (TLS 1.3: one more RTT). A query on a
new HTTPS connection therefore costs 3 RTT, one on a kept-alive connection 1 RTT. The proxy
runs in its own process (in-process, its thread would compete with our client for the GIL,
while django-cf runs in another process) and counts the TCP connections of each side; requests
are counted by each client.
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROWS = 200
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bench-token"

OLD_SCRIPT = textwrap.dedent(
    """
    import http.client, importlib.util, json, os, sys
    spec = importlib.util.spec_from_file_location("harness", os.environ["BENCH_HARNESS"])
    harness = sys.modules["harness"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    PORT = int(os.environ["D1_PORT"])
    REQUESTS = [0]
    TOTAL = [0]
    CERT = os.environ.get("D1_TLS_CERT")

    def connect(host, timeout=20.0, **kw):
        # django-cf: a new connection per query; here to the local server (TLS if CERT).
        if CERT:
            import ssl
            conn = http.client.HTTPSConnection(
                "127.0.0.1", PORT, timeout=timeout,
                context=ssl.create_default_context(cafile=CERT),
            )
        else:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
        send = conn.request
        def request(*a, **k):
            REQUESTS[0] += 1
            TOTAL[0] += 1
            return send(*a, **k)
        conn.request = request
        return conn

    import types
    import django_cf.d1_api.database as cf_database
    cf_database.http = types.SimpleNamespace(
        client=types.SimpleNamespace(HTTPSConnection=connect)
    )
    import django
    from django.conf import settings
    settings.configure(
        DATABASES={"default": {
            "ENGINE": "django_cf.d1_api",
            "CLOUDFLARE_ACCOUNT_ID": "acc",
            "CLOUDFLARE_DATABASE_ID": "bench",
            "CLOUDFLARE_TOKEN": os.environ["D1_TOKEN"],
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
    def mixed():
        list(Item.objects.filter(n__lt=20).order_by("id"))
        Item.objects.filter(pk=7).update(n=7)
        assert Item.objects.filter(pk=7).exists()
        assert Item.objects.get(pk=9).name == "item 9"
    for label, fn, number in (("get", get, 20), ("mixed", mixed, 10)):
        REQUESTS[0] = 0
        fn()
        per_call = REQUESTS[0]
        samples = harness.time_samples(fn, repeats=int(os.environ["REPEATS"]), warmup=2, number=number)
        out[label] = {"samples": samples, "number": number, "per_call": {"requests": per_call}}
    out["total_requests"] = TOTAL[0]
    print(json.dumps(out))
    """
)


def main(h: Any) -> None:
    import django
    import httpx
    from django.conf import settings
    from django_backend_core.servers import LocalServer
    from harness import OtherVenv  # type: ignore[import-not-found]

    data = Path(tempfile.mkdtemp(prefix="d1-bench-"))
    argv = [sys.executable, "-m", "django_d1.server", "--port", "{port}", "--data", str(data)]
    argv += ["--token", TOKEN]
    with LocalServer(argv, ready="http:/healthz", name="d1-bench") as server:
        api = server.url("http", "/client/v4")
        alias = {
            "ENGINE": "django_d1",
            "CLOUDFLARE_ACCOUNT_ID": "acc",
            "CLOUDFLARE_DATABASE_ID": "bench",
            "CLOUDFLARE_TOKEN": TOKEN,
            "OPTIONS": {"api_base": api},
        }
        if not settings.configured:
            settings.configure(DATABASES={"default": alias}, INSTALLED_APPS=[], USE_TZ=False)
            django.setup()
        from django.db import connection, connections, models

        class Item(models.Model):
            name = models.CharField(max_length=50)
            n = models.IntegerField()

            class Meta:
                app_label = "bench"
                db_table = "bench_item"

        class Wide(models.Model):
            a = models.IntegerField()
            b = models.CharField(max_length=40)
            c = models.FloatField()
            d = models.BooleanField()

            class Meta:
                app_label = "bench"
                db_table = "bench_wide"

        with connection.schema_editor() as editor:
            editor.create_model(Item)
            editor.create_model(Wide)
        Item.objects.bulk_create(
            [Item(id=i, name=f"item {i}", n=i % 50) for i in range(1, ROWS + 1)]
        )
        metrics = connection.connection.transport.metrics

        # The exact request body the ORM sends for the point read, replayed by raw httpx.
        transport = connection.connection.transport.inner
        sent: list[Any] = []
        original = transport._post

        def spy(body: Any, stmts: Any) -> Any:
            sent.append(body)
            return original(body, stmts)

        transport._post = spy
        Item.objects.get(pk=42)
        transport._post = original
        body = sent[-1]
        url = f"{api}/accounts/acc/d1/database/bench/raw"

        def raw_client(base_url: str) -> Any:
            client = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"})

            def get() -> None:
                rows = client.post(base_url, json=body).json()["result"][0]["results"]["rows"]
                assert rows[0][1] == "item 42"

            return client, get

        client, raw_get = raw_client(url)

        def orm_get() -> None:
            assert Item.objects.get(pk=42).name == "item 42"

        def mixed() -> None:
            list(Item.objects.filter(n__lt=20).order_by("id"))
            Item.objects.filter(pk=7).update(n=7)
            assert Item.objects.filter(pk=7).exists()
            assert Item.objects.get(pk=9).name == "item 9"

        def interleaved(label_a, fn_a, label_b, fn_b, number, note=""):
            """Alternate the two timed loops so load drifts hit both alike."""
            a: list[float] = []
            b: list[float] = []
            for fn in (fn_a, fn_b):
                fn()
            for _ in range(h.repeats):
                for fn, out in ((fn_a, a), (fn_b, b)):
                    t0 = time.perf_counter()
                    for _ in range(number):
                        fn()
                    out.append((time.perf_counter() - t0) / number)
            for label, samples in ((label_a, a), (label_b, b)):
                h.add_external(
                    label, {"samples": samples, "number": number, "note": note}, source="this run"
                )

        interleaved("raw httpx POST (same SQL)", raw_get, "ORM point read (django_d1)", orm_get, 20)
        before = metrics.snapshot()
        orm_get()
        h.fact("ORM point read: HTTP requests per call", metrics.since(before)["requests"])
        r = h.ratio(
            "ORM point read cost / raw request (loopback)",
            slower="ORM point read (django_d1)",
            faster="raw httpx POST (same SQL)",
        )
        h.fact("loopback: ORM point read <= 1.15x raw request", r.value <= 1.15)
        h.fact("point-read request body", body)

        # Client CPU per call (this process only: the server is another process), medians of
        # interleaved rounds. The ORM's share of Django's own work is measured on a stub
        # transport that returns the same rows without any I/O.
        from django_backend_core.transport import Result, Statement

        qt = connection.connection.transport
        inner = qt.inner
        canned = inner.execute(Statement(body["sql"], []))

        class Canned:
            metrics = inner.metrics

            def execute(self, stmt: Any) -> Result:
                return Result(columns=canned.columns, rows=list(canned.rows))

        def orm_no_io() -> None:
            qt.inner = Canned()
            try:
                orm_get()
            finally:
                qt.inner = inner

        def transport_only() -> None:
            assert inner.execute(Statement(body["sql"], [])).rows[0][1] == "item 42"

        cpu: dict[str, list[float]] = {}
        cpu_fns = {
            "raw httpx POST": raw_get,
            "ORM point read": orm_get,
            "D1Transport.execute alone": transport_only,
            "ORM point read on a no-I/O stub transport": orm_no_io,
        }
        for _ in range(5):
            for label, fn in cpu_fns.items():
                c0 = time.process_time()
                for _ in range(100):
                    fn()
                cpu.setdefault(label, []).append((time.process_time() - c0) / 100 * 1e6)
        for label, samples in cpu.items():
            h.fact(f"client CPU per call, µs (median of 5 × 100): {label}", round(
                sorted(samples)[2]))  # fmt: skip
        client.close()

        h.measure("mixed workload (django_d1)", mixed, number=10, metrics=metrics)

        # bulk_create of 10,000 rows x 4 columns.
        before = metrics.snapshot()
        t0 = time.perf_counter()
        Wide.objects.bulk_create(
            [Wide(a=i, b=f"row number {i}", c=i / 7, d=i % 2 == 0) for i in range(10_000)]
        )
        elapsed = time.perf_counter() - t0
        cost = metrics.since(before)
        assert Wide.objects.count() == 10_000
        h.fact("bulk_create 10,000 rows x 4 columns: HTTP requests", cost["requests"])
        h.fact("bulk_create 10,000 rows x 4 columns: statements", cost["statements"])
        h.fact("bulk_create 10,000 rows x 4 columns: seconds", round(elapsed, 3))
        h.fact("bulk_create: <= 10 requests", cost["requests"] <= 10)

        # django-cf 0.1.5 (its own venv), same server, same table.
        old = OtherVenv(["django-cf==0.1.5", "django==5.2.*"], name="django-cf-0.1.5")
        script = data / "old_d1.py"
        script.write_text(OLD_SCRIPT)
        try:
            res = old.run_json(
                script,
                env={"D1_PORT": str(server.port), "D1_TOKEN": TOKEN, "REPEATS": str(h.repeats)},
            )
        except Exception as exc:  # noqa: BLE001 - record why the comparison is missing
            h.fact("django-cf comparison", f"not run: {type(exc).__name__}: {exc}"[:500])
        else:
            h.add_external(
                "ORM point read (django-cf 0.1.5 d1_api)", res["get"], source="django-cf 0.1.5"
            )
            h.add_external(
                "mixed workload (django-cf 0.1.5 d1_api)", res["mixed"], source="django-cf 0.1.5"
            )
            h.fact(
                "mixed workload: HTTP requests per call, django-cf 0.1.5",
                res["mixed"]["per_call"]["requests"],
            )
            h.ratio(
                "mixed workload speed-up vs django-cf 0.1.5",
                slower="mixed workload (django-cf 0.1.5 d1_api)",
                faster="mixed workload (django_d1)",
                target=3.0,
            )
        before = metrics.snapshot()
        mixed()
        h.fact(
            "mixed workload: HTTP requests per call, django_d1", metrics.since(before)["requests"]
        )

        # The same comparison as in production: HTTPS with a 20 ms round trip (a server near a
        # Cloudflare colo; TLS-terminating latency proxy). django-cf opens a new HTTPS
        # connection per query (TCP + TLS handshakes); we keep one alive.
        import os

        sys.path.insert(0, str(ROOT / "tests-integration"))
        from faults.proxy import FaultProxy  # type: ignore[import-not-found]

        proxy_dir = data / "tls-proxy"
        stats_file = proxy_dir / "stats.json"
        proxy_argv = [
            sys.executable, "-m", "faults.proxy", "--upstream", f"127.0.0.1:{server.port}",
            "--port", "{port}", "--latency-ms", "10", "--tls",
            "--cert-dir", str(proxy_dir), "--stats-file", str(stats_file),
        ]  # fmt: skip

        class ProxyStats:
            """The proxy process's counters (it rewrites stats.json every 0.1 s)."""

            def _read(self) -> dict[str, int]:
                time.sleep(0.35)
                return json.loads(stats_file.read_text()) if stats_file.exists() else {}

            @property
            def connections(self) -> int:
                return self._read().get("connections", 0)

        with LocalServer(
            proxy_argv, cwd=ROOT / "tests-integration", name="tls-proxy",
            log_path=data / "tls-proxy.log",
        ) as tls_proxy:  # fmt: skip
            tls_proxy.cert_path = proxy_dir / "cert.pem"
            tls_proxy.stats = ProxyStats()
            os.environ["SSL_CERT_FILE"] = str(tls_proxy.cert_path)
            tls_api = f"https://127.0.0.1:{tls_proxy.port}/client/v4"
            connections.settings["tls"] = connections.configure_settings(
                {"default": alias, "tls": dict(alias, OPTIONS={"api_base": tls_api})}
            )["tls"]

            def mixed_tls() -> None:
                items = Item.objects.using("tls")
                list(items.filter(n__lt=20).order_by("id"))
                items.filter(pk=7).update(n=7)
                assert items.filter(pk=7).exists()
                assert items.get(pk=9).name == "item 9"

            h.fact(
                "network model of the HTTPS comparison (tests-integration/faults/proxy.py)",
                "each chunk delayed RTT/2 per direction (pipelined); a new TCP connection "
                "carries no data until 1 RTT after accept (handshake); TLS records cross the "
                "same delayed path, so TLS 1.3 adds 1 RTT per new connection. New HTTPS "
                "connection per query = 3 RTT; kept-alive = 1 RTT. Proxy in its own process.",
            )
            connections["tls"].ensure_connection()
            h.measure(
                "mixed workload, HTTPS 20 ms RTT (django_d1)",
                mixed_tls,
                number=3,
                metrics=connections["tls"].connection.transport.metrics,
                note="TLS-terminating FaultProxy latency_ms=10 (TCP + TLS handshakes charged)",
            )
            st = tls_proxy.stats
            tls_metrics = connections["tls"].connection.transport.metrics
            c0, r0 = st.connections, tls_metrics.requests
            mixed_tls()
            h.fact(
                "mixed workload HTTPS: requests / new connections per call, django_d1",
                f"{tls_metrics.requests - r0} / {st.connections - c0}",
            )
            h.fact(
                "django_d1 HTTPS: new connections over all its HTTPS calls (warm-up + timed)",
                st.connections - 0,
            )
            c0 = st.connections
            try:
                res_tls = old.run_json(
                    script,
                    env={
                        "D1_PORT": str(tls_proxy.port),
                        "D1_TOKEN": TOKEN,
                        "REPEATS": str(h.repeats),
                        "D1_TLS_CERT": str(tls_proxy.cert_path),
                    },
                )
            except Exception as exc:  # noqa: BLE001
                h.fact("django-cf HTTPS comparison", f"not run: {type(exc).__name__}: {exc}"[:500])
            else:
                h.add_external(
                    "mixed workload, HTTPS 20 ms RTT (django-cf 0.1.5 d1_api)",
                    res_tls["mixed"],
                    source="django-cf 0.1.5",
                )
                conns, reqs = st.connections - c0, res_tls["total_requests"]
                per_call = res_tls["mixed"]["per_call"]["requests"]
                h.fact(
                    "mixed workload HTTPS: requests / new connections per call, django-cf 0.1.5",
                    f"{per_call} / {per_call * conns / max(reqs, 1):g}",
                )
                h.fact(
                    "django-cf 0.1.5 HTTPS run (all calls): requests / new connections "
                    "(proxy-counted)",
                    f"{reqs} / {conns}",
                )
                h.ratio(
                    "mixed workload speed-up vs django-cf 0.1.5 (HTTPS, 20 ms RTT)",
                    slower="mixed workload, HTTPS 20 ms RTT (django-cf 0.1.5 d1_api)",
                    faster="mixed workload, HTTPS 20 ms RTT (django_d1)",
                    target=3.0,
                )
            connections["tls"].close()
            os.environ.pop("SSL_CERT_FILE", None)

        # The point read through a 2 ms-each-way latency proxy (a nearby Cloudflare colo).
        with FaultProxy(("127.0.0.1", server.port), latency_ms=2) as proxy:
            far_api = f"http://127.0.0.1:{proxy.port}/client/v4"
            far = dict(alias, OPTIONS={"api_base": far_api})
            connections.settings["far"] = connections.configure_settings(
                {"default": alias, "far": far}
            )["far"]
            far_client, raw_far = raw_client(f"{far_api}/accounts/acc/d1/database/bench/raw")

            def orm_far() -> None:
                assert Item.objects.using("far").get(pk=42).name == "item 42"

            interleaved(
                "raw httpx POST, 4 ms RTT",
                raw_far,
                "ORM point read, 4 ms RTT (django_d1)",
                orm_far,
                10,
                note="through tests-integration/faults FaultProxy latency_ms=2",
            )
            far_ratio = h.ratio(
                "ORM point read cost / raw request (4 ms RTT)",
                slower="ORM point read, 4 ms RTT (django_d1)",
                faster="raw httpx POST, 4 ms RTT",
            )
            h.fact("4 ms RTT: ORM point read <= 1.15x raw request", far_ratio.value <= 1.15)
            far_client.close()
            connections["far"].close()
