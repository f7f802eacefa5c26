"""Configure Django for the package tests (no pytest-django): test app, router, two aliases.

Each test gets a fresh repository directory: the `repo` fixture points both aliases at it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings_jlg")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402

W, R = "json-git", "json-git-read"


def git(path: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(path), *args], check=True, capture_output=True, text=True
    ).stdout


def commits(path: Path) -> int:
    try:
        return int(git(path, "rev-list", "--count", "HEAD").strip())
    except subprocess.CalledProcessError:
        return 0


def point(path: Path, **options: object) -> None:
    """Point both aliases at `path` (closing their connections first)."""
    for alias in (W, R):
        conn = connections[alias]
        conn.close()
        conn.settings_dict["NAME"] = str(path)
        conn.settings_dict["OPTIONS"] = {"lock_timeout": 2} if alias == W else {}
        conn.__dict__.pop("_jl_author", None)
    for key, value in options.items():
        target = R if key == "ref" else W
        connections[target].settings_dict["OPTIONS"][key] = value


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data"
    point(path)
    yield path
    for alias in (W, R):
        connections[alias].close()


@pytest.fixture
def migrated(repo: Path) -> Path:
    from django.core.management import call_command

    call_command("migrate", "jlg_testapp", database=W, verbosity=0)
    return repo


def run_worker(path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JLG_DATA": str(path), "PYTHONPATH": str(HERE)}
    return subprocess.run(
        [sys.executable, str(HERE / "worker.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
