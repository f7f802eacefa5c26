#!/usr/bin/env python
"""Run Django's own test suite (from the pinned sdist) against one backend and report.

    python tests-integration/django_suite/run.py --backend sqlite3 --set smoke --django 5.2.19

Steps: download the Django sdist once (``.cache/django/``), build a venv per (Django, backend)
under ``.cache/conformance/`` with Python 3.12 (Django from that sdist, its
``tests/requirements/py3.txt`` minus what cannot install here, the backend plugin's PACKAGES
from the workspace), start the backend's server(s) through its plugin's ``configure()``, write a
settings module, run ``tests/runtests.py -v 2``, parse the per-test lines and write
``docs/conformance/<backend>-<django>-<set>.json`` and ``.md``.

Exit status: 0 when nothing failed, errored or unexpectedly succeeded; 1 otherwise; 2 on a
set-up problem. Standard library only (the plugin may import django_backend_core).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import glob
import hashlib
import importlib.util
import json
import os
import platform
import pprint
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import appsets  # noqa: E402
import results  # noqa: E402

CACHE = ROOT / ".cache"
DJANGO_CACHE = CACHE / "django"
CONF_CACHE = CACHE / "conformance"
REPORTS = ROOT / "docs" / "conformance"
DEFAULT_DJANGO = "5.2.19"

# Requirements of tests/requirements/py3.txt that cannot install or run here: pylibmc and
# pywatchman need C libraries/binaries that are not installed, selenium needs a browser,
# geoip2 needs GeoIP databases, black is only used by a few formatter tests and pins a
# version that may not exist for every Python. The tests that need them skip themselves.
EXCLUDED_REQUIREMENTS = frozenset({"pylibmc", "pywatchman", "selenium", "geoip2", "black"})

# Longest list of failing test ids put in the .md report (the .json has them all).
MD_LIST_LIMIT = 200

# Bump to force a rebuild of every conformance venv when the build recipe changes.
VENV_RECIPE = "1"


def log(msg: str) -> None:
    print(f"[conformance] {msg}", flush=True)


class SetupError(RuntimeError):
    """A problem before the suite could run (exit status 2)."""


# --------------------------------------------------------------------------- tools


def find_python312() -> str:
    """PYTHON312, else pyenv's 3.12.x, else python3.12 on PATH."""
    if env := os.environ.get("PYTHON312"):
        return env
    roots = []
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        roots.append(
            subprocess.run(
                ["pyenv", "root"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
    roots.append(os.path.expanduser("~/.pyenv"))
    for root in roots:
        found = sorted(glob.glob(f"{root}/versions/3.12.*/bin/python3.12"))
        if found:
            return found[-1]
    if path := shutil.which("python3.12"):
        return path
    raise SetupError("Python 3.12 not found: set PYTHON312=/path/to/python3.12")


def find_uv() -> str:
    for cand in (
        shutil.which("uv"),
        os.path.expanduser("~/.local/bin/uv"),
        str(ROOT / ".tools/bin/uv"),
    ):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise SetupError("uv not found (make installs it into .tools/bin; or put uv on PATH)")


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Serialise concurrent runs that share a cache entry (several workers, one machine)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_checked(argv: list[str], **kw: Any) -> None:
    log("$ " + " ".join(argv))
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if proc.returncode:
        raise SetupError(
            f"command failed ({proc.returncode}): {' '.join(argv)}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )


# --------------------------------------------------------------------------- sdist


def ensure_sdist(version: str, python: str) -> Path:
    """Download django==version's sdist once and extract it; returns the source directory."""
    src = DJANGO_CACHE / f"django-{version}"
    if (src / "tests" / "runtests.py").is_file():
        return src
    with file_lock(DJANGO_CACHE / f".django-{version}.lock"):
        if (src / "tests" / "runtests.py").is_file():
            return src
        tarball = DJANGO_CACHE / f"django-{version}.tar.gz"
        if not tarball.is_file():
            run_checked(
                [python, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                 f"django=={version}", "-d", str(DJANGO_CACHE)]
            )  # fmt: skip
        if not tarball.is_file():
            raise SetupError(f"pip download did not produce {tarball}")
        tmp = Path(tempfile.mkdtemp(dir=DJANGO_CACHE))
        with tarfile.open(tarball) as tf:
            tf.extractall(tmp, filter="data")
        (tmp / f"django-{version}").rename(src)
        tmp.rmdir()
    return src


def filtered_requirements(req_file: Path) -> list[str]:
    """py3.txt minus EXCLUDED_REQUIREMENTS (comments and blank lines dropped)."""
    out = []
    for line in req_file.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name = re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0].lower()
        if name not in EXCLUDED_REQUIREMENTS:
            out.append(line)
    return out


# --------------------------------------------------------------------------- plugin


def load_plugin(name: str) -> ModuleType:
    path = HERE / "backends" / f"{name}.py"
    if not path.is_file():
        available = sorted(
            p.stem for p in (HERE / "backends").glob("*.py") if not p.stem.startswith("_")
        )
        raise SetupError(f"no backend plugin {path}; available: {', '.join(available)}")
    spec = importlib.util.spec_from_file_location(f"conformance_backend_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "configure"):
        raise SetupError(f"{path} defines no configure(workdir)")
    return module


def package_path(spec: str) -> tuple[Path, str]:
    """'packages/django-d1[server]' -> (ROOT/packages/django-d1, '[server]')."""
    m = re.fullmatch(r"([^\[]+)(\[.*\])?", spec)
    if not m:
        raise SetupError(f"bad PACKAGES entry {spec!r}")
    path = (ROOT / m[1]).resolve()
    if not (path / "pyproject.toml").is_file():
        raise SetupError(f"PACKAGES entry {spec!r}: no pyproject.toml in {path}")
    return path, m[2] or ""


def dist_name(path: Path) -> str:
    return tomllib.loads((path / "pyproject.toml").read_text())["project"]["name"]


_SKIP_DIRS = {
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "node_modules",
    "tests",
    ".git",
}


def tree_hash(path: Path) -> str:
    """Content hash of a package directory (sources, not caches or tests)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info")
        )
        for fn in sorted(filenames):
            if fn.endswith((".pyc", ".pyo")):
                continue
            fp = Path(dirpath, fn)
            h.update(str(fp.relative_to(path)).encode() + b"\0")
            with contextlib.suppress(OSError):
                h.update(fp.read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- venv


def ensure_venv(backend: str, version: str, django_src: Path, packages: list[str]) -> Path:
    """Create or update ``.cache/conformance/venv-<backend>-django<version>``; returns its python."""
    venv = CONF_CACHE / f"venv-{backend}-django{version}"
    py = venv / "bin" / "python"
    requirements = filtered_requirements(django_src / "tests" / "requirements" / "py3.txt")
    pkgs = [(spec, *package_path(spec)) for spec in packages]
    base_key = json.dumps([VENV_RECIPE, version, requirements, find_python312()])
    pkg_key = {spec: tree_hash(path) for spec, path, _ in pkgs}
    state_file = venv / "conformance-state.json"
    uv = find_uv()
    with file_lock(CONF_CACHE / f".venv-{backend}-django{version}.lock"):
        state = {}
        if state_file.is_file():
            with contextlib.suppress(ValueError):
                state = json.loads(state_file.read_text())
        env = {**os.environ, "VIRTUAL_ENV": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
        if state.get("base") != base_key or not py.exists():
            log(f"building {venv.relative_to(ROOT)} (Django {version} + requirements)")
            if venv.exists():
                shutil.rmtree(venv)
            run_checked([uv, "venv", "--quiet", "--python", find_python312(), str(venv)], env=env)
            run_checked(
                [
                    uv,
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    str(py),
                    "-e",
                    str(django_src),
                    *requirements,
                ],
                env=env,
            )
            state = {"base": base_key, "packages": {}}
            state_file.write_text(json.dumps(state))
        if pkgs and state.get("packages") != pkg_key:
            log(f"installing {', '.join(packages)} into the conformance venv")
            argv = [uv, "pip", "install", "--quiet", "--python", str(py), "-e", str(django_src)]
            for _, path, _extras in pkgs:
                argv += ["--reinstall-package", dist_name(path)]
            argv += [f"{path}{extras}" for _, path, extras in pkgs]
            run_checked(argv, env=env)
            state["packages"] = pkg_key
            state_file.write_text(json.dumps(state))
    return py


# --------------------------------------------------------------------------- settings


def stock_settings(django_src: Path) -> dict[str, Any]:
    """Django's own tests/test_sqlite.py for that version, minus DATABASES."""
    ns: dict[str, Any] = {}
    exec(
        compile((django_src / "tests" / "test_sqlite.py").read_text(), "test_sqlite.py", "exec"), ns
    )
    return {k: v for k, v in ns.items() if k.isupper() and k != "DATABASES"}


def write_settings(path: Path, django_src: Path, backend_settings: dict[str, Any]) -> None:
    databases = backend_settings.get("DATABASES") or {}
    missing = {"default", "other"} - set(databases)
    if missing:
        raise SetupError(f"backend configure() yielded DATABASES without {sorted(missing)}")
    values = {**stock_settings(django_src), **backend_settings}
    body = "".join(
        f"{k} = {pprint.pformat(v, width=100, sort_dicts=True)}\n"
        for k, v in sorted(values.items())
    )
    path.write_text(
        f'"""Generated by tests-integration/django_suite/run.py; do not edit."""\n\n{body}'
    )


# --------------------------------------------------------------------------- report

_LISTS_SCRIPT = """
import json, django
django.setup()
from django.db import connections
f = connections["default"].features
skips = f.django_test_skips
print(json.dumps({
    "vendor": connections["default"].vendor,
    "expected_failures": len(f.django_test_expected_failures),
    "skips": sum(len(v) for v in skips.values()),
    "skip_reasons": len(skips),
}))
"""


def backend_lists(venv_py: Path, env: dict[str, str]) -> dict[str, Any]:
    """How many tests the backend itself marks (features.py): the context for passed ÷ found."""
    env = {**env, "DJANGO_SETTINGS_MODULE": "conformance_settings"}
    try:
        proc = subprocess.run(
            [str(venv_py), "-c", _LISTS_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        return {"error": f"could not read features.py lists: {exc}"}


def build_report(parsed: results.Results, meta: dict[str, Any]) -> dict[str, Any]:
    totals = parsed.totals()
    return {
        **meta,
        "totals": {**totals.as_dict(), "ran": parsed.ran, "unittest_summary": parsed.summary},
        "unittest_counts": parsed.summary_counts,
        "per_app": {app: c.as_dict() for app, c in parsed.per_app().items()},
        "failing_tests": parsed.failing(),
        "expected_failures": parsed.with_outcome(results.XFAIL),
    }


def render_markdown(report: dict[str, Any]) -> str:
    t = report["totals"]
    head = (
        f"# Conformance: {report['backend']} on Django {report['django']} — `{report['set']}` set\n\n"
        f"Django's own test suite from the {report['django']} sdist, `runtests.py --parallel "
        f"{report['parallel']}` on Python {report['python']}, {report['finished_at']} "
        f"(git {report['git_sha'] or 'unknown'}), {report['wall_seconds']:.0f} s wall.\n\n"
        f"**Passed {t['passed']:,} of {t['found']:,} found ({t['pass_rate']:.1%})**; "
        f"failed+errors {t['failed_errors']:,}, skipped {t['skipped']:,}, expected failures "
        f"{t['expected_failures']:,}, unexpected successes {t['unexpected_successes']:,}"
        + (
            f", not reported {t['not_reported']:,} (found but no status line)"
            if t.get("not_reported")
            else ""
        )
        + ".\n\n"
    )
    marks = report.get("backend_marks") or {}
    if "expected_failures" in marks:
        head += (
            f"The backend's features.py marks {marks['expected_failures']} expected failures and "
            f"{marks['skips']} skips ({marks['skip_reasons']} reasons) across the whole suite.\n\n"
        )
    cols = "| app | found | passed | failed+errors | skipped | expected failures | unexpected successes | passed ÷ found |\n"
    cols += "|---|---:|---:|---:|---:|---:|---:|---:|\n"
    rows = []
    for app, c in sorted(report["per_app"].items()):
        rows.append(
            f"| {app} | {c['found']} | {c['passed']} | {c['failed_errors']} | {c['skipped']} | "
            f"{c['expected_failures']} | {c['unexpected_successes']} | {c['pass_rate']:.1%} |\n"
        )
    rows.append(
        f"| **total** | **{t['found']}** | **{t['passed']}** | **{t['failed_errors']}** | "
        f"**{t['skipped']}** | **{t['expected_failures']}** | **{t['unexpected_successes']}** | "
        f"**{t['pass_rate']:.1%}** |\n"
    )
    tail = ""
    failing = report["failing_tests"]
    if failing:
        tail += f"\n## Failing tests ({len(failing)})\n\n" + "".join(
            f"- `{f['id']}` — {f['outcome']}\n" for f in failing[:MD_LIST_LIMIT]
        )
        if len(failing) > MD_LIST_LIMIT:
            tail += (
                f"- … and {len(failing) - MD_LIST_LIMIT} more (all listed in the .json report)\n"
            )
    if report["expected_failures"]:
        tail += "\n## Expected failures\n\n" + "".join(
            f"- `{x}`\n" for x in report["expected_failures"]
        )
    return head + cols + "".join(rows) + tail


def git_sha() -> str | None:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        return subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return None


# --------------------------------------------------------------------------- main


def run_suite(
    cmd: list[str], cwd: Path, env: dict[str, str], out: Any, timeout: float | None
) -> int:
    """Run runtests.py in its own process group; on timeout/interrupt stop the whole group."""
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        return proc.wait(timeout=timeout or None)
    except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if isinstance(exc, KeyboardInterrupt):
            raise
        log(f"runtests.py timed out after {timeout:.0f} s and was stopped")
        return -1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="sqlite3", help="plugin name in django_suite/backends/")
    ap.add_argument("--set", dest="appset", default="smoke", choices=sorted(appsets.SETS))
    ap.add_argument("--django", default=DEFAULT_DJANGO, help="pinned Django version (sdist)")
    ap.add_argument(
        "--parallel", type=int, default=None, help="processes (default: plugin's PARALLEL, else 1)"
    )
    ap.add_argument("--apps", nargs="+", default=None, help="run these apps instead of the set's")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (settings, server data)")
    ap.add_argument(
        "--timeout", type=float, default=0, help="stop runtests.py after N seconds (0: never)"
    )
    ap.add_argument("--no-report", action="store_true", help="do not write docs/conformance files")
    ap.add_argument("extra", nargs="*", help="extra runtests.py arguments after --")
    args = ap.parse_args(argv)

    try:
        plugin = load_plugin(args.backend)
        python312 = find_python312()
        django_src = ensure_sdist(args.django, python312)
        tests_dir = django_src / "tests"
        apps = list(args.apps) if args.apps else appsets.resolve(args.appset, tests_dir)
        venv_py = ensure_venv(
            args.backend, args.django, django_src, list(getattr(plugin, "PACKAGES", []))
        )
    except (SetupError, KeyError, ValueError) as exc:
        print(f"[conformance] set-up failed: {exc}", file=sys.stderr)
        return 2
    parallel = args.parallel or int(getattr(plugin, "PARALLEL", 1))
    set_name = "custom" if args.apps else args.appset
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    (CONF_CACHE / "logs").mkdir(parents=True, exist_ok=True)
    log_path = CONF_CACHE / "logs" / f"{args.backend}-{args.django}-{set_name}-{stamp}.log"
    workdir = Path(tempfile.mkdtemp(prefix=f"{args.backend}-", dir=CONF_CACHE))
    started = time.monotonic()
    try:
        with plugin.configure(workdir) as backend_settings:
            settings_dir = workdir / "settings"
            settings_dir.mkdir()
            write_settings(settings_dir / "conformance_settings.py", django_src, backend_settings)
            cmd = [str(venv_py), "-u", "runtests.py", "--settings", "conformance_settings",
                   "--parallel", str(parallel), "-v", "2", "--noinput", *args.extra, *apps]  # fmt: skip
            env = {
                k: v
                for k, v in os.environ.items()
                if k not in ("VIRTUAL_ENV", "PYTHONPATH", "DJANGO_SETTINGS_MODULE")
            }
            env.update(
                PYTHONPATH=str(settings_dir), PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1"
            )
            shown = " ".join(cmd[2:9]) + (
                f" <{len(apps)} apps>" if len(apps) > 3 else " " + " ".join(apps)
            )
            lists = backend_lists(venv_py, env)
            log(f"features.py marks: {lists}")
            log(f"running {shown} (log: {log_path.relative_to(ROOT)})")
            with open(log_path, "w") as out:
                returncode = run_suite(cmd, tests_dir, env, out, args.timeout)
    except SetupError as exc:
        print(f"[conformance] set-up failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            log(f"kept work dir {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    wall = time.monotonic() - started

    with open(log_path, errors="replace") as fh:
        parsed = results.parse(fh)
    meta = {
        "backend": args.backend,
        "django": args.django,
        "set": set_name,
        "apps": apps or "all",
        "parallel": parallel,
        "python": subprocess.run(
            [str(venv_py), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
        ).stdout.strip(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "finished_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_sha": git_sha(),
        "wall_seconds": round(wall, 1),
        "runtests_seconds": parsed.duration,
        "runtests_exit_code": returncode,
        "log": str(log_path.relative_to(ROOT)),
        "backend_marks": lists,
    }
    report = build_report(parsed, meta)
    t = report["totals"]
    if parsed.found is None or parsed.ran is None:
        with open(log_path, errors="replace") as fh:
            tail = fh.readlines()[-40:]
        print("".join(tail), file=sys.stderr)
        print(
            f"[conformance] runtests.py did not complete (exit {returncode}); see {log_path}",
            file=sys.stderr,
        )
        return 2
    if not args.no_report:
        REPORTS.mkdir(parents=True, exist_ok=True)
        base = REPORTS / f"{args.backend}-{args.django}-{set_name}"
        Path(f"{base}.json").write_text(json.dumps(report, indent=1, sort_keys=False) + "\n")
        Path(f"{base}.md").write_text(render_markdown(report))
        log(f"wrote {base.relative_to(ROOT)}.json and .md")
    log(
        f"{args.backend} / Django {args.django} / {set_name}: found {t['found']}, passed {t['passed']} "
        f"({t['pass_rate']:.1%}), failed+errors {t['failed_errors']}, skipped {t['skipped']}, "
        f"expected failures {t['expected_failures']}, unexpected successes {t['unexpected_successes']}, "
        f"{wall:.0f} s"
    )
    for f in report["failing_tests"][:50]:
        log(f"  {f['outcome']}: {f['id']}")
    bad = t["failed_errors"] + t["unexpected_successes"]
    return 1 if bad or returncode else 0


if __name__ == "__main__":
    sys.exit(main())
