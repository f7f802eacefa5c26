#!/usr/bin/env python
"""`make demo`: run the reference blog project on every backend that works, and report.

    .venv/bin/python tests-integration/demo/run.py                  # every usable backend
    .venv/bin/python tests-integration/demo/run.py --backend d1     # one backend
    .venv/bin/python tests-integration/demo/run.py --backend d1 --serve   # leave it running
    .venv/bin/python tests-integration/demo/run.py --backend d1 --test    # the app's tests

For each backend: start its local server (through the conformance plugin's ``configure()``),
migrate, load sample data, walk the pages with Django's test client, run the side-car flows
(bulk inserts, analytics roll-up, task queue with two workers, audit log) and print a table.
Django's stock sqlite3 always runs first as the reference. astra stores cqlengine models, not
the blog's SQL models, so its row walks django-astra's party finder instead (astra_flow.py).
``--test`` runs the blog project's own tests (pytest-django) on each SQL backend's server.
While no other backend works yet, the demo also runs the conformance smoke set on sqlite3 and
says so. Servers stop when the demo ends, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BLOG = ROOT / "docs" / "examples" / "blog_project"
PARTY = ROOT / "docs" / "examples" / "partyfinder_project"
# What each app's walk runs, and where (its Django project).
APPS = {"blog": ("flow.py", BLOG), "partyfinder": ("astra_flow.py", PARTY)}
ADMIN_PASSWORD_ENV = "DEMO_ADMIN_PASSWORD"  # read by flow.py / astra_flow.py
sys.path.insert(0, str(HERE))

from backends import BACKENDS, DemoBackend, child_env, environment, why_unusable  # noqa: E402

SMOKE = [
    "tests-integration/django_suite/run.py",
    "--backend",
    "sqlite3",
    "--set",
    "smoke",
    "--django",
    "5.2.19",
]


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def choose(
    names: list[str] | None, *, test: bool = False
) -> tuple[list[DemoBackend], dict[str, str]]:
    """Backends to run, and the reason each other known backend is left out."""
    skipped: dict[str, str] = {}
    wanted = names or list(BACKENDS)
    unknown = [n for n in wanted if n not in BACKENDS]
    if unknown:
        raise SystemExit(f"unknown backend(s) {unknown}; known: {', '.join(BACKENDS)}")
    chosen = []
    for name in wanted:
        print(f"checking {name} ...", flush=True)
        backend = BACKENDS[name]
        reason = why_unusable(backend)
        if reason is None and test and backend.app != "blog":
            reason = (
                "the blog project's tests need Django SQL models, which django-astra does not "
                "store; the party finder's tests are django-astra's own "
                "(pytest packages/django-astra/tests)"
            )
        if reason is None:
            chosen.append(backend)
        else:
            skipped[name] = reason
    return chosen, skipped


def run_flow(
    backend: DemoBackend, env: dict[str, str], workdir: Path, admin_pw: str | None
) -> dict:
    result_path = workdir / "result.json"
    script, project = APPS[backend.app]
    argv = [sys.executable, str(HERE / script), "--result", str(result_path)]
    flow_env = child_env(env)
    if admin_pw:
        # Through the environment, not argv: argv shows in `ps`, and argparse reads a
        # password that starts with "-" (token_urlsafe can) as an option.
        flow_env[ADMIN_PASSWORD_ENV] = admin_pw
    proc = subprocess.run(argv, env=flow_env, cwd=project)
    if result_path.exists():
        return json.loads(result_path.read_text())
    return {
        "backend": backend.name,
        "ok": False,
        "migrate_ok": False,
        "pages": "0/0",
        "steps": [{"name": "flow", "ok": False, "detail": f"flow.py exited {proc.returncode}"}],
        "cannot": [],
    }


def fmt_int(value: Any) -> str:
    return "n/a" if value is None else f"{value:,}"


def print_backend_table(r: dict) -> None:
    print()
    print(f"== {r['backend']} ==")
    rows = [
        (
            s["name"],
            "ok" if s["ok"] else ("cannot" if s.get("not_supported") else "FAILED"),
            f"{s.get('seconds', 0):.1f} s",
            s.get("detail", ""),
        )
        for s in r["steps"]
    ]
    width = max([len(n) for n, *_ in rows] + [4])
    print(f"  {'step':<{width}}  {'result':<6}  {'time':>7}  detail")
    for name, state, secs, detail in rows:
        print(f"  {name:<{width}}  {state:<6}  {secs:>7}  {detail}")
    trips = r.get("round_trips")
    print(
        f"  migrate ok: {'yes' if r.get('migrate_ok') else 'NO'} | pages ok: {r.get('pages')} | "
        f"rows written: {fmt_int(r.get('rows_written'))} | statements: "
        f"{fmt_int(r.get('statements'))} | round trips: "
        f"{fmt_int(trips) if trips is not None else 'not counted (no core metrics)'} | "
        f"time: {r.get('seconds', 0):.1f} s"
    )
    cannot = r.get("cannot") or []
    if r.get("rows_written_note"):
        print(f"  rows written: {r['rows_written_note']}")
    print(f"  cannot do: {'; '.join(cannot) if cannot else 'nothing the demo needs'}")


def print_summary(results: list[dict], skipped: dict[str, str]) -> None:
    print()
    print("== summary ==")
    head = ("backend", "result", "migrate", "pages", "rows written", "round trips", "time")
    table = [head]
    for r in results:
        table.append(
            (
                r["backend"],
                "ok" if r["ok"] else "FAILED",
                "ok" if r.get("migrate_ok") else "NO",
                str(r.get("pages")),
                fmt_int(r.get("rows_written")),
                fmt_int(r.get("round_trips")),
                f"{r.get('seconds', 0):.1f} s",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for row in table:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    for name, reason in skipped.items():
        print(f"  {name}: skipped, {reason}")


def serve(backend: DemoBackend, env: dict[str, str], port: int | None, admin_pw: str) -> None:
    from django_backend_core.servers import LocalServer

    project = APPS[backend.app][1]
    server = LocalServer(
        [sys.executable, "manage.py", "runserver", "{host}:{port}", "--noreload"],
        port=port,
        env=child_env(env),
        cwd=project,
        ready="http:/",
        timeout=60,
        name="runserver",
    )
    try:
        server.start()
    except BaseException:  # Ctrl-C or a failed start: never leave runserver behind
        server.stop()
        raise
    with server:
        print()
        what = "The reference blog" if backend.app == "blog" else "django-astra's party finder"
        print(f"{what} on {backend.name} is running at {server.url('http', '/')}")
        print(f"  admin: {server.url('http', '/admin/')}  user: admin  password: {admin_pw}")
        if backend.app == "blog":
            print(f"  analytics JSON: {server.url('http', '/analytics/last-30-days.json')}")
        else:
            print(f"  parties of a city (JSON): {server.url('http', '/parties/Berlin.json')}")
            print(f"  local CQL server: 127.0.0.1:{env['PARTY_CQL_PORT']} (keyspace partyfinder)")
        print(f"  runserver log: {server.log_path}")
        print("Press Ctrl-C to stop runserver and the backend's local server.", flush=True)
        while server.running:
            time.sleep(0.5)
        print("runserver exited:\n" + server.log_tail())


def run_tests(env: dict[str, str]) -> bool:
    """The blog project's tests under pytest-django (its pytest.ini turns the plugin on)."""
    argv = [sys.executable, "-m", "pytest", "-q", "-rs"]
    return subprocess.run(argv, env=child_env(env), cwd=BLOG).returncode == 0


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--backend", action="append", help="run only this backend (repeatable)")
    ap.add_argument("--serve", action="store_true", help="leave runserver + local server running")
    ap.add_argument("--port", type=int, default=None, help="runserver port for --serve")
    ap.add_argument("--test", action="store_true", help="run the blog project's tests instead")
    ap.add_argument(
        "--no-conformance",
        action="store_true",
        help="skip the sqlite3 conformance smoke set when no backend works yet",
    )
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    args = ap.parse_args()
    if args.serve and not args.backend:
        args.backend = ["sqlite3"]  # `make demo SERVE=1`: the reference backend
    if args.serve and len(args.backend) != 1:
        ap.error("--serve runs one backend: give one --backend")
    # Ctrl-C and TERM both unwind through the `with` blocks that stop the servers (SIGINT is
    # set explicitly: a shell starting us in the background leaves it ignored).
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)

    try:
        chosen, skipped = choose(args.backend, test=args.test)
        if args.backend and skipped:
            for name, reason in skipped.items():
                print(f"{name}: cannot run: {reason}", file=sys.stderr)
            return 2
        results: list[dict] = []
        tests_ok: dict[str, bool] = {}
        for backend in chosen:
            print(f"\n>>> {backend.name}: starting", flush=True)
            with contextlib.ExitStack() as stack:
                if args.keep:
                    workdir = Path(tempfile.mkdtemp(prefix=f"demo-{backend.name}-"))
                    print(f"  work dir: {workdir}")
                else:
                    workdir = Path(
                        stack.enter_context(
                            tempfile.TemporaryDirectory(prefix=f"demo-{backend.name}-")
                        )
                    )
                if backend.has_server:
                    print(f"  starting {backend.name}'s local server ...", flush=True)
                started = time.monotonic()
                try:
                    env = stack.enter_context(environment(backend, workdir))
                except Exception as exc:  # report it and go on with the next backend
                    print(f"  could not start {backend.name}: {type(exc).__name__}: {exc}")
                    failure = f"server start: {type(exc).__name__}: {exc}"
                    tests_ok[backend.name] = False
                    results.append(
                        {
                            "backend": backend.name,
                            "ok": False,
                            "migrate_ok": False,
                            "pages": "0/0",
                            "steps": [{"name": "start server", "ok": False, "detail": failure}],
                            "cannot": [],
                        }
                    )
                    continue
                if backend.has_server:
                    print(f"  server ready ({time.monotonic() - started:.1f} s)", flush=True)
                if args.test:
                    tests_ok[backend.name] = run_tests(env)
                    continue
                admin_pw = None
                if args.serve:
                    import secrets

                    admin_pw = secrets.token_urlsafe(12)
                result = run_flow(backend, env, workdir, admin_pw)
                results.append(result)
                print_backend_table(result)
                if args.serve and result.get("migrate_ok"):
                    serve(backend, env, args.port, result["admin_password"])
        if args.test:
            print()
            for name, ok in tests_ok.items():
                print(f"  {name}: blog project tests {'passed' if ok else 'FAILED'}")
            for name, reason in skipped.items():
                print(f"  {name}: skipped, {reason}")
            return 0 if tests_ok and all(tests_ok.values()) else 1
        if args.serve:
            return 0
        print_summary(results, skipped)
        ok = bool(results) and all(r["ok"] for r in results)
        if not any(b.name != "sqlite3" for b in chosen) and not args.backend:
            print()
            print("No backend of this project works yet, so the demo ran on Django's sqlite3 only.")
            if args.no_conformance:
                print("(--no-conformance: the conformance smoke set on sqlite3 was skipped.)")
            elif not (ROOT / SMOKE[0]).exists():
                print(f"The conformance runner ({SMOKE[0]}) is not there yet; smoke set not run.")
                ok = False
            else:
                print("Running Django's own test suite, smoke set, on sqlite3 (the reference):")
                print("  " + " ".join([".venv/bin/python", *SMOKE]), flush=True)
                smoke = subprocess.run([sys.executable, *SMOKE], cwd=ROOT)
                print(
                    f"conformance smoke set on sqlite3: {'passed' if smoke.returncode == 0 else 'FAILED'}"
                )
                ok = ok and smoke.returncode == 0
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
