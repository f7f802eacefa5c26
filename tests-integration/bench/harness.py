"""Benchmark harness shared by the backends' bench scripts (``tests-integration/bench/<name>.py``).

A bench script defines ``main(harness)`` and is run by ``tests-integration/bench/run.py
--backend <name>`` (``make bench BACKEND=<name>``)::

    def main(h: Harness) -> None:
        h.measure("get by pk", lambda: Thing.objects.get(pk=1), metrics=connection.connection.metrics)
        h.measure("old get by pk", ...)
        h.ratio("speed-up vs old", slower="old get by pk", faster="get by pk", target=3.0)

Every figure is the median over ``repeats`` timed runs after ``warmup`` untimed ones, with its
spread (quartiles, IQR, min, max). Ratios only compare measurements taken in the same run.
``write()`` saves ``docs/benchmarks/<name>.json`` and ``.md`` with the machine it ran on.

Figures from an older project (e.g. django-cf==0.1.5) come from :class:`OtherVenv`: it installs
that project into its own venv under ``.cache/bench/`` and runs a script there; the script
imports this file by path (``BENCH_HARNESS`` env var) and prints :func:`time_samples` results
as JSON, which :meth:`Harness.add_external` records next to our own figures.

Standard library only, so the same file works in any venv.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "docs" / "benchmarks"
VENV_CACHE = ROOT / ".cache" / "bench"


class MetricsLike(Protocol):
    """What the harness needs from ``django_backend_core.metrics.RoundTrips``."""

    def snapshot(self) -> dict[str, Any]: ...


# --------------------------------------------------------------------------- statistics


def spread(samples: Sequence[float]) -> dict[str, float]:
    """Median, quartiles, IQR, min, max and mean of ``samples`` (at least one)."""
    if not samples:
        raise ValueError("no samples")
    xs = sorted(samples)
    if len(xs) >= 2:
        q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    else:
        q1 = q3 = xs[0]
    return {
        "median": statistics.median(xs),
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "min": xs[0],
        "max": xs[-1],
        "mean": statistics.fmean(xs),
    }


def time_samples(
    fn: Callable[[], object],
    *,
    repeats: int = 7,
    warmup: int = 1,
    number: int = 1,
    setup: Callable[[], object] | None = None,
) -> list[float]:
    """Seconds per call of ``fn``: ``repeats`` samples, each the mean of ``number`` calls.

    ``setup`` (untimed) runs before every sample, e.g. to reset a table.
    """
    if repeats < 1 or number < 1 or warmup < 0:
        raise ValueError("repeats and number must be >= 1, warmup >= 0")
    for _ in range(warmup):
        if setup:
            setup()
        for _ in range(number):
            fn()
    out = []
    for _ in range(repeats):
        if setup:
            setup()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        out.append((time.perf_counter() - t0) / number)
    return out


# --------------------------------------------------------------------------- results


@dataclasses.dataclass
class Measurement:
    label: str
    samples: list[float]  # seconds per call
    number: int = 1
    counters: dict[str, float] = dataclasses.field(default_factory=dict)  # per call
    note: str = ""
    source: str = "this run"

    @property
    def stats(self) -> dict[str, float]:
        return spread(self.samples)

    @property
    def median(self) -> float:
        return self.stats["median"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "seconds": self.stats,
            "samples": self.samples,
            "repeats": len(self.samples),
            "calls_per_sample": self.number,
            "per_call": self.counters,
            "note": self.note,
            "source": self.source,
        }


@dataclasses.dataclass
class Ratio:
    name: str
    slower: str
    faster: str
    value: float  # median(slower) / median(faster)
    low: float  # q1(slower) / q3(faster): the pessimistic end
    high: float  # q3(slower) / q1(faster)
    target: float | None = None

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.value >= self.target

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "met": self.met}


def _per_call(before: Mapping[str, Any], after: Mapping[str, Any], calls: int) -> dict[str, float]:
    out = {}
    for key, value in after.items():
        if isinstance(value, int | float) and isinstance(before.get(key), int | float):
            out[key] = (value - before[key]) / calls
    return out


# --------------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    """Where the figures came from: CPU, cores, load, Python, Django, git sha, time."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    django_version = None
    with contextlib.suppress(ImportError):
        import django

        django_version = django.get_version()
    sha = None
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        sha = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    load = None
    with contextlib.suppress(OSError, AttributeError):
        load = [round(x, 2) for x in os.getloadavg()]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": load,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django_version,
        "git_sha": sha,
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# --------------------------------------------------------------------------- harness


class Harness:
    """Collects measurements and ratios for one benchmark report."""

    def __init__(
        self,
        name: str,
        *,
        repeats: int = 7,
        warmup: int = 1,
        out_dir: Path = OUT_DIR,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self.repeats = repeats
        self.warmup = warmup
        self.out_dir = Path(out_dir)
        self.measurements: dict[str, Measurement] = {}
        self.ratios: dict[str, Ratio] = {}
        self.facts: dict[str, Any] = {}
        self.machine = machine_info()
        self._log = log or (lambda msg: print(f"[bench {name}] {msg}", flush=True))

    def measure(
        self,
        label: str,
        fn: Callable[[], object],
        *,
        number: int = 1,
        repeats: int | None = None,
        warmup: int | None = None,
        setup: Callable[[], object] | None = None,
        metrics: MetricsLike | None = None,
        note: str = "",
    ) -> Measurement:
        """Time ``fn``; with ``metrics`` also record requests/statements/bytes per call."""
        if label in self.measurements:
            raise ValueError(f"measurement {label!r} already taken")
        repeats = self.repeats if repeats is None else repeats
        warmup = self.warmup if warmup is None else warmup
        counters: dict[str, float] = {}
        if metrics is not None:
            # One extra, untimed, counted pass: counting inside the timed loop would add the
            # snapshot cost to the figures.
            if setup:
                setup()
            before = dict(metrics.snapshot())
            for _ in range(number):
                fn()
            counters = _per_call(before, metrics.snapshot(), number)
        samples = time_samples(fn, repeats=repeats, warmup=warmup, number=number, setup=setup)
        m = Measurement(label, samples, number, counters, note)
        self.measurements[label] = m
        s = m.stats
        extra = f", {counters.get('requests', 0):g} requests/call" if "requests" in counters else ""
        self._log(f"{label}: median {_fmt_s(s['median'])} (IQR {_fmt_s(s['iqr'])}){extra}")
        return m

    def add_external(self, label: str, data: Mapping[str, Any], *, source: str) -> Measurement:
        """Record samples measured elsewhere (e.g. an older project in its own venv).

        ``data`` is what :func:`time_samples` gave there: ``{"samples": [...], "number": n,
        "per_call": {...}}``.
        """
        m = Measurement(
            label,
            [float(x) for x in data["samples"]],
            int(data.get("number", 1)),
            dict(data.get("per_call", {})),
            str(data.get("note", "")),
            source,
        )
        self.measurements[label] = m
        self._log(f"{label} ({source}): median {_fmt_s(m.median)}")
        return m

    def ratio(self, name: str, *, slower: str, faster: str, target: float | None = None) -> Ratio:
        """How many times faster ``faster`` is than ``slower`` (both measured in this run)."""
        a, b = self.measurements[slower].stats, self.measurements[faster].stats
        r = Ratio(
            name,
            slower,
            faster,
            value=a["median"] / b["median"],
            low=a["q1"] / b["q3"],
            high=a["q3"] / b["q1"],
            target=target,
        )
        self.ratios[name] = r
        verdict = (
            "" if r.met is None else (" (target met)" if r.met else f" (BELOW target {target}x)")
        )
        self._log(f"{name}: {r.value:.2f}x [{r.low:.2f}-{r.high:.2f}]{verdict}")
        return r

    def fact(self, key: str, value: Any) -> None:
        """Any other figure worth keeping (request counts of a scenario, row counts...)."""
        self.facts[key] = value

    def report(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "machine": self.machine,
            "repeats": self.repeats,
            "warmup": self.warmup,
            "measurements": [m.as_dict() for m in self.measurements.values()],
            "ratios": [r.as_dict() for r in self.ratios.values()],
            "facts": self.facts,
        }

    def markdown(self) -> str:
        m = self.machine
        lines = [
            f"# Benchmarks: {self.name}",
            "",
            f"{m['when']} on {m['cpu']} ({m['cores']} cores, load {m['load_average']}), "
            f"Python {m['python']}, Django {m['django']}, git {m['git_sha']}. "
            "Median over the repeats after warm-up; spread as IQR and min–max.",
            "",
            "| measurement | median | IQR | min | max | repeats × calls | requests/call | statements/call | source |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for meas in self.measurements.values():
            s = meas.stats
            c = meas.counters
            lines.append(
                f"| {meas.label} | {_fmt_s(s['median'])} | {_fmt_s(s['iqr'])} | {_fmt_s(s['min'])} | "
                f"{_fmt_s(s['max'])} | {len(meas.samples)} × {meas.number} | {_fmt_n(c.get('requests'))} | "
                f"{_fmt_n(c.get('statements'))} | {meas.source} |"
            )
        if self.ratios:
            lines += [
                "",
                "| ratio | slower | faster | × (median) | × (pessimistic–optimistic) | target | met |",
            ]
            lines.append("|---|---|---|---:|---:|---:|---|")
            for r in self.ratios.values():
                met = "" if r.met is None else ("yes" if r.met else "**no**")
                target = "" if r.target is None else f"≥ {r.target:g}×"
                lines.append(
                    f"| {r.name} | {r.slower} | {r.faster} | {r.value:.2f} | {r.low:.2f}–{r.high:.2f} | {target} | {met} |"
                )
        if self.facts:
            lines += ["", "| fact | value |", "|---|---|"]
            lines += [f"| {k} | {v} |" for k, v in self.facts.items()]
        return "\n".join(lines) + "\n"

    def write(self) -> tuple[Path, Path]:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        json_path = self.out_dir / f"{self.name}.json"
        md_path = self.out_dir / f"{self.name}.md"
        json_path.write_text(json.dumps(self.report(), indent=1) + "\n")
        md_path.write_text(self.markdown())
        self._log(f"wrote {json_path} and {md_path.name}")
        return json_path, md_path


def _fmt_s(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.1f} µs"


def _fmt_n(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


# --------------------------------------------------------------------------- other venvs


def _find_uv() -> str:
    for cand in (
        shutil.which("uv"),
        os.path.expanduser("~/.local/bin/uv"),
        str(ROOT / ".tools/bin/uv"),
    ):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise RuntimeError("uv not found (put it on PATH)")


class OtherVenv:
    """An older project (or any requirement set) in its own venv under ``.cache/bench/``.

    ``OtherVenv(["django-cf==0.1.5", "django==5.2.*"]).run_json(script, args)`` installs once
    (reused while the requirement list is unchanged) and returns the JSON the script prints on
    its last stdout line. The script can ``import harness`` via the ``BENCH_HARNESS`` env var::

        import importlib.util, os, sys
        spec = importlib.util.spec_from_file_location("harness", os.environ["BENCH_HARNESS"])
        harness = sys.modules["harness"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(harness)  # (dataclasses need the sys.modules entry)
    """

    def __init__(
        self,
        requirements: Sequence[str],
        *,
        python: str | None = None,
        name: str | None = None,
        cache_dir: Path = VENV_CACHE,
    ) -> None:
        self.requirements = list(requirements)
        self.python_request = python or sys.executable
        key = hashlib.sha256(
            json.dumps([self.requirements, self.python_request]).encode()
        ).hexdigest()[:12]
        self.path = Path(cache_dir) / f"{name or 'venv'}-{key}"
        self.python = self.path / "bin" / "python"

    def ensure(self) -> Path:
        marker = self.path / ".bench-ready"
        if marker.is_file() and self.python.exists():
            return self.python
        if self.path.exists():
            shutil.rmtree(self.path)
        uv = _find_uv()
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        env.pop("VIRTUAL_ENV", None)
        subprocess.run(
            [uv, "venv", "--quiet", "--python", self.python_request, str(self.path)],
            check=True,
            env=env,
        )
        if self.requirements:
            subprocess.run(
                [uv, "pip", "install", "--quiet", "--python", str(self.python), *self.requirements],
                check=True,
                env=env,
            )
        marker.write_text(json.dumps(self.requirements))
        return self.python

    def run_json(
        self,
        script: str | Path,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 600,
    ) -> Any:
        """Run ``script`` with this venv's Python; parse its last stdout line as JSON."""
        python = self.ensure()
        full_env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PYTHONPATH", "DJANGO_SETTINGS_MODULE")
        }
        full_env["BENCH_HARNESS"] = str(Path(__file__).resolve())
        full_env.update(env or {})
        proc = subprocess.run(
            [str(python), str(script), *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )
        if proc.returncode:
            raise RuntimeError(
                f"{script} failed in {self.path.name} ({proc.returncode}):\n{proc.stderr[-3000:]}"
            )
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        if not lines:
            raise RuntimeError(f"{script} printed nothing")
        return json.loads(lines[-1])


@contextlib.contextmanager
def timer() -> Iterator[Callable[[], float]]:
    """``with timer() as elapsed: ...; elapsed()`` — seconds since entering."""
    t0 = time.perf_counter()
    yield lambda: time.perf_counter() - t0
