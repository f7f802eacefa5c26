"""Subprocess side of the multi-process tests: python worker.py <action> [args]."""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings_jlg")

import django  # noqa: E402

django.setup()

from django.db import connections, transaction  # noqa: E402
from jlg_testapp.models import Counter  # noqa: E402


def main() -> None:
    action = sys.argv[1]
    if action == "bump":  # one transaction: counter n += 1 and a new row
        with transaction.atomic(using="json-git"):
            c = Counter.objects.get(pk=1)
            c.n += 1
            c.save()
            Counter.objects.create(n=-c.n)
        print(Counter.objects.get(pk=1).n)
    elif action == "loop":  # n transactions, printing each committed value
        for _ in range(int(sys.argv[2])):
            with transaction.atomic(using="json-git"):
                c = Counter.objects.select_for_update().get(pk=1)
                c.n += 1
                c.save()
                Counter.objects.create(n=-c.n)
            print(c.n, flush=True)
    elif action == "hold-lock":  # take the write lock and keep it
        conn = connections["json-git"]
        conn.ensure_connection()
        conn.store.acquire(5)
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    elif action == "read":
        print(Counter.objects.using("json-git-read").get(pk=1).n)
    else:
        raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    main()
