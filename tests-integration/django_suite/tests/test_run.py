"""Runner helpers: app sets, requirement filtering, settings module, report rendering, plugins."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


run = _load("django_suite_run", SUITE / "run.py")
appsets = run.appsets


def test_app_sets():
    assert len(appsets.SMOKE) == 10
    assert len(appsets.ORM) == len(set(appsets.ORM)) == 97
    assert set(appsets.SMOKE) <= set(appsets.ORM)
    assert appsets.resolve("full") == []
    with pytest.raises(KeyError):
        appsets.resolve("nope")


def test_resolve_checks_the_sdist(tmp_path):
    for app in appsets.SMOKE[:-1]:
        (tmp_path / app).mkdir()
    with pytest.raises(ValueError, match="transactions"):
        appsets.resolve("smoke", tmp_path)
    (tmp_path / "transactions").mkdir()
    assert appsets.resolve("smoke", tmp_path) == list(appsets.SMOKE)


def test_filtered_requirements(tmp_path):
    req = tmp_path / "py3.txt"
    req.write_text(
        "aiosmtpd >= 1.4.5\nblack >= 26.1.0\ngeoip2\n# comment\n"
        "pylibmc; sys_platform != 'win32'\npywatchman; sys_platform != 'win32'\n"
        "selenium >= 4.8.0\ntblib >= 3.0.0\n\ncolorama >= 0.4.6; sys_platform == 'win32'\n"
    )
    assert run.filtered_requirements(req) == [
        "aiosmtpd >= 1.4.5",
        "tblib >= 3.0.0",
        "colorama >= 0.4.6; sys_platform == 'win32'",
    ]


def test_write_settings_merges_stock_and_backend(tmp_path):
    tests = tmp_path / "django" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_sqlite.py").write_text(
        'DATABASES = {"default": {}}\nSECRET_KEY = "k"\nUSE_TZ = False\n'
        'DEFAULT_AUTO_FIELD = "django.db.models.AutoField"\n'
    )
    out = tmp_path / "s.py"
    dbs = {"default": {"ENGINE": "x", "NAME": "a"}, "other": {"ENGINE": "x", "NAME": "b"}}
    run.write_settings(out, tmp_path / "django", {"DATABASES": dbs, "USE_TZ": True})
    ns: dict = {}
    exec(out.read_text(), ns)
    assert ns["DATABASES"] == dbs
    assert ns["SECRET_KEY"] == "k" and ns["USE_TZ"] is True
    assert ns["DEFAULT_AUTO_FIELD"] == "django.db.models.AutoField"
    with pytest.raises(run.SetupError, match="other"):
        run.write_settings(out, tmp_path / "django", {"DATABASES": {"default": {}}})


def test_report_and_markdown():
    lines = [
        "Found 3 test(s).",
        "test_a (basic.tests.T.test_a) ... ok",
        "test_b (basic.tests.T.test_b) ... FAIL",
        "test_c (lookup.tests.T.test_c) ... skipped 'no'",
        "Ran 3 tests in 0.1s",
        "FAILED (failures=1, skipped=1)",
    ]
    meta = {
        "backend": "x",
        "django": "5.2.19",
        "set": "smoke",
        "parallel": 1,
        "python": "3.12.1",
        "finished_at": "2026-01-01T00:00:00Z",
        "git_sha": "abc",
        "wall_seconds": 1.0,
    }
    report = run.build_report(run.results.parse(lines), meta)
    json.dumps(report)  # serialisable
    assert report["totals"]["found"] == 3 and report["totals"]["failed_errors"] == 1
    assert report["failing_tests"] == [{"id": "basic.tests.T.test_b", "outcome": "FAIL"}]
    md = run.render_markdown(report)
    assert "| basic | 2 | 1 | 1 | 0 | 0 | 0 | 50.0% |" in md
    assert "| lookup | 1 | 0 | 0 | 1 | 0 | 0 | 0.0% |" in md
    assert "**Passed 1 of 3 found (33.3%)**" in md
    assert "`basic.tests.T.test_b` — FAIL" in md


def test_sqlite3_plugin():
    plugin = run.load_plugin("sqlite3")
    assert plugin.PACKAGES == [] and plugin.PARALLEL == 2
    with plugin.configure(Path("/nonexistent")) as settings:
        assert set(settings["DATABASES"]) == {"default", "other"}


def test_every_plugin_names_real_packages():
    for path in sorted((SUITE / "backends").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        plugin = run.load_plugin(path.stem)
        for spec in getattr(plugin, "PACKAGES", []):
            pkg, _extras = run.package_path(spec)  # raises SetupError when missing
            assert run.dist_name(pkg)


def test_unknown_plugin():
    with pytest.raises(run.SetupError, match="available: .*sqlite3"):
        run.load_plugin("no-such-backend")


def test_tree_hash_ignores_caches(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("x = 1\n")
    h1 = run.tree_hash(tmp_path)
    (tmp_path / "src" / "__pycache__").mkdir()
    (tmp_path / "src" / "__pycache__" / "m.cpython-312.pyc").write_bytes(b"junk")
    assert run.tree_hash(tmp_path) == h1
    (tmp_path / "src" / "m.py").write_text("x = 2\n")
    assert run.tree_hash(tmp_path) != h1


def test_run_suite_timeout_stops_the_process_group(tmp_path):
    marker = tmp_path / "child.pid"
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    out = (tmp_path / "log").open("w")
    rc = run.run_suite([sys.executable, "-c", script], tmp_path, {}, out, timeout=3)
    out.close()
    assert rc == -1
    child = int(marker.read_text())
    for _ in range(50):  # the grandchild (a "parallel worker") is gone too
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("child process survived the timeout")
