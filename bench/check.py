"""Checker benchmark: seconds per check and agreement with the labels of tests/data/check_cases.json.

Run: ``python bench/check.py [--repeat N] [--timeout S] [--family NAME]``.

Prints the median, p95 and maximum seconds per ``tutor.check`` call (wall clock, in the calling
process, so pickling and the worker round trip are included), the agreement with the labels,
a line per method family, and every disagreement. The worker pool is started by one warm-up
check that is not counted (a fresh pool costs about a second once per process).
Goals (issue 4): median <= 0.2 s, p95 <= 2 s, 100% agreement.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutor import check  # noqa: E402

CASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "check_cases.json"


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="passes over the table (default 1)")
    parser.add_argument("--timeout", type=float, default=None, help="time limit per check (default 10 s)")
    parser.add_argument("--family", default=None, help="only this family")
    args = parser.parse_args()

    cases = json.loads(CASES.read_text())["cases"]
    if args.family:
        cases = [c for c in cases if c["family"] == args.family]
    check("y' = y", "y = C e^x")  # warm-up: starts the worker pool

    times: list[float] = []
    per_family: dict[str, list[float]] = defaultdict(list)
    methods: dict[str, int] = defaultdict(int)
    agree = 0
    disagreements = []
    for _ in range(args.repeat):
        for case in cases:
            start = time.perf_counter()
            verdict = check(case["problem"], case["answer"], timeout=args.timeout)
            elapsed = time.perf_counter() - start
            times.append(elapsed)
            per_family[case["family"]].append(elapsed)
            methods[f"{verdict.verdict}/{verdict.details.get('method')}"] += 1
            if verdict.verdict == case["verdict"]:
                agree += 1
            else:
                disagreements.append((case, verdict))

    total = len(times)
    print(f"checks: {total} ({len(cases)} labelled cases x {args.repeat})")
    print(f"seconds per check: median {statistics.median(times):.3f}  p95 {_p95(times):.3f}  "
          f"max {max(times):.3f}   (goal: median <= 0.2, p95 <= 2)")
    print(f"agreement with labels: {agree}/{total} = {100 * agree / total:.1f}%   (goal: 100%)")
    # symbolic: proved by simplification; numeric: a nonzero residual at a real point (wrong) or
    # agreement at random points after simplification failed (correct/incomplete).
    print("verdict/method: " + ", ".join(f"{k} {v}" for k, v in sorted(methods.items())))
    for family, samples in sorted(per_family.items()):
        print(f"  {family:26} n={len(samples):3}  median {statistics.median(samples):.3f}  "
              f"max {max(samples):.3f}")
    for case, verdict in disagreements:
        print(f"DISAGREE {case['problem']!r} | {case['answer']!r}: label {case['verdict']}, "
              f"got {verdict.verdict}: {verdict.reason}")
    return 0 if not disagreements else 1


if __name__ == "__main__":
    sys.exit(main())
