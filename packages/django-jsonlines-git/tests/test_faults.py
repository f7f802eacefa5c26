"""kill -9 a writer at random points: the repo always opens with the old or the new state.

Default run: 100 committed transactions with a kill -9 at a random moment of each worker
(at least 10 kills; typically 10-20, printed with -s). JLG_FAULTS_WRITES=N changes the number of
transactions, JLG_FAULTS_SEED the random seed (printed, to replay a failure).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import HERE, R, git, point
from django.db import connections
from jlg_testapp.models import Counter


def check_consistent(repo: Path) -> int:
    """Every transaction did n += 1 and added a row -n: all or nothing of each."""
    point(repo)
    n = Counter.objects.using(R).get(pk=1).n
    negatives = sorted(
        -c for c in Counter.objects.using(R).filter(n__lt=0).values_list("n", flat=True)
    )
    assert negatives == list(range(1, n + 1)), (n, negatives)
    connections[R].close()
    return n


def test_kill_9_during_writes(migrated: Path) -> None:
    Counter.objects.create(n=0)
    target = int(os.environ.get("JLG_FAULTS_WRITES", "100"))
    seed = int(os.environ.get("JLG_FAULTS_SEED", time.time()))
    rng = random.Random(seed)
    min_kills = min(10, target // 4)
    env = {**os.environ, "JLG_DATA": str(migrated), "PYTHONPATH": str(HERE)}
    done, kills = 0, 0
    while done < target or kills < min_kills:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "worker.py"), "loop", str(max(target - done, 0) + 200)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # Kill at a random moment after the worker's first commit (Django start-up is slow).
        assert proc.stdout is not None
        first = proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        out, err = proc.communicate()
        assert proc.returncode in (0, -signal.SIGKILL), err.decode()
        printed = [int(x) for x in (first + out).split()]
        n = check_consistent(migrated)
        # Whatever the worker reported as committed is there (it prints after the commit).
        assert not printed or n >= printed[-1]
        done = n
    assert kills >= max(min_kills, 1)
    print(f"\nkill -9 test: {done} committed transactions, {kills} kills, seed {seed}")
    point(migrated)
    Counter.objects.create(n=1000)  # a write after the crashes leaves a clean work tree
    assert git(migrated, "status", "--porcelain") == ""
    subprocess.run(
        ["git", "-C", str(migrated), "fsck", "--no-dangling"], check=True, capture_output=True
    )


def test_two_processes_are_serialised(migrated: Path) -> None:
    Counter.objects.create(n=0)
    env = {**os.environ, "JLG_DATA": str(migrated), "PYTHONPATH": str(HERE)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "worker.py"), "loop", "5"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    errors = [e.decode() for (_, e), p in zip(outs, procs, strict=True) if p.returncode]
    # A transaction that started before the other process committed may be refused
    # ("HEAD moved ... retry"); it must never be lost half-way or silently merged.
    for e in errors:
        assert "retry the transaction" in e or "database is locked" in e, e
    n = check_consistent(migrated)
    committed = sum(len(o.split()) for o, _ in outs)
    assert n == committed


def test_lock_held_by_other_process_times_out(migrated: Path) -> None:
    Counter.objects.create(n=0)
    env = {**os.environ, "JLG_DATA": str(migrated), "PYTHONPATH": str(HERE)}
    holder = subprocess.Popen(
        [sys.executable, str(HERE / "worker.py"), "hold-lock", "6"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"locked"
        import pytest
        from django.db import OperationalError

        start = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            Counter.objects.create(n=1)
        assert 1.5 < time.monotonic() - start < 5  # OPTIONS lock_timeout = 2
    finally:
        holder.kill()
        holder.wait()
