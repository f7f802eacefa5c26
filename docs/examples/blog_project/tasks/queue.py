"""A database-backed task queue that two workers can drain at once without double work.

Claiming is the only contended step. Where the backend has ``SELECT ... FOR UPDATE SKIP LOCKED``
(and transactions), a worker locks the next pending row and skips rows another worker holds.
Elsewhere it uses a conditional UPDATE: ``UPDATE task SET status='running' ... WHERE id=%s AND
status='pending'`` and owns the task only if the database reports one changed row. That needs
only single-statement atomicity and an exact rowcount, which every backend here provides.
"""

from __future__ import annotations

import socket
import threading
import time
import traceback
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone

from blogproject.dbstats import claim_strategy

from .handlers import HANDLERS
from .models import Task


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{threading.get_ident()}"


def enqueue(kind: str, payload: dict[str, Any] | None = None, *, max_attempts: int = 3) -> Task:
    if kind not in HANDLERS:
        raise ValueError(f"unknown task kind {kind!r}; known: {', '.join(sorted(HANDLERS))}")
    return Task.objects.create(kind=kind, payload=payload or {}, max_attempts=max_attempts)


def _alias() -> str:
    return router.db_for_write(Task)


def claim(worker_id: str) -> Task | None:
    """Take the oldest runnable task for this worker, or return None if there is none."""
    alias = _alias()
    now = timezone.now()
    runnable = Task.objects.using(alias).filter(status=Task.PENDING, run_after__lte=now)
    if claim_strategy(alias).startswith("select_for_update"):
        with transaction.atomic(using=alias):
            task = runnable.select_for_update(skip_locked=True).order_by("id").first()
            if task is None:
                return None
            task.status, task.claimed_by = Task.RUNNING, worker_id
            task.attempts += 1
            task.save(update_fields=["status", "claimed_by", "attempts", "updated_at"])
            return task
    # Conditional UPDATE: several workers may pick the same candidate; only one UPDATE matches.
    for candidate in runnable.order_by("id").values_list("id", flat=True)[:20]:
        won = (
            Task.objects.using(alias)
            .filter(id=candidate, status=Task.PENDING)
            .update(
                status=Task.RUNNING,
                claimed_by=worker_id,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
        )
        if won == 1:
            return Task.objects.using(alias).get(id=candidate)
    return None


LOST = "lost"


def run_one(task: Task) -> str:
    """Run a claimed task; mark it done, schedule a retry, or mark it failed.

    Returns the new status, or "lost" if the task is no longer this worker's (its mark
    matched no row), so a stale worker never overwrites another worker's outcome.
    """
    alias = _alias()
    mine = Task.objects.using(alias).filter(
        id=task.id, status=Task.RUNNING, claimed_by=task.claimed_by
    )
    try:
        result = HANDLERS[task.kind](task.payload, task.attempts)
    except Exception as exc:  # a task's failure must not stop the worker
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        if task.attempts < task.max_attempts:
            delay = timedelta(seconds=settings.TASKS_RETRY_DELAY * task.attempts)
            marked = mine.update(
                status=Task.PENDING,
                claimed_by="",
                last_error=error,
                run_after=timezone.now() + delay,
                updated_at=timezone.now(),
            )
            return Task.PENDING if marked == 1 else LOST
        marked = mine.update(status=Task.FAILED, last_error=error, updated_at=timezone.now())
        return Task.FAILED if marked == 1 else LOST
    marked = mine.update(status=Task.DONE, result=result, last_error="", updated_at=timezone.now())
    return Task.DONE if marked == 1 else LOST


def work(
    worker_id: str | None = None,
    *,
    until_empty: bool = True,
    max_tasks: int | None = None,
    poll: float = 1.0,
    log=None,
) -> list[tuple[int, str]]:
    """Claim and run tasks; return ``(task id, outcome)`` for each task this worker ran."""
    worker_id = worker_id or default_worker_id()
    done: list[tuple[int, str]] = []
    while max_tasks is None or len(done) < max_tasks:
        _drop_stale_connections()
        task = claim(worker_id)
        if task is None:
            if until_empty and not _has_waiting_retries():
                break
            time.sleep(poll)
            continue
        outcome = run_one(task)
        done.append((task.id, outcome))
        if log:
            log(f"{worker_id}: {task} -> {outcome}")
    return done


def _drop_stale_connections() -> None:
    """Honour CONN_MAX_AGE/health checks between tasks, as a request boundary would."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def _has_waiting_retries() -> bool:
    """True while a failed task waits for its retry time (so --until-empty still runs it)."""
    return Task.objects.using(_alias()).filter(status=Task.PENDING).exists()
