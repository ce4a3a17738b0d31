"""Benchmark the app through its API, as a user's client sees it (gradio_client over HTTP).

1. Latency: each example of ``assets/examples.json`` is solved once on the ``symbolic`` profile,
   one after another; for each, the time from submit to the first streamed value and to the
   complete verified answer.  Reports medians (goal: first value <= 1 s) and maxima.
2. Load: 16 clients (one ``gradio_client.Client`` each) submit 16 different examples at the same
   moment; reports the wall time until all are done, per-client latency (median, max), and
   whether every answer is verified and its own (the problem it shows is the one it asked).
3. Mixed load (issue 20): 32 sessions.  The peer first: 24 light clients (``y' = k y``) each send
   ``--light-rounds`` requests back to back, nothing else running.  Then 8 heavy requests (power
   bombs, seconds of SymPy each) are sent, and 2 s later the same light workload again.  Reports
   the light latency p50/p95/max in both runs and their ratio (goal: p95 <= 2 s with the heavy
   ones running), whether every light answer is verified, its own and correct, and what each
   heavy request got (verified / could not finish / "busy, try again in N s").

The app runs as its own process (``python app.py`` on a free 127.0.0.1 port, symbolic profile), so
the clients do not share its interpreter; or pass ``--url`` for a running one.  One warm-up request
runs first (worker processes start), and is not counted.

Run::

    python bench/app.py                 # prints a table; --json for machine-readable output
    python bench/app.py --parts mixed   # only the mixed load
    python bench/app.py --url http://127.0.0.1:7860
"""
from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

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


HEAVY = [f"(x+y)^{{{1000 + i}}} dx + dy = 0" for i in range(4)] + [f"y'' + y = sin(x)^{{{1000 + i}}}" for i in range(4)]
LIGHT = [f"y' = {k}y" for k in range(1, 25)]
FINAL = re.compile(r"### Final Answer\n\$\$(?P<answer>.+?)\$\$", re.DOTALL)
BUSY = re.compile(r"busy right now.*try again in (\d+) s", re.DOTALL)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile, nearest rank (p95 of 72 values is the 69th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _light_run(url: str, rounds: int) -> dict:
    """24 light clients, ``rounds`` requests each, all starting together: latencies and correctness."""
    from gradio_client import Client

    from tutor import check, parse

    clients = [Client(url, verbose=False) for _ in LIGHT]
    barrier = threading.Barrier(len(LIGHT) + 1)
    latencies: list[float] = []
    wrong: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        problem = parse(LIGHT[i])
        barrier.wait()
        for _ in range(rounds):
            r = timed_solve(clients[i], LIGHT[i])
            match = FINAL.search(r["final"])
            ok = (r["verified"] and r["final"].startswith(f"$${problem.latex}$$") and match is not None
                  and check(problem, match.group("answer")).verdict == "correct")
            with lock:
                latencies.append(r["total_s"])
                if not ok:
                    wrong.append(LIGHT[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(LIGHT))]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return {"requests": len(latencies), "wall_s": round(time.perf_counter() - started, 2),
            "p50_s": round(percentile(latencies, 50), 3), "p95_s": round(percentile(latencies, 95), 3),
            "max_s": round(max(latencies), 3), "all_correct_and_own": not wrong, "wrong": wrong}


def mixed(url: str, rounds: int = 3) -> dict:
    """The light workload alone (the peer), then with 8 heavy requests running."""
    from gradio_client import Client

    from tutor import parse

    alone = _light_run(url, rounds)
    heavy_clients = [Client(url, verbose=False) for _ in HEAVY]
    outcomes: dict[int, dict] = {}

    def heavy(i: int) -> None:
        r = timed_solve(heavy_clients[i], HEAVY[i])
        final = r["final"]
        kind = ("verified" if r["verified"] else "busy" if BUSY.search(final)
                else "could not finish" if "Could not finish in time" in final else "other")
        outcomes[i] = {"kind": kind, "s": round(r["total_s"], 2),
                       "own": final.startswith(f"$${parse(HEAVY[i]).latex}$$")}

    threads = [threading.Thread(target=heavy, args=(i,)) for i in range(len(HEAVY))]
    for t in threads:
        t.start()
    time.sleep(2.0)  # the heavy ones are in the heavy lane (and its line) now
    with_heavy = _light_run(url, rounds)
    heavy_still_running = sum(t.is_alive() for t in threads)
    for t in threads:
        t.join()
    kinds = [outcomes[i]["kind"] for i in range(len(HEAVY))]
    return {"light_alone": alone, "light_with_heavy": with_heavy,
            "p95_ratio": round(with_heavy["p95_s"] / alone["p95_s"], 2),
            "heavy_running_when_light_done": heavy_still_running,
            "heavy": {k: kinds.count(k) for k in sorted(set(kinds))},
            "heavy_s": [outcomes[i]["s"] for i in range(len(HEAVY))],
            "heavy_all_own": all(outcomes[i]["own"] for i in range(len(HEAVY))),
            "heavy_all_honest": "other" not in kinds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (default: start python app.py on a free port)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--parts", default="latency,load,mixed", help="comma-separated: latency, load, mixed")
    parser.add_argument("--light-rounds", type=int, default=3, help="requests per light client (mixed load)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    from contextlib import nullcontext

    from serving import app_server

    server = nullcontext((args.url, None)) if args.url else app_server()
    with server as (url, _):
        from gradio_client import Client

        timed_solve(Client(url, verbose=False), "y' = y")  # warm-up: the worker pools start
        result = {}
        if "latency" in parts:
            result["latency"] = latency(url)
        if "load" in parts:
            result["load"] = load(url, args.clients)
        if "mixed" in parts:
            result["mixed"] = mixed(url, args.light_rounds)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    ok = True
    if "latency" in result:
        lat = result["latency"]
        print(f"{'example':45} {'first (s)':>10} {'verified answer (s)':>20}")
        for row in lat["rows"]:
            print(f"{row['label'][:45]:45} {row['first_s']:>10.3f} {row['total_s']:>20.3f}"
                  + ("" if row["verified"] else "  NOT VERIFIED"))
        print(f"\nmedian over {lat['examples']} examples: first value {lat['median_first_s']:.3f} s "
              f"(max {lat['max_first_s']:.3f}), complete verified answer {lat['median_total_s']:.3f} s "
              f"(max {lat['max_total_s']:.3f}); all verified: {lat['all_verified']}")
        ok &= lat["all_verified"]
    if "load" in result:
        ld = result["load"]
        print(f"{ld['clients']} concurrent clients: all done in {ld['wall_s']} s; per client median "
              f"{ld['median_total_s']} s, max {ld['max_total_s']} s, first value median {ld['median_first_s']} s; "
              f"all verified: {ld['all_verified']}; each its own problem: {ld['all_own_problem']}")
        ok &= ld["all_verified"] and ld["all_own_problem"]
    if "mixed" in result:
        mx = result["mixed"]
        for name, run in (("light alone (peer)", mx["light_alone"]), ("light with 8 heavy", mx["light_with_heavy"])):
            print(f"{name:20} {run['requests']} requests in {run['wall_s']} s: p50 {run['p50_s']} s, "
                  f"p95 {run['p95_s']} s, max {run['max_s']} s; all correct and own: {run['all_correct_and_own']}")
        print(f"p95 ratio (with heavy / alone): {mx['p95_ratio']}; heavy still running when the light ones "
              f"were done: {mx['heavy_running_when_light_done']} of {len(HEAVY)}; heavy outcomes: {mx['heavy']} "
              f"(seconds: {mx['heavy_s']}); each its own problem: {mx['heavy_all_own']}")
        ok &= (mx["light_alone"]["all_correct_and_own"] and mx["light_with_heavy"]["all_correct_and_own"]
               and mx["heavy_all_own"] and mx["heavy_all_honest"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
