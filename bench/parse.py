"""Parse-time benchmark: median and p95 over the plain-text and LaTeX tables of the parser tests.

Run: ``python bench/parse.py [--repeat N]``.  Prints one line per table plus the
rejected-input table (bad input must come back within 1 s).  "cold" clears
SymPy's expression cache before every parse (a first-time parse); "warm" repeats
the table with the cache filled.  The peer, measured in the same run, is
latex2sympy2 alone on the same whole LaTeX strings (it misreads ODE notation, so
this is only its raw cost): the ratio shows what the adapter adds on top.
Goal (issue 2): median <= 20 ms.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_parser import ACCEPTED, REJECTED  # noqa: E402  (the tables live with the tests)

from tutor import ParseError, parse  # noqa: E402


def _time(fn, items, repeat: int, cold: bool = False) -> list[float]:
    from sympy.core.cache import clear_cache

    out = []
    for _ in range(repeat):
        for item in items:
            if cold:
                clear_cache()
            start = time.perf_counter()
            try:
                fn(item)
            except ParseError:
                pass
            out.append(time.perf_counter() - start)
    return out


def _summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"{name:<28} n={len(samples):<5} median {1000 * statistics.median(samples):7.2f} ms   "
            f"p95 {1000 * p95:7.2f} ms   max {1000 * ordered[-1]:7.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    plain = [t for t, _ in ACCEPTED if "\\" not in t]
    latex = [t for t, _ in ACCEPTED if "\\" in t]
    rejected = [t for t, _ in REJECTED]
    # warm-up: imports, latex2sympy2's ANTLR tables
    _time(parse, plain + latex, 1)

    import latex2sympy2

    print(_summary("plain text, cold", _time(parse, plain, args.repeat, cold=True)))
    print(_summary("plain text, warm", _time(parse, plain, args.repeat)))
    latex_times = _time(parse, latex, args.repeat, cold=True)
    print(_summary("LaTeX, cold", latex_times))
    print(_summary("LaTeX, warm", _time(parse, latex, args.repeat)))

    def raw_latex2sympy(text: str) -> None:
        # The peer: latex2sympy2 alone on the whole string (state reset as the adapter does).
        try:
            latex2sympy2.latex2sympy(text)
        except Exception:
            pass
        finally:
            latex2sympy2.var, latex2sympy2.variances = {}, {}

    peer = _time(raw_latex2sympy, latex, args.repeat, cold=True)
    print(_summary("peer: raw latex2sympy2, cold", peer))
    print(f"{'ratio LaTeX / peer (median)':<28} {statistics.median(latex_times) / statistics.median(peer):.2f}x")
    print(_summary("rejected inputs, cold", _time(parse, rejected, args.repeat, cold=True)))


if __name__ == "__main__":
    main()
