"""Parse-time benchmark: median and p95 over the plain-text and LaTeX tables of the parser tests.

Run: ``python bench/parse.py [--repeat N]``.  Prints one line per table plus the
rejected-input table (bad input must come back within 1 s), and, as a peer
measured in the same run, SymPy's ``parse_latex``-free reference: latex2sympy2
alone on the same LaTeX strings (what the adapter adds on top of it).
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


def _time(fn, items, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        for item in items:
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

    print(_summary("plain text (tutor.parse)", _time(parse, plain, args.repeat)))
    latex_times = _time(parse, latex, args.repeat)
    print(_summary("LaTeX (tutor.parse)", latex_times))
    from tutor import notation

    def raw_latex2sympy(text: str) -> None:
        # The peer: latex2sympy2 on the right-hand side only (it cannot read ODE notation at all).
        rhs = text.split("=", 1)[-1]
        try:
            latex2sympy2.latex2sympy(notation.normalize(rhs)[0])
        except Exception:
            pass
        finally:
            latex2sympy2.var, latex2sympy2.variances = {}, {}

    peer = _time(raw_latex2sympy, latex, args.repeat)
    print(_summary("peer: latex2sympy2 on RHS", peer))
    print(f"{'ratio LaTeX / peer (median)':<28} {statistics.median(latex_times) / statistics.median(peer):.2f}x")
    print(_summary("rejected inputs", _time(parse, rejected, args.repeat)))


if __name__ == "__main__":
    main()
