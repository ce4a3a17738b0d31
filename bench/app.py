"""Benchmark the app through its API, as a user's client sees it (gradio_client over HTTP).

1. Latency: each example of ``assets/examples.json`` is solved once on the ``symbolic`` profile,
   one after another; for each, the time from submit to the first streamed value and to the
   complete verified answer.  Reports medians (goal: first value <= 1 s) and maxima.
2. Load: 16 clients (one ``gradio_client.Client`` each) submit 16 different examples at the same
   moment; reports the wall time until all are done, per-client latency (median, max), and
   whether every answer is verified and its own (the problem it shows is the one it asked).

The app is launched in-process on 127.0.0.1 (or pass ``--url`` for a running one).  One
warm-up request runs first (worker processes start), and is not counted.

Run::

    python bench/app.py                 # prints a table; --json for machine-readable output
    python bench/app.py --url http://127.0.0.1:7860
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text(encoding="utf-8"))
VERIFIED = "Verified by substitution."


def timed_solve(client, text: str) -> dict:
    """Submit one /solve; seconds to the first value and to the last, and the final Markdown."""
    started = time.perf_counter()
    first = None
    final = ""
    for value in client.submit(text, "symbolic", api_name="/solve"):
        if first is None:
            first = time.perf_counter() - started
        final = value
    return {"first_s": first, "total_s": time.perf_counter() - started, "verified": VERIFIED in final,
            "final": final}


def latency(url: str) -> dict:
    from gradio_client import Client

    client = Client(url, verbose=False)
    timed_solve(client, "y' = y")  # warm-up: the worker pool starts
    rows = []
    for example in EXAMPLES:
        r = timed_solve(client, example["text"])
        rows.append({"label": example["label"], "first_s": round(r["first_s"], 3), "total_s": round(r["total_s"], 3),
                     "verified": r["verified"]})
    firsts, totals = [r["first_s"] for r in rows], [r["total_s"] for r in rows]
    return {"examples": len(rows), "median_first_s": round(statistics.median(firsts), 3),
            "max_first_s": round(max(firsts), 3), "median_total_s": round(statistics.median(totals), 3),
            "max_total_s": round(max(totals), 3), "all_verified": all(r["verified"] for r in rows), "rows": rows}


def load(url: str, clients: int = 16) -> dict:
    from gradio_client import Client

    from tutor import parse

    examples = [EXAMPLES[i % len(EXAMPLES)] for i in range(clients)]
    sessions = [Client(url, verbose=False) for _ in examples]
    barrier = threading.Barrier(clients + 1)
    results: dict[int, dict] = {}

    def run(i: int) -> None:
        barrier.wait()
        results[i] = timed_solve(sessions[i], examples[i]["text"])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    own = all(results[i]["final"].startswith(f"$${parse(examples[i]['text']).latex}$$") for i in range(clients))
    totals = [results[i]["total_s"] for i in range(clients)]
    firsts = [results[i]["first_s"] for i in range(clients)]
    return {"clients": clients, "wall_s": round(wall, 2), "median_total_s": round(statistics.median(totals), 2),
            "max_total_s": round(max(totals), 2), "median_first_s": round(statistics.median(firsts), 3),
            "all_verified": all(results[i]["verified"] for i in range(clients)), "all_own_problem": own}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (default: launch one in-process)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    demo = None
    url = args.url
    if url is None:
        from app import build_demo

        demo = build_demo()
        demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
        url = demo.local_url
    try:
        result = {"latency": latency(url), "load": load(url, args.clients)}
    finally:
        if demo is not None:
            demo.close()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    lat, ld = result["latency"], result["load"]
    print(f"{'example':45} {'first (s)':>10} {'verified answer (s)':>20}")
    for row in lat["rows"]:
        print(f"{row['label'][:45]:45} {row['first_s']:>10.3f} {row['total_s']:>20.3f}"
              + ("" if row["verified"] else "  NOT VERIFIED"))
    print(f"\nmedian over {lat['examples']} examples: first value {lat['median_first_s']:.3f} s "
          f"(max {lat['max_first_s']:.3f}), complete verified answer {lat['median_total_s']:.3f} s "
          f"(max {lat['max_total_s']:.3f}); all verified: {lat['all_verified']}")
    print(f"{ld['clients']} concurrent clients: all done in {ld['wall_s']} s; per client median "
          f"{ld['median_total_s']} s, max {ld['max_total_s']} s, first value median {ld['median_first_s']} s; "
          f"all verified: {ld['all_verified']}; each its own problem: {ld['all_own_problem']}")
    return 0 if lat["all_verified"] and ld["all_verified"] and ld["all_own_problem"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
