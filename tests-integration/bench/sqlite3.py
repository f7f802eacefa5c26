"""Example benchmark on Django's stock sqlite3 backend (no server): shows the harness API.

``make bench BACKEND=sqlite3``: inserting 500 rows one ``execute`` at a time vs one
``executemany``, and reading them back, through Django's connection wrapper.
"""

from __future__ import annotations

from typing import Any

ROWS = 500


def main(h: Any) -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            USE_TZ=True,
        )
        django.setup()
    from django.db import connection

    rows = [(i, f"name {i}") for i in range(ROWS)]
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE bench_item (id integer PRIMARY KEY, name text NOT NULL)")

    def reset() -> None:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM bench_item")

    def one_by_one() -> None:
        with connection.cursor() as cur:
            for row in rows:
                cur.execute("INSERT INTO bench_item (id, name) VALUES (%s, %s)", row)

    def batched() -> None:
        with connection.cursor() as cur:
            cur.executemany("INSERT INTO bench_item (id, name) VALUES (%s, %s)", rows)

    def read_all() -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT id, name FROM bench_item ORDER BY id")
            assert len(cur.fetchall()) == ROWS

    h.measure(f"insert {ROWS} rows, execute() each", one_by_one, setup=reset)
    h.measure(f"insert {ROWS} rows, one executemany()", batched, setup=reset)
    h.measure(f"read {ROWS} rows", read_all, number=5)
    h.ratio(
        "executemany speed-up",
        slower=f"insert {ROWS} rows, execute() each",
        faster=f"insert {ROWS} rows, one executemany()",
    )
    h.fact("rows", ROWS)
