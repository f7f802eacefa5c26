"""django_d1 against the local D1 server (or D1_API_BASE): each scenario in its own process.

Miniflare tier (real workerd D1)::

    node tests-integration/cloudflare/runner.mjs --port 18787 &
    D1_API_BASE=http://127.0.0.1:18787/client/v4 pytest packages/django-d1/tests/test_backend.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def run(scenario: str, endpoint) -> subprocess.CompletedProcess:
    db = endpoint.database_id + "-" + uuid.uuid4().hex[:6]
    proc = subprocess.run(
        [sys.executable, str(HERE / "d1_scenarios.py"), scenario, endpoint.api_base, db,
         endpoint.token],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(HERE)},
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), proc.stderr[-4000:]
    return proc


@pytest.mark.parametrize(
    "scenario",
    [
        "types",
        "bulk",
        "bulk_update",
        "drop_related",
        "batch",
        "schema",
        "errors",
        "test_safety",
        "dbshell",
    ],
)
def test_scenario(scenario, d1_endpoint):
    if scenario == "errors" and not d1_endpoint.local and not os.environ.get("D1_TOKEN"):
        pytest.skip("the endpoint has no auth (Miniflare): set D1_TOKEN for a real one")
    proc = run(scenario, d1_endpoint)
    assert d1_endpoint.token not in proc.stdout + proc.stderr
