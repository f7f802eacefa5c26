#!/usr/bin/env python
"""Walk django-astra's party finder on the local CQL server: the astra row of `make demo`.

The blog project's models are Django SQL models, which django-astra does not store (it maps
cqlengine ``DjangoCassandraModel`` classes), so for astra the demo walks the party-finder site
(docs/examples/partyfinder_project, app from packages/django-astra/tests/partyfinder): sync the
keyspace, create parties per city, list them by partition, "count me in" through a lightweight
transaction (refused below zero, concurrent joins all counted), the admin pages through Django's
test client, sessions stored in Cassandra with a TTL, and what it cannot do. Run by run.py in
its own process (PARTY_CQL_PORT, PARTY_DATA_DIR); writes the same JSON summary as flow.py.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import secrets
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SITE = ROOT / "docs" / "examples" / "partyfinder_project"
sys.path.insert(0, str(HERE))

from flow import Counter, Flow  # noqa: E402

WRITES = ("INSERT", "UPDATE", "DELETE")


class CqlCounter:
    """Counts CQL statements and rows written on every django_astra connection, in every thread.

    cqlengine sends its statements straight to the backend's connection object, not through
    Django cursors, so the counting wraps that object's three entry points (demo process only).
    An LWT that is not applied writes nothing and is not counted as a write.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statements = 0
        self.rows_written = 0

    def _count(self, texts: list[str], result: Any) -> None:
        writes = sum(1 for t in texts if t.lstrip()[:6].upper() in WRITES)
        if writes and len(texts) == 1 and re.search(r"\sIF\s", texts[0], re.I):
            if not getattr(result, "was_applied", True):
                writes = 0
        with self.lock:
            self.statements += len(texts)
            self.rows_written += writes

    def install(self) -> None:
        from django_astra.connection import CassandraConnection

        counter = self
        execute, run_prepared, batch = (
            CassandraConnection.execute,
            CassandraConnection.run_prepared,
            CassandraConnection.batch,
        )

        def counted_execute(conn, cql, *args, **kw):
            result = execute(conn, cql, *args, **kw)
            text = cql if isinstance(cql, str) else getattr(cql, "query_string", "")
            counter._count([text], result)
            return result

        def counted_run_prepared(conn, cql, *args, **kw):
            rows = run_prepared(conn, cql, *args, **kw)
            counter._count([cql], None)
            return rows

        def counted_batch(conn, statements, *args, **kw):
            result = batch(conn, statements, *args, **kw)
            counter._count([cql for cql, _ in statements], None)
            return result

        CassandraConnection.execute = counted_execute
        CassandraConnection.run_prepared = counted_run_prepared
        CassandraConnection.batch = counted_batch


def run(flow: Flow, cql: CqlCounter, admin_password: str) -> None:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections, transaction
    from django.test import Client
    from django_astra.sessions.backends.db import SessionStore
    from partyfinder.models import Guest, Party
    from partyfinder.views import count_me_in
    from pfsite.views import CITIES

    for alias in ("default", "cassandra"):
        conn = connections[alias]
        flow.info[alias] = {"vendor": conn.vendor, "engine": conn.settings_dict["ENGINE"]}

    def migrate() -> str:
        out = io.StringIO()
        flow.progress = "default (sqlite3): Django's SQL models"
        call_command("migrate", database="default", interactive=False, verbosity=1, stdout=out)
        applied = out.getvalue().count(" OK")
        flow.progress = "cassandra: sync_cassandra"
        sync = io.StringIO()
        call_command("sync_cassandra", database="cassandra", verbosity=1, stdout=sync)
        changes = [ln.split(": ", 1)[1] for ln in sync.getvalue().splitlines() if ": " in ln]
        tables = sum(1 for c in changes if c.startswith("created table"))
        return (
            f"sync_cassandra: {len(changes)} changes ({tables} tables, keyspace, indexes); "
            f"{applied} SQL migrations on default (sqlite3: users, admin log)"
        )

    if not flow.step("migrate/sync", migrate):
        return

    made: dict[str, list] = {}

    def sample() -> str:
        for c, city in enumerate(CITIES):
            made[city] = [
                Party.create(city=city, name=f"{city} party {i}", people=0) for i in range(c + 3)
            ]
        first = made[CITIES[0]][0]
        for name in ("ada", "grace", "linus"):
            Guest.create(city=first.city, party_id=first.id, name=name, email=f"{name}@example.com")
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", admin_password)
        total = sum(len(v) for v in made.values())
        return (
            f"{total} parties in {len(CITIES)} cities, 3 guests (Cassandra); admin user (sqlite3)"
        )

    if not flow.step("parties per city", sample):
        return

    pages_ok = [0, 0]
    client = Client()

    def page(method: str, url: str, expected: int, data: dict | None = None, must: str = ""):
        response = client.post(url, data or {}) if method == "POST" else client.get(url)
        pages_ok[1] += 1
        body = response.content.decode(errors="replace")
        if response.status_code != expected or (must and must not in body):
            want = f"{expected}" + (f" containing {must!r}" if must else "")
            raise AssertionError(f"{method} {url} -> {response.status_code} (want {want})")
        pages_ok[0] += 1
        return response

    def listing() -> str:
        for city, parties in made.items():
            got = {p.id for p in Party.objects(city=city)}
            if got != {p.id for p in parties}:
                raise AssertionError(f"{city}: listed {len(got)} parties, made {len(parties)}")
            data = page("GET", f"/parties/{city}.json", 200).json()
            if len(data["parties"]) != len(parties):
                raise AssertionError(f"/parties/{city}.json lists {len(data['parties'])}")
        page("GET", f"/?city={CITIES[1]}", 200, must=f"{CITIES[1]} party 0")
        # A filter outside the primary key and indexes is refused unless asked for explicitly.
        try:
            list(Party.objects.filter(name=f"{CITIES[0]} party 0"))
        except Exception as exc:  # the backend's mapped driver error
            flow.cannot.append(
                "filter on a non-key, non-indexed column: refused "
                f"({type(exc).__name__}) unless .allow_filtering() is called"
            )
        else:
            raise AssertionError("a filter on a non-key column was not refused")
        scanned = list(Party.objects.filter(name=f"{CITIES[0]} party 0").allow_filtering())
        if len(scanned) != 1:
            raise AssertionError(f"allow_filtering() found {len(scanned)} parties")
        return (
            f"{len(made)} cities listed by partition (cqlengine + JSON pages); a non-key filter "
            "is refused without allow_filtering()"
        )

    flow.step("list by city", listing)

    def lwt() -> str:
        party = made[CITIES[0]][0]
        city, pid = party.city, party.id
        if count_me_in(city, pid, 3) != (True, 3):
            raise AssertionError("count me in +3 was not applied")
        refused = count_me_in(city, pid, -5)
        if refused != (False, 3):
            raise AssertionError(f"-5 below zero was not refused: {refused}")
        results: list[tuple] = []
        errors: list[str] = []

        def join() -> None:
            try:
                results.append(count_me_in(city, pid, 1))
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                connections.close_all()

        threads = [threading.Thread(target=join) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        if errors:
            raise AssertionError("; ".join(errors))
        applied = sum(1 for ok, _ in results if ok)
        people = Party.objects(city=city).get(pk=pid).people
        if people != 3 + applied:
            raise AssertionError(f"{people} people after {applied} applied concurrent joins")
        url = f"/parties/{city}/{pid}/count-me-in/"
        joined = page("POST", url, 200, {"delta": "1"}).json()
        below = page("POST", url, 409, {"delta": str(-(people + 2))}).json()
        if joined != {"applied": True, "people": people + 1} or below["applied"]:
            raise AssertionError(f"count-me-in page: {joined} then {below}")
        # The HTML page's buttons post a form and come back to the city's page.
        back = f"/?city={city}"
        page("POST", url, 302, {"delta": str(-(people + 5)), "next": back})
        page("GET", back, 200, must=f"Not counted: {people + 1} going")
        return (
            f"+3 applied; -5 refused (would go below zero, stays 3); {applied}/4 concurrent "
            f"joins applied, none lost ({people}); the page's join 200, below zero 409 (the "
            "form: refused with a message)"
        )

    flow.step("count me in (LWT)", lwt)

    def admin_pages() -> str:
        if not client.login(username="admin", password=admin_password):
            raise AssertionError("admin login failed")
        city = CITIES[2]
        base = "/admin/partyfinder/party/"
        page("GET", "/admin/", 200, must=base)
        page("GET", f"{base}?city={city}", 200, must=f"{city} party")  # 2 a page
        page("GET", f"{base}add/", 200)
        page("POST", f"{base}add/", 302, {"city": city, "name": "Admin party", "people": "5"})
        added = Party.objects(city=city).filter(name="Admin party").allow_filtering().get()
        change = f"{base}{added.pk_token}/change/"
        page("GET", change, 200, must="Admin party")
        when = added.date.strftime("%Y-%m-%d %H:%M:%S")
        page("POST", change, 302, {"name": "Renamed party", "people": "6", "date": when})
        again = Party.objects(city=city).get(pk=added.id)
        if (again.name, again.people) != ("Renamed party", 6):
            raise AssertionError(f"change not saved: {again.name!r}, {again.people}")
        page("GET", f"{base}{added.pk_token}/delete/", 200)
        page("POST", f"{base}{added.pk_token}/delete/", 302, {"post": "yes"})
        if Party.objects(city=city).filter(name="Renamed party").allow_filtering().count():
            raise AssertionError("deleted party is still there")
        guest = Guest.objects(city=CITIES[0], party_id=made[CITIES[0]][0].id, name="ada").get()
        page("GET", "/admin/partyfinder/guest/", 200, must="ada")
        page("GET", f"/admin/partyfinder/guest/{guest.pk_token}/change/", 200, must="ada@")
        return "admin index, party list (one partition), add, change, delete; guest list and change"

    flow.step("admin pages", admin_pages)
    flow.info["pages"] = f"{pages_ok[0]}/{pages_ok[1]}"

    def sessions() -> str:
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        cursor = connections["cassandra"].cursor()
        row = cursor.execute(
            "SELECT ttl(session_data) FROM django_session WHERE session_key=%s", (key,)
        ).one()
        ttl = row["ttl(session_data)"] if row else None
        if ttl is None or not 0 < ttl <= settings.SESSION_COOKIE_AGE:
            raise AssertionError(f"the login session has TTL {ttl}")
        short = SessionStore()
        short["demo"] = True
        short.set_expiry(1)
        short.save()
        if not SessionStore().exists(short.session_key):
            raise AssertionError("the short session was not stored")
        time.sleep(2.2)
        if SessionStore().exists(short.session_key):
            raise AssertionError("the 1-second session outlived its TTL")
        return (
            f"the admin login's session row has TTL {ttl} s (of {settings.SESSION_COOKIE_AGE}); "
            "a 1-second session is gone 2 s later, dropped by Cassandra (no clearsessions)"
        )

    flow.step("sessions (TTL)", sessions)

    def atomic() -> str:
        with transaction.atomic(using="cassandra"):
            Party.create(city=CITIES[3], name="never")
        return "atomic() ran"

    flow.step("transaction.atomic", atomic)
    flow.cannot.append(
        "Django SQL models (users, permissions, content types, admin log) cannot be stored: "
        "they live on a SQL 'default' database (sqlite3 here)"
    )
    flow.cannot.append("joins / select_related, foreign keys, Django's own test suite")

    def count_rows() -> str:
        flow.info["statements"] = flow.counter.statements + cql.statements
        flow.info["round_trips"] = flow.counter.round_trips()
        parties = sum(Party.objects(city=city).count() for city in CITIES)
        return f"{parties} parties stored; {cql.rows_written} CQL rows written"

    flow.step("count rows", count_rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--result", required=True, type=Path)
    args = ap.parse_args()
    sys.path.insert(0, str(SITE))
    os.environ["DJANGO_SETTINGS_MODULE"] = "pfsite.settings"
    os.environ.setdefault("PARTY_DEBUG", "0")

    counter = Counter()  # Django SQL statements (sqlite3) and every connection's round trips
    cql = CqlCounter()
    flow = Flow("astra", counter)
    admin_password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    started = time.monotonic()
    try:
        import django
        from django.db.backends.signals import connection_created

        django.setup()
        cql.install()
        connection_created.connect(counter.on_connection_created, weak=False)
        run(flow, cql, admin_password)
    except Exception as exc:  # set-up failures (settings, import) still produce a result
        flow.steps.append({"name": "setup", "ok": False, "detail": f"{type(exc).__name__}: {exc}"})
        traceback.print_exc()
    finally:
        from django.db import connections

        for conn in connections.all(initialized_only=True):
            metrics = getattr(conn.connection, "metrics", None)
            if metrics is not None:
                counter.metrics[id(metrics)] = metrics
            conn.close()
    sql_rows = counter.rows_written  # sqlite3 updates/deletes
    summary = {
        "backend": "astra",
        "ok": bool(flow.steps)
        and all(s["ok"] or s.get("not_supported") for s in flow.steps)
        and any(s["name"] == "admin pages" and s["ok"] for s in flow.steps),
        "migrate_ok": any(s["name"] == "migrate/sync" and s["ok"] for s in flow.steps),
        "pages": flow.info.get("pages", "0/0"),
        "rows_written": cql.rows_written,
        "rows_written_note": f"CQL rows in Cassandra; on sqlite3 (users) {sql_rows} row(s) were "
        "updated or deleted too",
        "statements": flow.info.get("statements", counter.statements + cql.statements),
        "round_trips": flow.info.get("round_trips", counter.round_trips()),
        "seconds": round(time.monotonic() - started, 2),
        "cannot": flow.cannot,
        "steps": flow.steps,
        "info": flow.info,
        "admin_password": admin_password,
    }
    args.result.write_text(json.dumps(summary, indent=2, default=str))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
