"""Compare two conformance logs test by test (e.g. django-prisma vs the stock-postgresql baseline).

``python tests-integration/prisma/compare_logs.py BASELINE.log CANDIDATE.log [--json OUT]``

Works on partial logs too (runs still in progress or cut short): only tests reported in
*both* logs are compared, and the figures say so. Passed = ok, skipped and expected failures
excluded from neither side's denominator but counted separately.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "django_suite"))
import results  # noqa: E402


def load(path: Path) -> dict[str, str]:
    with open(path, errors="replace") as fh:
        return dict(results.parse(fh).tests())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("baseline", type=Path)
    ap.add_argument("candidate", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    base, cand = load(args.baseline), load(args.candidate)
    common = sorted(set(base) & set(cand))
    per_app: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for tid in common:
        app = tid.split(".", 1)[0]
        per_app[app]["tests"] += 1
        per_app[app]["baseline_ok"] += base[tid] == results.OK
        per_app[app]["candidate_ok"] += cand[tid] == results.OK
        per_app[app]["both_ok"] += base[tid] == cand[tid] == results.OK
    b_ok = sum(c["baseline_ok"] for c in per_app.values())
    c_ok = sum(c["candidate_ok"] for c in per_app.values())
    both = sum(c["both_ok"] for c in per_app.values())
    regressions = [t for t in common if base[t] == results.OK and cand[t] != results.OK]
    report = {
        "baseline_log": str(args.baseline),
        "candidate_log": str(args.candidate),
        "tests_reported": {"baseline": len(base), "candidate": len(cand), "common": len(common)},
        "passed_in_common": {"baseline": b_ok, "candidate": c_ok, "both": both},
        "candidate_over_baseline": round(c_ok / b_ok, 4) if b_ok else None,
        "per_app": {a: dict(c) for a, c in sorted(per_app.items())},
        "baseline_ok_candidate_not": regressions,
    }
    print(
        f"common tests {len(common)} (baseline reported {len(base)}, candidate {len(cand)}); "
        f"passed: baseline {b_ok}, candidate {c_ok} -> {report['candidate_over_baseline']}"
    )
    for app, c in sorted(per_app.items()):
        print(
            f"  {app:32} {c['tests']:5} tests  baseline {c['baseline_ok']:5}  candidate {c['candidate_ok']:5}"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
