#!/usr/bin/env python
"""Run one backend's benchmarks: ``python tests-integration/bench/run.py --backend <name>``.

Imports ``tests-integration/bench/<name>.py`` and calls its ``main(harness)`` with a
:class:`harness.Harness` named after the backend; writes ``docs/benchmarks/<name>.json`` and
``.md`` afterwards (unless the script already did, or ``--no-write``).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Python put this directory first on sys.path; a bench script named like a module
# (sqlite3.py) would then shadow it. Scripts are loaded by path instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


def _load_harness():
    spec = importlib.util.spec_from_file_location("harness", HERE / "harness.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["harness"] = module  # bench scripts may `import harness` (OtherVenv, ...)
    spec.loader.exec_module(module)
    return module


harness = _load_harness()


def load_bench(name: str):
    path = HERE / f"{name}.py"
    if name in {"harness", "run"} or not path.is_file():
        available = sorted(
            p.stem
            for p in HERE.glob("*.py")
            if p.stem not in {"harness", "run"} and not p.stem.startswith("_")
        )
        raise SystemExit(f"no benchmark script {path}; available: {', '.join(available) or 'none'}")
    spec = importlib.util.spec_from_file_location(f"bench_{name.replace('-', '_')}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "main", None)):
        raise SystemExit(f"{path} defines no main(harness)")
    return module


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", required=True)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--out-dir", type=Path, default=harness.OUT_DIR)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    module = load_bench(args.backend)
    h = harness.Harness(
        args.backend, repeats=args.repeats, warmup=args.warmup, out_dir=args.out_dir
    )
    module.main(h)
    if not args.no_write:
        h.write()
    missed = [r.name for r in h.ratios.values() if r.met is False]
    if missed:
        print(f"[bench {args.backend}] targets not met: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
