"""Benchmark: django-astra on the local CQL server (``make bench BACKEND=astra``).

* ORM point read (``Party.objects(city=..).get(pk=..)``) vs a prepared ``session.execute`` of
  the same query on the same driver session (target: ORM at most 1.2x the raw call);
* the same workloads through django-cassandra-engine 1.11 (scylla-driver) installed in its own
  venv, against the same server (target: django-astra at least 1.5x the operations/s).

The sides are interleaved: every round times one block of each side in turn (rotating the
order), so a load change on the shared machine hits all of them alike. A side's samples are
its blocks' mean seconds per call; the DCE side runs as a long-lived worker process in its own
venv that times the blocks it is asked for. Client CPU (the whole client process: ORM, driver,
its I/O thread) and the server's CPU are counted per call over all blocks of a side.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROWS = 200
CITY = "bench"
READ_CALLS = 50  # calls per timed block
MIXED_CALLS = 10
MIN_ROUNDS = 31

# Runs inside the django-cassandra-engine venv: set up, then time the blocks it is asked for
# ("get N" / "mixed N" on stdin), answering one JSON line per block.
DCE_WORKER = textwrap.dedent(
    """
    import json, os, sys, time, uuid
    import django
    from django.conf import settings
    settings.configure(
        INSTALLED_APPS=["django_cassandra_engine"],
        DATABASES={"default": {
            "ENGINE": "django_cassandra_engine",
            "NAME": os.environ["KEYSPACE"],
            "HOST": "127.0.0.1",
            "OPTIONS": {"connection": {"port": int(os.environ["PORT"]), "protocol_version": 4}},
        }},
        USE_TZ=True,
    )
    django.setup()
    from cassandra.cqlengine import columns
    from django_cassandra_engine.models import DjangoCassandraModel

    class Party(DjangoCassandraModel):
        __table_name__ = "party"
        city = columns.Text(primary_key=True)
        id = columns.UUID(primary_key=True)
        name = columns.Text()
        people = columns.Integer()
        class Meta:
            app_label = "bench"
            get_pk_field = "id"

    ids = [uuid.UUID(x) for x in os.environ["IDS"].split(",")]
    city = os.environ["CITY"]
    state = {"i": 0}
    def get():
        state["i"] = (state["i"] + 1) % len(ids)
        p = Party.objects.filter(city=city).get(id=ids[state["i"]])
        # (DCE's get() writes get_pk_field through the partition-key descriptor, #116, so
        # p.city holds the UUID here; check the clustering value instead.)
        assert p.id == ids[state["i"]]
    def mixed():
        i = uuid.uuid4()
        Party.create(city="mix", id=i, name="m", people=1)
        Party.objects.filter(city="mix").get(id=i)
        Party.objects.filter(city="mix", id=i).update(people=2)
        assert len(list(Party.objects.filter(city=city).limit(20))) == 20
    fns = {"get": get, "mixed": mixed}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        name, n = line.split()
        fn, n = fns[name], int(n)
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        print(json.dumps({"seconds": wall / n, "cpu": cpu / n}), flush=True)
    """
)


class _DceWorker:
    """The django-cassandra-engine side, a process in its own venv timing blocks on request."""

    def __init__(self, python: Path, script: Path, env: dict[str, str]):
        full_env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PYTHONPATH", "DJANGO_SETTINGS_MODULE")
        }
        full_env.update(env)
        self.proc = subprocess.Popen(
            [str(python), str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )
        self._read()  # {"ready": true}

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"django-cassandra-engine worker died:\n{err[-3000:]}")
        return json.loads(line)

    def block(self, name: str, n: int) -> dict[str, float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{name} {n}\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _server_cpu(pid: int) -> float:
    """User+system CPU seconds the server process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Side:
    """One measured workload: per-block samples, client and server CPU totals."""

    def __init__(self, label: str, number: int, run: Callable[[int], dict[str, float]]):
        self.label = label
        self.number = number
        self.run = run
        self.samples: list[float] = []
        self.client_cpu = 0.0
        self.server_cpu = 0.0
        self.calls = 0

    def block(self, server_pid: int) -> None:
        s0 = _server_cpu(server_pid)
        out = self.run(self.number)
        self.server_cpu += _server_cpu(server_pid) - s0
        self.samples.append(out["seconds"])
        self.client_cpu += out["cpu"] * self.number
        self.calls += self.number


def _local_block(fn: Callable[[], object]) -> Callable[[int], dict[str, float]]:
    def run(n: int) -> dict[str, float]:
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        wall = time.perf_counter() - t0
        return {"seconds": wall / n, "cpu": (time.process_time() - c0) / n}

    return run


def main(h: Any) -> None:
    import django
    from django.conf import settings
    from django_backend_core.servers import LocalServer

    data = Path(tempfile.mkdtemp(prefix="astra-bench-"))
    argv = [sys.executable, "-m", "django_astra.server", "--port", "{port}", "--data", str(data)]
    with LocalServer(argv, ready="tcp", name="cql-bench") as server:
        if not settings.configured:
            settings.configure(
                DATABASES={
                    "default": {
                        "ENGINE": "django_astra",
                        "NAME": "bench",
                        "HOST": "127.0.0.1",
                        "PORT": server.port,
                    }
                },
                INSTALLED_APPS=["django_astra"],
                USE_TZ=True,
            )
            django.setup()
        from cassandra.cqlengine import columns
        from cassandra.cqlengine.management import sync_table
        from django.db import connection
        from django_astra.management.keyspace_ops import create_keyspace
        from django_astra.models import DjangoCassandraModel

        class Party(DjangoCassandraModel):
            __table_name__ = "party"
            city = columns.Text(primary_key=True)
            id = columns.UUID(primary_key=True, default=uuid.uuid4)
            name = columns.Text()
            people = columns.Integer(default=0)

            class Meta:
                app_label = "bench"
                get_pk_field = "id"

        connection.ensure_connection()
        create_keyspace(connection.connection, "bench", None)
        os.environ["CQLENG_ALLOW_SCHEMA_MANAGEMENT"] = "1"
        sync_table(Party, keyspaces=["bench"], connections=["default"])
        ids = [Party.create(city=CITY, name=f"party {i}", people=i).id for i in range(ROWS)]

        session = connection.connection.session
        raw = session.prepare("SELECT * FROM bench.party WHERE city=? AND id=? LIMIT 2")
        state = {"i": 0}

        def orm_get() -> None:
            state["i"] = (state["i"] + 1) % ROWS
            p = Party.objects(city=CITY).get(pk=ids[state["i"]])
            assert p.id == ids[state["i"]]

        def raw_get() -> None:
            state["i"] = (state["i"] + 1) % ROWS
            row = session.execute(raw, (CITY, ids[state["i"]])).one()
            assert row["id"] == ids[state["i"]]

        def orm_mixed() -> None:
            i = uuid.uuid4()
            Party.create(city="mix", id=i, name="m", people=1)
            Party.objects(city="mix").get(pk=i)
            Party.objects(city="mix", id=i).update(people=2)
            assert len(list(Party.objects(city=CITY).limit(20))) == 20

        # Requests per call, counted outside the timed blocks, after a first pass (which
        # prepares the statements: once per connection).
        metrics = connection.connection.metrics
        per_call = {}
        for label, fn in (("get", orm_get), ("mixed", orm_mixed)):
            fn()
            before = metrics.snapshot()
            for _ in range(10):
                fn()
            per_call[label] = {k: v / 10 for k, v in metrics.since(before).items()}

        sides = [
            _Side("ORM point read", READ_CALLS, _local_block(orm_get)),
            _Side("prepared session.execute point read", READ_CALLS, _local_block(raw_get)),
            _Side("ORM mixed (create, get, update, list 20)", MIXED_CALLS, _local_block(orm_mixed)),
        ]
        from harness import OtherVenv

        dce: _DceWorker | None = None
        try:
            venv = OtherVenv(["django-cassandra-engine==1.11.0", "django==5.2.*"], name="dce-1.11")
            script = data / "dce_worker.py"
            script.write_text(DCE_WORKER)
            dce = _DceWorker(
                venv.ensure(),
                script,
                {
                    "PORT": str(server.port),
                    "KEYSPACE": "bench",
                    "CITY": CITY,
                    "IDS": ",".join(str(i) for i in ids),
                },
            )
        except Exception as e:  # noqa: BLE001 - recorded, the rest of the report stays valid
            h.fact(
                "django-cassandra-engine 1.11", f"not measured: {type(e).__name__}: {str(e)[-400:]}"
            )
        if dce is not None:
            worker = dce
            sides += [
                _Side("DCE 1.11 point read", READ_CALLS, lambda n: worker.block("get", n)),
                _Side("DCE 1.11 mixed", MIXED_CALLS, lambda n: worker.block("mixed", n)),
            ]
        try:
            for side in sides:  # warm-up: caches, prepared statements, JIT-free but branchy code
                for _ in range(max(h.warmup, 1)):
                    side.run(side.number)
            rounds = max(MIN_ROUNDS, 3 * h.repeats)
            for r in range(rounds):
                k = r % len(sides)
                for side in sides[k:] + sides[:k]:
                    side.block(server.pid)
        finally:
            if dce is not None:
                dce.close()

        by_label = {s.label: s for s in sides}
        for side in sides:
            source = (
                "django-cassandra-engine 1.11 + scylla-driver (own venv), interleaved"
                if side.label.startswith("DCE")
                else "this run, interleaved"
            )
            h.add_external(
                side.label, {"samples": side.samples, "number": side.number}, source=source
            )
            h.fact(
                f"client CPU per call (µs): {side.label}",
                round(side.client_cpu / side.calls * 1e6, 1),
            )
            h.fact(
                f"server CPU per call (µs): {side.label}",
                round(side.server_cpu / side.calls * 1e6, 1),
            )
        for label, counts in per_call.items():
            h.fact(f"driver requests per ORM {label} call, after the first", counts["requests"])

        def paired(slower: str, faster: str) -> float:
            """Median over rounds of the per-round ratio (blocks timed next to each other)."""
            a, b = by_label[slower].samples, by_label[faster].samples
            return round(statistics.median(x / y for x, y in zip(a, b, strict=True)), 2)

        overhead = h.ratio(
            "ORM point read / prepared session.execute (lower is better)",
            slower="ORM point read",
            faster="prepared session.execute point read",
        )
        h.fact(
            "ORM point read / prepared session.execute, median of per-round ratios",
            paired("ORM point read", "prepared session.execute point read"),
        )
        h.fact("ORM point read <= 1.2x prepared session.execute", overhead.value <= 1.2)
        orm, rawc = by_label["ORM point read"], by_label["prepared session.execute point read"]
        h.fact(
            "client CPU ratio ORM / prepared session.execute, point read",
            round(orm.client_cpu / rawc.client_cpu, 2),
        )
        if dce is not None:
            for name, slower, faster in (
                ("point read vs DCE 1.11", "DCE 1.11 point read", "ORM point read"),
                (
                    "mixed workload vs DCE 1.11",
                    "DCE 1.11 mixed",
                    "ORM mixed (create, get, update, list 20)",
                ),
            ):
                h.ratio(name, slower=slower, faster=faster, target=1.5)
                h.fact(f"{name}, median of per-round ratios", paired(slower, faster))
                s, f = by_label[slower], by_label[faster]
                h.fact(
                    f"{name}: client CPU ratio DCE / ours",
                    round((s.client_cpu / s.calls) / (f.client_cpu / f.calls), 2),
                )
        h.fact("rounds (blocks per side)", rounds)
        h.fact("rows", ROWS)
        h.fact("server", "python -m django_astra.server (local, loopback, SQLite)")
