"""The benchmark harness: statistics, counters, ratios, report files, other venvs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_harness_under_test", BENCH / "harness.py")
harness = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = harness
_spec.loader.exec_module(harness)


def test_spread():
    s = harness.spread([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s["median"], s["min"], s["max"], s["mean"]) == (3.0, 1.0, 5.0, 3.0)
    assert (s["q1"], s["q3"], s["iqr"]) == (2.0, 4.0, 2.0)
    assert harness.spread([7.0])["iqr"] == 0.0
    with pytest.raises(ValueError):
        harness.spread([])


def test_time_samples_calls_and_setup():
    calls, setups = [], []
    samples = harness.time_samples(
        lambda: calls.append(1), repeats=4, warmup=2, number=3, setup=lambda: setups.append(1)
    )
    assert len(samples) == 4 and all(s >= 0 for s in samples)
    assert len(calls) == (2 + 4) * 3 and len(setups) == 2 + 4
    with pytest.raises(ValueError):
        harness.time_samples(lambda: None, repeats=0)


class FakeMetrics:
    def __init__(self):
        self.requests = 0
        self.statements = 0

    def snapshot(self):
        return {"requests": self.requests, "statements": self.statements, "label": "x"}


def test_measure_counts_requests_per_call(tmp_path):
    h = harness.Harness("t", repeats=3, warmup=0, out_dir=tmp_path, log=lambda m: None)
    metrics = FakeMetrics()

    def op():
        metrics.requests += 2
        metrics.statements += 5

    m = h.measure("op", op, number=4, metrics=metrics)
    assert m.counters == {"requests": 2.0, "statements": 5.0}
    assert len(m.samples) == 3 and m.number == 4
    with pytest.raises(ValueError):
        h.measure("op", op)


def test_ratio_and_report_files(tmp_path):
    h = harness.Harness("demo", out_dir=tmp_path, log=lambda m: None)
    h.add_external("old", {"samples": [4.0, 4.0, 6.0, 6.0], "number": 2}, source="old-project 0.1")
    h.add_external("new", {"samples": [1.0, 1.0, 2.0, 2.0]}, source="this run")
    r = h.ratio("speed-up", slower="old", faster="new", target=3.0)
    assert r.value == pytest.approx(5.0 / 1.5)
    assert r.low == pytest.approx(4.0 / 2.0) and r.high == pytest.approx(6.0 / 1.0)
    assert r.met is True
    assert h.ratio("too ambitious", slower="old", faster="new", target=10).met is False
    h.fact("rows", 10)
    json_path, md_path = h.write()
    data = json.loads(json_path.read_text())
    assert data["machine"]["cores"] >= 1 and data["machine"]["python"]
    assert [m["label"] for m in data["measurements"]] == ["old", "new"]
    assert data["ratios"][0]["met"] is True and data["facts"] == {"rows": 10}
    md = md_path.read_text()
    assert "| speed-up | old | new | 3.33 | 2.00–6.00 | ≥ 3× | yes |" in md
    assert "| too ambitious |" in md and "**no**" in md


def test_other_venv_runs_script_and_returns_json(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(
        "import importlib.util, json, os, sys\n"
        "spec = importlib.util.spec_from_file_location('h', os.environ['BENCH_HARNESS'])\n"
        "h = importlib.util.module_from_spec(spec); sys.modules['h'] = h; spec.loader.exec_module(h)\n"
        "samples = h.time_samples(lambda: None, repeats=3, warmup=0)\n"
        "print('noise')\n"
        "print(json.dumps({'samples': samples, 'prefix': sys.prefix, 'arg': sys.argv[1]}))\n"
    )
    venv = harness.OtherVenv([], name="t", cache_dir=tmp_path / "venvs")
    out = venv.run_json(script, ["x"])
    assert out["arg"] == "x" and len(out["samples"]) == 3
    assert Path(out["prefix"]).resolve() == venv.path.resolve()
    bad = tmp_path / "bad.py"
    bad.write_text("raise SystemExit(3)\n")
    with pytest.raises(RuntimeError, match="failed"):
        venv.run_json(bad)
