"""Parse the output of Django's ``tests/runtests.py -v 2`` into per-test and per-app figures.

unittest at verbosity 2 writes one line per test::

    test_x (app.module.Class.test_x) ... ok                 # Python >= 3.11 (3.11: "(app.module.Class)")
    test_y (app.module.Class.test_y)
    First line of the docstring ... skipped 'reason'       # docstring puts the status on line 2
      test_z (app.module.Class.test_z) (i=1) ... FAIL      # a failing subTest
    setUpClass (app.module.Class) ... ERROR                # class fixture error (tests not run)

plus ``Found N test(s).`` before and ``Ran N tests in Xs`` / ``OK (...)`` / ``FAILED (...)`` after.
Other output (migrations, warnings, prints from tests) is interleaved and ignored.

The numbers:
- found: Django's ``Found N test(s).`` (the fixed denominator);
- passed / failed / errors / skipped / expected failures / unexpected successes: counted per
  test id from the status lines (a test whose subtests fail counts once, as failed);
- per app: the same, grouped by the first dotted component of the test id; an app's ``found``
  is the number of distinct test ids reported for it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

OK, FAIL, ERROR, SKIP, XFAIL, XPASS = (
    "ok",
    "FAIL",
    "ERROR",
    "skipped",
    "expected failure",
    "unexpected success",
)
# Worst outcome wins when a test id is reported more than once (subtests, tearDown errors).
_SEVERITY = {OK: 0, SKIP: 1, XFAIL: 2, XPASS: 3, FAIL: 4, ERROR: 5}

_STATUS = r"(?P<status>ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)"
# "name (dotted.label)" optionally followed by " (subtest params)" or " [msg] (params)".
_DESC = r"(?P<name>[A-Za-z_]\w*) \((?P<label>[A-Za-z_][\w.]*)\)(?P<sub> .*?)?"
_LINE_RE = re.compile(rf"^\s*{_DESC} \.\.\. {_STATUS}\s*$")
_DESC_ONLY_RE = re.compile(rf"^\s*{_DESC}\s*$")
_DOC_STATUS_RE = re.compile(rf"^.* \.\.\. {_STATUS}\s*$")
_FOUND_RE = re.compile(r"^Found (\d+) test\(s\)\.")
_RAN_RE = re.compile(r"^Ran (\d+) tests? in ([\d.]+)s")
_SUMMARY_RE = re.compile(r"^(OK|FAILED)(?: \((.*)\))?\s*$")
_FIXTURES = {"setUpClass", "tearDownClass", "setUpModule", "tearDownModule"}


def _norm_status(status: str) -> str:
    return SKIP if status.startswith("skipped") else status


def test_id(name: str, label: str) -> str:
    """Full dotted id: Python 3.11+ prints ``(app.mod.Class.name)``, older ``(app.mod.Class)``."""
    if label.endswith("." + name) or name in _FIXTURES:
        return label if name not in _FIXTURES else f"{label}.{name}"
    return f"{label}.{name}"


@dataclasses.dataclass
class Counts:
    found: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    expected_failures: int = 0
    unexpected_successes: int = 0
    not_reported: int = 0  # found by Django but no status line seen (see Results.totals)

    @property
    def failed_errors(self) -> int:
        return self.failed + self.errors

    @property
    def pass_rate(self) -> float:
        return round(self.passed / self.found, 4) if self.found else 0.0

    def add(self, outcome: str) -> None:
        self.found += 1
        if outcome == OK:
            self.passed += 1
        elif outcome == FAIL:
            self.failed += 1
        elif outcome == ERROR:
            self.errors += 1
        elif outcome == SKIP:
            self.skipped += 1
        elif outcome == XFAIL:
            self.expected_failures += 1
        elif outcome == XPASS:
            self.unexpected_successes += 1

    def as_dict(self) -> dict[str, int | float]:
        d: dict[str, int | float] = dataclasses.asdict(self)
        d["failed_errors"] = self.failed_errors
        d["pass_rate"] = self.pass_rate
        return d


@dataclasses.dataclass
class Results:
    events: list[tuple[str, str]]  # (test id, outcome), one per test reported
    found: int | None  # "Found N test(s)."
    ran: int | None  # "Ran N tests"
    duration: float | None  # seconds, from "Ran N tests in Xs"
    summary: str | None  # "OK" / "FAILED"
    summary_counts: dict[str, int]  # e.g. {"failures": 1, "skipped": 3}

    def tests(self) -> list[tuple[str, str]]:
        """One (test id, outcome) per test: the status lines folded per test id.

        A test that errors and then fails in tearDown/cleanup reports several ERROR/FAIL lines:
        its non-skip lines fold into one outcome, the worst; a skip line followed by an
        ERROR/FAIL line of the same id is one test too (skipped, then tearDown failed). A skip
        line *after* a test's own outcome is another test: under ``--parallel`` on Python >=
        3.12 a decorator-skipped test's line carries the previous test's id.
        """
        folded: dict[str, str] = {}
        held_skips: dict[str, int] = {}  # skip lines seen before any other line of that id
        out: list[tuple[str, str]] = []
        for tid, outcome in self.events:
            if outcome == SKIP:
                if tid in folded:  # after the test's own outcome: another test's skip
                    out.append((tid, SKIP))
                else:
                    held_skips[tid] = held_skips.get(tid, 0) + 1
                continue
            if outcome in (FAIL, ERROR) and held_skips.get(tid):
                held_skips[tid] -= 1  # skipped, then tearDown/cleanup failed: one test
            if tid not in folded or _SEVERITY[outcome] > _SEVERITY[folded[tid]]:
                folded[tid] = outcome
        out.extend(folded.items())
        out.extend((tid, SKIP) for tid, n in held_skips.items() for _ in range(n))
        return sorted(out)

    def per_app(self) -> dict[str, Counts]:
        apps: dict[str, Counts] = {}
        for tid, outcome in self.tests():
            apps.setdefault(tid.split(".", 1)[0], Counts()).add(outcome)
        return dict(sorted(apps.items()))

    def totals(self) -> Counts:
        total = Counts()
        tests = self.tests()
        for _, outcome in tests:
            total.add(outcome)
        # The denominator is what Django found; tests never reported (e.g. their class's
        # setUpClass failed) count as found but not passed.
        fixtures = sum(1 for t, _ in tests if t.rsplit(".", 1)[-1] in _FIXTURES)
        if self.found is not None:
            reported = total.found - fixtures
            total.not_reported = max(0, self.found - reported)
            total.found = max(self.found, reported)
        return total

    def failing(self) -> list[dict[str, str]]:
        worst: dict[str, str] = {}
        for tid, o in self.events:
            if o in (FAIL, ERROR, XPASS) and _SEVERITY[o] > _SEVERITY.get(worst.get(tid, OK), 0):
                worst[tid] = o
        return [{"id": t, "outcome": o} for t, o in sorted(worst.items())]

    def with_outcome(self, outcome: str) -> list[str]:
        return sorted({t for t, o in self.events if o == outcome})


def parse(lines: Iterable[str]) -> Results:
    """Parse runtests.py ``-v 2`` output (an iterable of lines, newlines optional).

    Every status line without a subtest description is one test. A test whose subtests fail
    reports only subtest lines; it counts once, as failed (or errored). Skipped subtests are
    not tests and are ignored. Ids of *skipped* tests are unreliable under ``--parallel`` on
    Python >= 3.12 (Django's RemoteTestResult indexes events by ``testsRun``, which unittest
    no longer bumps for decorator-skipped tests), so skip lines count but are not listed.
    """
    events: list[tuple[str, str]] = []
    subtest_failures: dict[str, str] = {}
    found = ran = None
    duration = None
    summary = None
    summary_counts: dict[str, int] = {}
    pending: tuple[str, bool] | None = None  # (test id, is subtest) awaiting a docstring line

    def record(tid: str, status: str, sub: bool) -> None:
        outcome = _norm_status(status)
        if not sub:
            events.append((tid, outcome))
        elif (
            outcome in (FAIL, ERROR)
            and _SEVERITY[outcome] > _SEVERITY[subtest_failures.get(tid, OK)]
        ):
            subtest_failures[tid] = outcome

    for raw in lines:
        line = raw.rstrip("\r\n")
        m = _LINE_RE.match(line)
        if m:
            record(test_id(m["name"], m["label"]), m["status"], bool(m["sub"]))
            pending = None
            continue
        m = _DESC_ONLY_RE.match(line)
        if m:
            pending = (test_id(m["name"], m["label"]), bool(m["sub"]))
            continue
        if pending is not None:
            m = _DOC_STATUS_RE.match(line)
            if m:
                record(pending[0], m["status"], pending[1])
                pending = None
                continue
        if m := _FOUND_RE.match(line):
            found = int(m[1])
        elif m := _RAN_RE.match(line):
            ran, duration = int(m[1]), float(m[2])
        elif (m := _SUMMARY_RE.match(line)) and ran is not None:
            summary = m[1]
            for part in (m[2] or "").split(","):
                key, _, value = part.strip().partition("=")
                if value.isdigit():
                    summary_counts[key] = int(value)
    # A test whose subtests failed reports no status line of its own (unless it also failed
    # outside them): count it once.
    reported = {tid for tid, o in events if o in (FAIL, ERROR)}
    events.extend((tid, o) for tid, o in sorted(subtest_failures.items()) if tid not in reported)
    return Results(events, found, ran, duration, summary, summary_counts)
