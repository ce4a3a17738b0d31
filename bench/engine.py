"""Benchmark the symbolic engine against SymPy's ``dsolve`` (issue 3 "Benchmark"; not a test).

Three problem sets, each run through both solvers in the same process with the same
time limit per problem:

(a) ``textbook`` — the project's own set, ``bench/textbook_set.json`` (131 problems,
    at least four per method; ``--methods`` picks families). For the series families
    (``power_series``, ``frobenius``) the peer is SymPy's own series solver,
    ``dsolve(..., hint="2nd_power_series_ordinary" / "2nd_power_series_regular")``; a series
    answer is judged through the order its ``O(x^N)`` claims, and dsolve's series are judged a
    second time at the order their terms reach ("dsolve, fair order": SymPy writes ``O(x^6)``
    after a series it stopped at ``x^3``);
(c) ``systems`` — ``bench/systems_set.json``: textbook systems ``x' = A x + g(t)`` (2x2 and 3x3,
    every eigenvalue case, IVPs, nonhomogeneous); SymPy's peer is ``dsolve`` on the list of
    equations (its linear-systems solver), judged by the same checker;
(b) ``sympy`` — SymPy's ODE example suite
    (``sympy.solvers.ode.tests.test_single._get_all_examples()``, 315 examples), each
    written as plain prime-notation text by :mod:`bench.sympy_text` and read back by
    ``tutor.parse`` like any student input (examples with no plain-text spelling, e.g.
    with the imaginary unit, are counted as "not readable").

Engine: ``tutor.engine.solve(problem, timeout=S)`` (bounded; verified by the project's
checker inside ``solve``; "with steps" = solved by a textbook method, not by the dsolve
fallback).  SymPy: ``dsolve`` in a worker process (``run_bounded``, same limit), its
answer then judged by the same checker (``tutor.checker.check``).  Times are wall
seconds of the solve call as seen by the caller (worker hand-off included for both).

Usage::

    python bench/engine.py                       # both sets, 10 s per problem
    python bench/engine.py --set sympy --limit 60 --timeout 10
    python bench/engine.py --set textbook --json bench/results/textbook.json
    python bench/engine.py --set textbook --methods laplace_transform autonomous
    python bench/engine.py --set systems --timeout 20

Prints a progress line per problem on stderr and a summary table on stdout.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``tutor`` and ``bench`` importable
    sys.path.insert(0, str(ROOT))

import sympy  # noqa: E402

from bench.dsolve_worker import dsolve_default, dsolve_system  # noqa: E402
from tutor.bounded import SymbolicTimeout, WorkerCrashed, run_bounded  # noqa: E402
from tutor.problem import Problem  # noqa: E402

TEXTBOOK_SET = ROOT / "bench" / "textbook_set.json"
SYSTEMS_SET = ROOT / "bench" / "systems_set.json"
#: The peer for the series families: SymPy's own power-series solvers.
SERIES_HINTS = {"power_series": "2nd_power_series_ordinary", "frobenius": "2nd_power_series_regular"}


@dataclass
class Outcome:
    """One solver on one problem."""

    solved: bool = False
    verified: bool = False
    with_steps: bool = False
    seconds: float = 0.0
    detail: str = ""  # method id, dsolve hint, or why it failed
    fair: bool = False  # a dsolve series verified at the order its terms reach (see fair_order)


@dataclass
class Row:
    set: str
    id: str
    text: str
    family: str = ""
    readable: bool = True
    engine: Outcome = field(default_factory=Outcome)
    dsolve: Outcome = field(default_factory=Outcome)


# --------------------------------------------------------------------------- problem sets


def textbook_problems() -> list[tuple[str, str, str]]:
    """(id, text, family) from the project's textbook set."""
    data = json.loads(TEXTBOOK_SET.read_text())["problems"]
    return [(p["id"], p["text"], p["method"]) for p in data]


def systems_problems() -> list[tuple[str, str, str]]:
    """(id, text, eigenvalue case and size) from the systems set."""
    data = json.loads(SYSTEMS_SET.read_text())["problems"]
    return [(p["id"], p["text"], f"{p['case']} {p['size']}x{p['size']}") for p in data]


def sympy_problems() -> list[tuple[str, str, str]]:
    """(example name, plain text or "" when it has no plain-text spelling, SymPy's hint)."""
    from sympy.solvers.ode.tests.test_single import _get_all_examples

    from bench.sympy_text import to_prime_text

    out = []
    for example in _get_all_examples():
        try:
            text = to_prime_text(example["eq"], example["func"])
        except ValueError:
            text = ""
        out.append((example["example_name"], text, example["hint"]))
    return out


# --------------------------------------------------------------------------- solvers


def fair_order(solution: sympy.Eq) -> sympy.Eq | None:
    """A series ``y = ... + O(x^N)`` with N lowered to where every constant's series has terms:
    one past the highest power of the shortest (SymPy's ``O(x^6)`` after ``C1 x (1 - x^2/6)``
    claims the x^5 term, which it did not compute).  None when nothing is to lower."""
    rhs = sympy.expand(solution.rhs)
    order = rhs.getO() if isinstance(rhs, sympy.Add) else None
    if order is None or order.point != (0,):
        return None
    x = order.variables[0]
    reach: dict = {}
    for term in sympy.Add.make_args(rhs.removeO()):
        key = tuple(sorted(str(s) for s in term.free_symbols if s != x))
        exponent = term.replace(sympy.log, lambda a: sympy.S.One).as_coeff_exponent(x)[1]
        reach[key] = max(reach.get(key, exponent), exponent)
    if not reach:
        return None
    top = min(reach.values()) + 1
    current = order.expr.as_coeff_exponent(x)[1]
    if not top < current:
        return None
    return sympy.Eq(solution.lhs, rhs.removeO() + sympy.Order(x ** top, x))


def run_dsolve(problem: Problem, timeout: float, hint: str = "default") -> Outcome:
    from tutor.checker import check

    started = time.monotonic()
    try:
        if getattr(problem, "is_system", False):
            solutions = run_bounded(dsolve_system, problem.equations, problem.unknowns, problem.ics_dict,
                                    timeout=timeout)
        else:
            solutions = run_bounded(dsolve_default, problem.equation, problem.unknown, problem.ics_dict, hint,
                                    timeout=timeout)
    except SymbolicTimeout:
        return Outcome(seconds=time.monotonic() - started, detail="timeout")
    except WorkerCrashed as exc:
        return Outcome(seconds=time.monotonic() - started, detail=f"crashed: {exc}")
    except Exception as exc:  # dsolve raises NotImplementedError and friends: not solved
        return Outcome(seconds=time.monotonic() - started, detail=f"{type(exc).__name__}: {str(exc)[:80]}")
    seconds = time.monotonic() - started
    if any(s.has(sympy.Integral) for s in solutions):
        return Outcome(solved=False, seconds=seconds, detail="unevaluated integral")
    verdict = check(problem, list(solutions), timeout=timeout)
    fair = verdict.verdict == "correct"
    if not fair and len(solutions) == 1 and (lowered := fair_order(solutions[0])) is not None:
        fair = check(problem, [lowered], timeout=timeout).verdict == "correct"
    return Outcome(solved=True, verified=verdict.verdict == "correct", seconds=seconds,
                   detail=f"checker: {verdict.verdict}" + (f" ({hint})" if hint != "default" else ""), fair=fair)


def run_engine(problem: Problem, timeout: float) -> Outcome:
    from tutor.engine.solve import DSOLVE, solve

    started = time.monotonic()
    try:
        solution = solve(problem, timeout=timeout)
    except Exception as exc:  # an engine bug counts as not solved, and the run goes on
        return Outcome(seconds=time.monotonic() - started, detail=f"error {type(exc).__name__}: {str(exc)[:60]}")
    seconds = time.monotonic() - started
    solved = solution.answer is not None
    return Outcome(solved=solved, verified=bool(solution.verified), seconds=seconds,
                   with_steps=solved and solution.method not in (None, DSOLVE),
                   detail=solution.method or solution.status)


# --------------------------------------------------------------------------- reporting


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


def summary(rows: list[Row], name: str, timeout: float) -> str:
    n = len(rows)
    readable = sum(r.readable for r in rows)
    lines = [f"## {name}: {n} problems ({readable} readable by tutor.parse), {timeout:g} s per problem"]
    header = f"{'solver':<8} {'solved':>8} {'verified':>9} {'with steps':>11} {'median s':>9} {'p95 s':>7}"
    lines.append(header)
    stats = {}
    for solver in ("engine", "dsolve"):
        outs = [getattr(r, solver) for r in rows if r.readable]
        times = [o.seconds for o in outs]
        stats[solver] = statistics.median(times) if times else float("nan")
        lines.append(f"{solver:<8} {sum(o.solved for o in outs):>8} {sum(o.verified for o in outs):>9} "
                     f"{sum(o.with_steps for o in outs):>11} {stats[solver]:>9.3f} {_quantile(times, 0.95):>7.3f}")
    ratio = stats["engine"] / stats["dsolve"] if stats["dsolve"] else float("nan")
    lines.append(f"time ratio (engine median / dsolve median): {ratio:.2f}")
    series = [r for r in rows if r.readable and r.family in SERIES_HINTS]
    if series:
        lines.append(f"series problems ({len(series)}, dsolve with {' / '.join(sorted(set(SERIES_HINTS.values())))}): "
                     f"engine verified {sum(r.engine.verified for r in series)} "
                     f"({sum(r.engine.with_steps for r in series)} with steps), dsolve verified as claimed "
                     f"{sum(r.dsolve.verified for r in series)}, at the order its terms reach "
                     f"{sum(r.dsolve.fair for r in series)}")
    if any(r.dsolve.detail for r in rows):  # both solvers ran: who verified what the other did not
        for one, other in (("engine", "dsolve"), ("dsolve", "engine")):
            only = [r.id for r in rows if r.readable and getattr(r, one).verified and not getattr(r, other).verified]
            lines.append(f"verified by {'us' if one == 'engine' else 'dsolve'}, not by "
                         f"{'dsolve' if other == 'dsolve' else 'us'} ({len(only)}): {', '.join(only) or '-'}")
    # Per-family view for the engine: which families fall back or fail.
    families: dict[str, list[Row]] = {}
    for r in rows:
        families.setdefault(r.family, []).append(r)
    lines.append("engine verified / with steps per family: " + ", ".join(
        f"{fam} {sum(r.engine.verified for r in rs)}/{sum(r.engine.with_steps for r in rs)}/{len(rs)}"
        for fam, rs in sorted(families.items())))
    return "\n".join(lines)


def run_set(name: str, problems: list[tuple[str, str, str]], timeout: float, skip_dsolve: bool) -> list[Row]:
    from tutor.errors import ParseError
    from tutor.parser import parse

    rows = []
    started = time.monotonic()
    for k, (pid, text, family) in enumerate(problems, start=1):
        row = Row(name, pid, text, family)
        problem = None
        if text:
            try:
                problem = parse(text)
            except ParseError as exc:
                row.engine.detail = f"parse error: {exc}"
        if problem is None:
            row.readable = False
        else:
            row.engine = run_engine(problem, timeout)
            if not skip_dsolve:
                row.dsolve = run_dsolve(problem, timeout, SERIES_HINTS.get(family, "default"))
        rows.append(row)
        mark = lambda o: ("V" if o.verified else "s" if o.solved else "-")  # noqa: E731
        elapsed = time.monotonic() - started
        print(f"[{name} {k}/{len(problems)} {elapsed:6.0f}s] {pid:<28} engine {mark(row.engine)} "
              f"{row.engine.seconds:6.2f}s {row.engine.detail[:28]:<28} | dsolve {mark(row.dsolve)} "
              f"{row.dsolve.seconds:6.2f}s {row.dsolve.detail[:24]}", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("textbook", "sympy", "systems", "both"), default="both")
    parser.add_argument("--limit", type=int, default=None, help="first N problems of each set")
    parser.add_argument("--offset", type=int, default=0, help="skip the first K problems of each set")
    parser.add_argument("--every", type=int, default=1, help="take every k-th problem (a spread-out subset)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per problem and solver")
    parser.add_argument("--skip-dsolve", action="store_true", help="run the engine only")
    parser.add_argument("--methods", nargs="+", default=None,
                        help="textbook set: only these families (e.g. laplace_transform autonomous)")
    parser.add_argument("--json", type=Path, default=None, help="write every row to this JSON file")
    args = parser.parse_args(argv)

    sets = []
    if args.set in ("textbook", "both"):
        sets.append(("textbook", [p for p in textbook_problems() if not args.methods or p[2] in args.methods]))
    if args.set in ("sympy", "both"):
        sets.append(("sympy", sympy_problems()))
    if args.set == "systems":
        sets.append(("systems", systems_problems()))
    all_rows: list[Row] = []
    reports = []
    for name, problems in sets:
        chosen = problems[args.offset::max(1, args.every)]
        if args.limit is not None:
            chosen = chosen[: args.limit]
        rows = run_set(name, chosen, args.timeout, args.skip_dsolve)
        all_rows.extend(rows)
        reports.append(summary(rows, name, args.timeout))
    print("\n\n".join(reports))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(r) for r in all_rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
