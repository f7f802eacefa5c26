#!/usr/bin/env python
"""Walk the reference blog project through its pages and side-car flows on one backend.

Run by run.py in a fresh process per backend (Django settings are per process); the backend
comes from BLOG_BACKEND / BLOG_DATABASES_SECRET / BLOG_DATA_DIR. Writes a JSON summary to --result.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BLOG = ROOT / "docs" / "examples" / "blog_project"


class Counter:
    """Counts statements and rows written on every connection, in every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statements = 0
        self.rows_written = 0  # updated + deleted
        self.metrics: dict[int, Any] = {}

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        verb = sql.lstrip()[:7].upper()
        with self.lock:
            self.statements += 1
            # Inserted rows are counted from the tables at the end (rowcount is not reliable
            # for INSERT ... RETURNING); updates and deletes from the rowcount.
            if verb.startswith(("UPDATE", "DELETE")):
                count = getattr(context["cursor"], "rowcount", -1)
                if count and count > 0:
                    self.rows_written += count
        return result

    def on_connection_created(self, sender, connection, **kwargs) -> None:
        if not getattr(connection, "_demo_counted", False):
            connection.execute_wrappers.append(self)
            connection._demo_counted = True
        metrics = getattr(connection.connection, "metrics", None)
        if metrics is not None:
            with self.lock:
                self.metrics[id(metrics)] = metrics

    def round_trips(self) -> int | None:
        if not self.metrics:
            return None
        return sum(int(m.requests) for m in self.metrics.values())


class Flow:
    def __init__(self, backend: str, counter: Counter) -> None:
        self.backend = backend
        self.counter = counter
        self.steps: list[dict[str, Any]] = []
        self.cannot: list[str] = []
        self.info: dict[str, Any] = {}
        self.progress = ""  # what a long step is doing now, shown by the heartbeat

    def say(self, text: str) -> None:
        print(f"  [{self.backend}] {text}", flush=True)

    def step(self, name: str, fn: Callable[[], str | None]) -> bool:
        from django.db import NotSupportedError

        self.say(f"{name} ...")
        started = time.monotonic()
        done = threading.Event()

        def heartbeat() -> None:  # long steps show they are alive
            while not done.wait(10):
                where = f": {self.progress}" if self.progress else ""
                self.say(f"  ... {name} still running ({time.monotonic() - started:.0f} s){where}")

        threading.Thread(target=heartbeat, daemon=True).start()
        record: dict[str, Any] = {"name": name}
        try:
            detail = fn()
            record.update(ok=True, detail=detail or "")
        except NotSupportedError as exc:
            record.update(ok=False, not_supported=True, detail=f"NotSupportedError: {exc}")
            self.cannot.append(f"{name}: {exc}")
        except Exception as exc:
            tb = traceback.format_exc(limit=6)
            record.update(ok=False, detail=f"{type(exc).__name__}: {exc}", traceback=tb)
            print(tb, file=sys.stderr)
        finally:
            done.set()
            self.progress = ""
        record["seconds"] = round(time.monotonic() - started, 3)
        self.steps.append(record)
        state = "ok" if record["ok"] else "FAILED"
        self.say(f"{name}: {state} ({record['seconds']:.1f} s) {record['detail']}".rstrip())
        return record["ok"]


def run(flow: Flow, admin_password: str) -> None:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from analytics.models import PageView
    from analytics.rollup import process_analytics
    from audit.models import AuditEntry
    from blog.models import Post, Tag
    from blog.sample import bulk_demo, load_sample_data
    from blogproject.dbstats import claim_strategy, has_transactions
    from tasks import queue
    from tasks.models import Task

    for alias in ("default", "analytics"):
        conn = connections[alias]
        flow.info[alias] = {"vendor": conn.vendor, "engine": conn.settings_dict["ENGINE"]}

    class MigrateOutput(io.StringIO):
        def write(self, text: str) -> int:
            for line in text.splitlines():
                if line.strip().startswith("Applying"):
                    flow.progress = f"{alias_now[0]}: {line.strip()}"
            return super().write(text)

    alias_now = [""]

    def migrate() -> str:
        out = MigrateOutput()
        for alias in ("default", "analytics"):
            alias_now[0] = alias
            call_command("migrate", database=alias, interactive=False, verbosity=1, stdout=out)
        applied = out.getvalue().count(" OK")
        return f"{applied} migrations applied on default + analytics"

    if not flow.step("migrate", migrate):
        return

    def sample() -> str:
        made = load_sample_data()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", admin_password)
        return f"{made['posts']} posts, {made['comments']} comments, admin user"

    if not flow.step("sample data", sample):
        return

    pages_ok = [0, 0]

    def pages() -> str:
        client = Client()
        post = Post.objects.order_by("id").first()
        checks = [
            ("GET", "/", 200),
            ("GET", f"/posts/{post.slug}/", 200),
            ("POST", f"/posts/{post.slug}/", 302),
            ("GET", "/tags/django/", 200),
            ("GET", f"/authors/{post.author.slug}/", 200),
            ("GET", "/posts/no-such-post/", 404),
            ("GET", "/analytics/last-30-days.json", 200),
            ("ADMIN", "/admin/", 200),
            ("ADMIN", "/admin/blog/post/", 200),
            ("ADMIN", "/admin/blog/post/?q=number", 200),
            ("ADMIN", f"/admin/blog/post/{post.pk}/change/", 200),
            ("ADMIN", "/admin/audit/auditentry/", 200),
            ("ADMIN", "/admin/tasks/task/", 200),
        ]
        for p in Post.objects.order_by("id")[1:6]:  # more page views for analytics
            checks.append(("GET", f"/posts/{p.slug}/", 200))
        bad = []
        for method, url, expected in checks:
            if method == "ADMIN" and not client.session.get("_auth_user_id"):
                client.force_login(User.objects.get(username="admin"))
            if method == "POST":
                response = client.post(url, {"author_name": "demo", "body": "Nice post."})
            else:
                response = client.get(url)
            pages_ok[1] += 1
            if response.status_code == expected:
                pages_ok[0] += 1
            else:
                bad.append(f"{method} {url} -> {response.status_code} (want {expected})")
        if bad:
            raise AssertionError("; ".join(bad))
        views = PageView.objects.count()
        return f"{pages_ok[0]}/{pages_ok[1]} pages as expected; {views} page views recorded"

    flow.step("pages", pages)
    flow.info["pages"] = f"{pages_ok[0]}/{pages_ok[1]}"

    def bulk() -> str:
        parts = []
        for r in bulk_demo(views=1000, comments=200):
            trips = "" if r["round_trips"] is None else f", {r['round_trips']} round trips"
            parts.append(f"{r['rows']} {r['what']} in {r['queries']} queries{trips}")
        flow.info["bulk"] = parts
        return "; ".join(parts)

    flow.step("bulk_create", bulk)

    def analytics() -> str:
        if not has_transactions("analytics"):
            flow.cannot.append("transactions (analytics): process_analytics writes non-atomically")
        result = process_analytics()
        data = Client().get("/analytics/last-30-days.json").json()
        if data["unprocessed"] != 0:
            raise AssertionError(f"{data['unprocessed']} views left unprocessed")
        return f"{result.describe()}; JSON shows {data['total']} views in 30 days"

    flow.step("process_analytics", analytics)

    def tasks() -> str:
        strategy = claim_strategy("default")
        flow.info["claim"] = strategy
        if strategy == "conditional UPDATE":
            flow.cannot.append(
                "SELECT ... FOR UPDATE SKIP LOCKED: task claims use a conditional UPDATE"
            )
        ids = [
            queue.enqueue("notify", {"to": f"reader{i}", "work_seconds": 0.02}).pk
            for i in range(20)
        ]
        ids += [
            queue.enqueue("publish_post", {"post_id": p}).pk
            for p in Post.objects.values_list("id", flat=True)[:3]
        ]
        ids.append(queue.enqueue("flaky", {"fail_times": 1}).pk)
        failing = queue.enqueue("always_fail", max_attempts=2).pk
        ids.append(failing)
        results: dict[str, list] = {}
        errors: list[str] = []

        def worker(name: str) -> None:
            try:
                results[name] = queue.work(name, until_empty=True, poll=0.05)
            except Exception as exc:
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(n,)) for n in ("worker-1", "worker-2")]
        serial = os.environ.get("BLOG_DEMO_SERIAL_WORKERS")
        if serial:
            flow.cannot.append(f"two task workers at once on the local server: {serial}")
            for t in threads:
                t.start()
                t.join(300)
        else:
            for t in threads:
                t.start()
            for t in threads:
                t.join(300)
        if errors:
            raise AssertionError("; ".join(errors))
        final = [(pk, o) for r in results.values() for pk, o in r if o in ("done", "failed")]
        if sorted(pk for pk, _ in final) != sorted(ids):
            raise AssertionError(f"tasks finished more or less than once: {sorted(final)}")
        statuses = dict(Task.objects.filter(pk__in=ids).values_list("pk", "status"))
        expected = {pk: ("failed" if pk == failing else "done") for pk in ids}
        if statuses != expected:
            raise AssertionError(f"unexpected task states: {statuses}")
        split = ", ".join(f"{n} ran {len(r)}" for n, r in sorted(results.items()))
        return f"{len(ids)} tasks, each finished once by 2 workers ({split}) via {strategy}"

    flow.step("task queue", tasks)

    def audit() -> str:
        tag = Tag.objects.create(name="demo", slug="demo")
        tag.name = "demo!"
        tag.save()
        tag.delete()
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        if actions != {"created", "updated", "deleted"}:
            raise AssertionError(f"audit actions seen: {sorted(actions)}")
        return f"{AuditEntry.objects.count()} audit entries (created/updated/deleted)"

    flow.step("audit log", audit)

    def count_rows() -> str:
        from django.apps import apps
        from django.db import router
        from django.db.migrations.recorder import MigrationRecorder

        # What the demo itself cost, before the counting queries below.
        flow.info["statements"] = flow.counter.statements
        flow.info["round_trips"] = flow.counter.round_trips()
        stored = 0
        for alias in ("default", "analytics"):
            stored += MigrationRecorder(connections[alias]).migration_qs.count()
            for model in apps.get_models(include_auto_created=True):
                if router.allow_migrate_model(alias, model):
                    stored += model._default_manager.using(alias).count()
        flow.info["rows_stored"] = stored
        return f"{stored} rows stored in default + analytics"

    flow.step("count rows", count_rows)
    if not has_transactions("default"):
        flow.cannot.append("transactions (default): atomic blocks are not atomic")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--result", required=True, type=Path)
    args = ap.parse_args()
    backend = os.environ.get("BLOG_BACKEND", "sqlite3")
    sys.path.insert(0, str(BLOG))
    os.environ["DJANGO_SETTINGS_MODULE"] = "blogproject.settings"
    os.environ.setdefault("BLOG_DEBUG", "0")
    os.environ["BLOG_TASKS_RETRY_DELAY"] = "0"  # retry failed demo tasks at once

    counter = Counter()
    flow = Flow(backend, counter)
    admin_password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    started = time.monotonic()
    try:
        import django
        from django.db.backends.signals import connection_created

        django.setup()
        connection_created.connect(counter.on_connection_created, weak=False)
        run(flow, admin_password)
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
    summary = {
        "backend": backend,
        "ok": bool(flow.steps)
        and all(s["ok"] or s.get("not_supported") for s in flow.steps)
        and any(s["name"] == "pages" and s["ok"] for s in flow.steps),
        "migrate_ok": any(s["name"] == "migrate" and s["ok"] for s in flow.steps),
        "pages": flow.info.get("pages", "0/0"),
        # rows now stored (all inserted by this flow) + rows updated or deleted on the way
        "rows_written": flow.info.get("rows_stored", 0) + counter.rows_written,
        "statements": flow.info.get("statements", counter.statements),
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
