"""django-prisma benchmarks against a local @prisma/dev (``make bench BACKEND=prisma``).

Targets from issue 6: an ORM point read costs at most 1.2x a raw ``POST /query`` of the same
SQL on a keep-alive client (the Django + cursor + decoding overhead), and ``atomic()`` with N
statements costs N + 2 requests (start, N queries, commit).
"""

from __future__ import annotations

import json
from typing import Any

N_STATEMENTS = 5


def main(h: Any) -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DATABASES={
                "default": {
                    "ENGINE": "django_prisma",
                    "URL": "prisma+postgres://127.0.0.1:9/",
                    "API_KEY": "x",
                }
            },
            INSTALLED_APPS=["django.contrib.contenttypes"],
            USE_TZ=True,
        )
        django.setup()
    import httpx
    from django.db import connection, models, transaction
    from django_backend_core.params import translate
    from django_prisma.server import PrismaDevServer
    from django_prisma.wire import encode_args

    class Item(models.Model):
        name = models.CharField(max_length=50)
        qty = models.IntegerField()

        class Meta:
            app_label = "contenttypes"
            db_table = "bench_item"

    with PrismaDevServer() as server:
        connection.settings_dict.update(server.settings())
        with connection.schema_editor() as editor:
            editor.create_model(Item)
        Item.objects.bulk_create([Item(name=f"item {i}", qty=i) for i in range(100)])

        def orm_point_read() -> None:
            Item.objects.get(pk=42)

        qs = Item.objects.filter(pk=42)
        sql, params = qs.query.get_compiler(connection=connection).as_sql()
        dollar_sql, args = translate(sql, list(params), style="dollar")
        enc_args, arg_types = encode_args(args)
        body = json.dumps(
            {
                "operation": "queryRaw",
                "plan": {
                    "type": "query",
                    "args": {
                        "type": "rawSql",
                        "sql": dollar_sql,
                        "args": enc_args,
                        "argTypes": arg_types,
                    },
                },
                "params": {},
            }
        ).encode()
        raw = httpx.Client(
            base_url=f"http://127.0.0.1:{server.port}",
            headers={
                "Authorization": f"Bearer {server.api_key}",
                "Prisma-Engine-Hash": "7.2.0",
                "Content-Type": "application/json",
            },
        )

        def raw_post() -> None:
            r = raw.post("/query", content=body)
            assert r.status_code == 200 and r.json()["data"]["rows"]

        connection.ensure_connection()
        metrics = connection.metrics
        # A/B/A/B order so load drift on a shared machine hits both sides alike.
        ratios = []
        for round_ in (1, 2):
            raw_label = f"raw POST /query (httpx keep-alive), round {round_}"
            orm_label = f"ORM point read Item.objects.get(pk=42), round {round_}"
            h.measure(raw_label, raw_post, number=30)
            h.measure(orm_label, orm_point_read, number=30, metrics=metrics)
            r = h.ratio(
                f"ORM point read vs raw POST, round {round_}", slower=orm_label, faster=raw_label
            )
            ratios.append(r.value)
        h.fact("orm_point_read_over_raw_post", [round(v, 3) for v in ratios])
        h.fact("orm_point_read_target_le_1.2x_met", all(v <= 1.2 for v in ratios))

        def atomic_n() -> None:
            with transaction.atomic():
                for i in range(N_STATEMENTS):
                    Item.objects.filter(pk=i + 1).update(qty=i)

        m = h.measure(f"atomic() with {N_STATEMENTS} UPDATEs", atomic_n, number=5, metrics=metrics)
        h.fact("atomic_requests_per_call", m.counters.get("requests"))
        h.fact("atomic_expected_requests", N_STATEMENTS + 2)
        h.fact("server", "@prisma/dev 0.25.2 (PGlite, Node 22), loopback")
        raw.close()
        connection.close()
