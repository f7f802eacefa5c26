"""Install each built wheel alone into a fresh venv and check what it pulls in.

Why: every backend is published as its own wheel, and a user who installs one must get a working
import without dragging in another backend's store library (the workspace hides such mistakes,
because there everything is installed at once).

Usage: check_wheels.py DIST_DIR   (the wheels written by `uv build --all-packages --no-sources`)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# distribution -> (import name, the store libraries it may bring)
PACKAGES: dict[str, tuple[str, set[str]]] = {
    "django-backend-core": ("django_backend_core", set()),
    "django-d1": ("django_d1", {"httpx"}),
    "django-dbms": ("django_dbms", {"websockets"}),
    "django-prisma": ("django_prisma", {"httpx", "lark"}),
    "django-astra": ("django_astra", {"cassandra-driver"}),
    "django-jsonlines-git": ("django_jsonlines_git", {"gitpython"}),
}
STORE_LIBRARIES = set().union(*(libs for _, libs in PACKAGES.values())) | {
    "scylla-driver",
    "starlette",
    "uvicorn",
}


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


def _uv() -> str:
    found = shutil.which("uv") or str(Path(__file__).resolve().parents[2] / ".tools/bin/uv")
    if not Path(found).exists():
        sys.exit("uv not found: run `make setup` first")
    return found


def check(dist_dir: Path) -> list[str]:
    uv = _uv()
    problems: list[str] = []
    wheels = {_norm(w.name.split("-")[0]): w for w in dist_dir.glob("*.whl")}
    for dist, (module, allowed) in PACKAGES.items():
        wheel = wheels.get(_norm(dist.replace("-", "_")))
        if wheel is None:
            problems.append(f"{dist}: no wheel in {dist_dir}")
            continue
        with tempfile.TemporaryDirectory(prefix=f"wheel-{dist}-") as tmp:
            venv = Path(tmp) / "venv"
            subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
            py = venv / "bin" / "python"
            # --find-links lets the backend find the core wheel built in the same run, as PyPI would.
            subprocess.run(
                [
                    uv,
                    "pip",
                    "install",
                    "-q",
                    "--python",
                    str(py),
                    "--find-links",
                    str(dist_dir),
                    str(wheel),
                ],
                check=True,
            )
            listing = subprocess.run(
                [uv, "pip", "list", "--python", str(py), "--format", "json"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            installed = {_norm(d["name"]) for d in json.loads(listing)}
            foreign_backends = {_norm(d) for d in PACKAGES} - {_norm(dist), "django-backend-core"}
            extra = (installed & (STORE_LIBRARIES - allowed)) | (installed & foreign_backends)
            if extra:
                problems.append(f"{dist}: pulls in {sorted(extra)}")
            missing = allowed - installed
            if missing:
                problems.append(f"{dist}: does not install its store library {sorted(missing)}")
            env = dict(os.environ, DJANGO_SETTINGS_MODULE="")
            probe = subprocess.run(
                [str(py), "-c", f"import {module}; print({module}.__version__)"],
                capture_output=True,
                text=True,
                env=env,
            )
            if probe.returncode != 0:
                problems.append(f"{dist}: `import {module}` failed:\n{probe.stderr[-800:]}")
            else:
                print(f"ok  {dist} {probe.stdout.strip()} alone: {len(installed)} distributions")
    return problems


if __name__ == "__main__":
    problems = check(Path(sys.argv[1] if len(sys.argv) > 1 else "dist"))
    for p in problems:
        print("FAIL", p)
    sys.exit(1 if problems else 0)
