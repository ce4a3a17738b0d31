"""Soak: many mixed requests through gradio_client at a steady rate; memory, worker restarts, errors.

The app runs as its own process (``python app.py`` on a free 127.0.0.1 port, symbolic profile,
via ``tests/serving.app_server``).  ``--requests`` (default 1,000) requests are sent at ``--rate``
per second (default 2), each from one of ``--clients`` ``gradio_client.Client`` sessions, in this
mix (seeded, so a run can be repeated):

* solve, plain text (35%): the examples of ``assets/examples.json`` that have a verified answer (the
  method families; not the numerical ones) and ``y' = k y``;
* solve, LaTeX (20%): ``\\frac{dy}{dx} = k y``, ``y'' + k^2 y = 0`` in LaTeX;
* check (20%): right, incomplete and wrong answers (the verdict must be the expected one);
* practice (10%): a random method, difficulty and seed (the problem must be verified);
* parse (10%): the live preview's endpoint;
* invalid (5%): text that cannot be read (the answer must be the parser's "Could not read this").

An *error* is anything else: an exception in the client, a "Something went wrong" or a traceback,
a valid problem whose answer is not verified or not its own, a wrong verdict.  "Busy, try again"
answers are counted separately (the load should not cause any at the default rate).

Memory: the server process's RSS (and its symbolic workers' total) before the first request,
after the warm-up (the first 10% of requests), in the middle and at the end; the goal is growth
<= 10% from the warm-up to the end.  Worker restarts: the worker processes seen (children of the
fork server, sampled every 0.2 s) beyond the most alive at once (a worker is replaced after it is
killed for running past its time limit).

Run::

    python bench/soak.py                          # 1,000 requests at 2/s (about 9 minutes)
    python bench/soak.py --requests 200 --rate 1 --json
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

#: The examples with a verified closed-form answer (a "numerical" example, e.g. a slope field of an equation
#: with no closed form, takes its whole time limit and is not verified by design).
EXAMPLES = [e for e in json.loads((ROOT / "assets" / "examples.json").read_text(encoding="utf-8"))
            if e["family"] != "numerical"]
VERIFIED = "Verified by substitution."
UNREADABLE = "**Could not read this:**"
BUSY = re.compile(r"busy right now.*try again in \d+ s", re.DOTALL)
BROKEN = ("Something went wrong", "Traceback")
INVALID = ["y' = = 2y", "y'' + sin(", "hello there", "y' = 2y, y(0) = ", "\\frac{dy}{dx = y", "y' = (x + 1",
           "dy/dx = x *", "y' = 2y )"]
CHECKS = [("y' = {k}y", "y = C e^{{{k}x}}", "Correct"), ("y' = 2y, y(0) = 3", "y = 3e^{{2x}}", "Correct"),
          ("y'' + y = 0", "y = C_1 \\cos x", "Incomplete"), ("y' = {k}y", "y = e^{{x}}", "Not a solution"),
          ("y' + 2y = e^(-x)", "y = e^{{-x}} + C e^{{-2x}}", "Correct")]
MIX = (("solve", 35), ("solve_latex", 20), ("check", 20), ("practice", 10), ("parse", 10), ("invalid", 5))


def plan(requests: int, seed: int) -> list[tuple[str, tuple]]:
    """The requests, in order: (kind, arguments)."""
    rng = random.Random(seed)
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    out = []
    for _ in range(requests):
        kind = rng.choice(kinds)
        k = rng.randint(2, 9)
        if kind == "solve":
            text = rng.choice([e["text"] for e in EXAMPLES] + [f"y' = {k}y"])
            out.append((kind, (text,)))
        elif kind == "solve_latex":
            out.append((kind, (rng.choice([f"\\frac{{dy}}{{dx}} = {k} y", f"y'' + {k * k} y = 0"]),)))
        elif kind == "check":
            problem, answer, verdict = rng.choice(CHECKS)
            out.append((kind, (problem.format(k=k), answer.format(k=k), verdict)))
        elif kind == "practice":
            out.append((kind, (rng.randint(1, 2), rng.randint(1, 10_000))))
        elif kind == "parse":
            out.append((kind, (rng.choice([e["text"] for e in EXAMPLES]),)))
        else:
            out.append((kind, (rng.choice(INVALID),)))
    return out


def run_one(client, kind: str, args: tuple) -> str:
    """'ok', 'invalid' (handled as expected), 'busy', or 'error: ...'."""
    from tutor import parse

    if kind in ("solve", "solve_latex", "invalid"):
        final = ""
        for final in client.submit(args[0], "symbolic", api_name="/solve"):
            pass
        if kind == "invalid":
            return "invalid" if final.startswith(UNREADABLE) else f"error: invalid input not refused: {final[:120]!r}"
        if BUSY.search(final):
            return "busy"
        own = final.startswith(f"$${parse(args[0]).latex}$$")
        return "ok" if own and VERIFIED in final else f"error: {args[0]!r} -> {final[-160:]!r}"
    if kind == "check":
        out = client.predict(args[0], args[1], False, api_name="/check")
        if BUSY.search(out):
            return "busy"
        return "ok" if f"<strong>{args[2]}.</strong>" in out else f"error: check {args[:2]!r} -> {out[:160]!r}"
    if kind == "practice":
        card, data = client.predict("random", args[0], args[1], api_name="/practice")
        if BUSY.search(card):
            return "busy"
        return "ok" if data and data.get("verified") else f"error: practice {args!r} -> {card[:160]!r}"
    out = client.predict(args[0], api_name="/parse")
    return "ok" if "$$" in out and not out.startswith(UNREADABLE) else f"error: parse {args[0]!r} -> {out[:160]!r}"


# --------------------------------------------------------------------------- processes


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, resident bytes) of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return None


def _processes() -> dict[int, tuple[int, int]]:
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (st := _stat(int(name))) is not None:
            out[int(name)] = st
    return out


def memory(server: int) -> dict:
    """RSS in MB of the server and of its symbolic workers (grandchildren: fork server's children)."""
    procs = _processes()
    children = {pid for pid, (parent, _) in procs.items() if parent == server}
    workers = {pid for pid, (parent, _) in procs.items() if parent in children}
    mb = 2**20
    return {"server_mb": round(procs.get(server, (0, 0))[1] / mb, 1),
            "workers_mb": round(sum(procs[p][1] for p in workers) / mb, 1), "workers": len(workers)}


class WorkerWatch(threading.Thread):
    """Samples the symbolic worker processes; restarts = distinct workers seen - most alive at once."""

    def __init__(self, server: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.server, self.every = server, every
        self.seen: set[int] = set()
        self.most = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            procs = _processes()
            children = {pid for pid, (parent, _) in procs.items() if parent == self.server}
            alive = {pid for pid, (parent, _) in procs.items() if parent in children}
            self.seen |= alive
            self.most = max(self.most, len(alive))
            self._done.wait(self.every)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return len(self.seen) - self.most


# --------------------------------------------------------------------------- main


def soak(url: str, server: int | None, requests: int, rate: float, clients: int, seed: int) -> dict:
    from gradio_client import Client

    sessions = [Client(url, verbose=False) for _ in range(clients)]
    free = list(range(clients))
    free_lock = threading.Condition()
    work = plan(requests, seed)
    outcomes: list[str | None] = [None] * len(work)
    latencies: list[float] = [0.0] * len(work)
    samples: dict[str, dict] = {}
    watch = WorkerWatch(server) if server else None
    if server:
        samples["start"] = memory(server)
        watch.start()

    def one(i: int, scheduled: float) -> None:
        with free_lock:
            while not free:
                free_lock.wait()
            slot = free.pop()
        try:
            outcomes[i] = run_one(sessions[slot], *work[i][:1], work[i][1])
        except Exception as exc:  # counted as an error, with what it was
            outcomes[i] = f"error: {work[i][0]} {work[i][1]!r} raised {type(exc).__name__}: {exc}"
        latencies[i] = time.perf_counter() - scheduled  # from when it was due: waiting counts
        with free_lock:
            free.append(slot)
            free_lock.notify()

    marks = {max(1, requests // 10): "after_warm_up", requests // 2: "middle"}
    begun = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = []
        for i in range(len(work)):
            due = begun + i / rate
            if due > time.perf_counter():
                time.sleep(due - time.perf_counter())
            if server and i in marks:
                samples[marks[i]] = memory(server)
            futures.append(pool.submit(one, i, due))
        for f in futures:
            f.result()
    wall = time.perf_counter() - begun
    if server:
        samples["end"] = memory(server)
    counts = Counter(o.split(":")[0] for o in outcomes)
    errors = [o for o in outcomes if o and o.startswith("error")]
    result = {"requests": requests, "rate_per_s": rate, "clients": clients, "wall_s": round(wall, 1),
              "achieved_rate_per_s": round(requests / wall, 2), "ok": counts["ok"], "invalid_refused": counts["invalid"],
              "invalid_sent": sum(1 for kind, _ in work if kind == "invalid"), "busy": counts["busy"],
              "errors": len(errors), "error_examples": errors[:5],
              "by_kind": dict(Counter(kind for kind, _ in work)),
              "latency_p50_s": round(sorted(latencies)[len(latencies) // 2], 3),
              "latency_p95_s": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 3),
              "latency_max_s": round(max(latencies), 3)}
    if server:
        result["memory"] = samples
        base, end = samples["after_warm_up"], samples["end"]
        result["server_rss_growth_after_warm_up"] = round(end["server_mb"] / base["server_mb"] - 1, 3)
        result["worker_restarts"] = watch.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=2.0, help="requests started per second")
    parser.add_argument("--clients", type=int, default=16, help="gradio_client sessions (requests in flight at most)")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--url", help="a running app (no memory figures then)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from contextlib import nullcontext

    from serving import app_server

    server = nullcontext((args.url, None)) if args.url else app_server()
    with server as (url, proc):
        from gradio_client import Client

        warm = Client(url, verbose=False)  # the worker pools start; not counted
        for _ in warm.submit("y' = y", "symbolic", api_name="/solve"):
            pass
        result = soak(url, proc.pid if proc else None, args.requests, args.rate, args.clients, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['requests']} requests at {result['rate_per_s']}/s ({result['achieved_rate_per_s']}/s achieved, "
              f"{result['wall_s']} s, {result['clients']} clients): ok {result['ok']}, invalid refused "
              f"{result['invalid_refused']} of {result['invalid_sent']}, busy {result['busy']}, errors {result['errors']}")
        print(f"latency p50 {result['latency_p50_s']} s, p95 {result['latency_p95_s']} s, max {result['latency_max_s']} s; "
              f"mix {result['by_kind']}")
        if "memory" in result:
            for name, m in result["memory"].items():
                print(f"  RSS {name:14} server {m['server_mb']:7.1f} MB, {m['workers']} workers {m['workers_mb']:7.1f} MB")
            print(f"server RSS growth after warm-up: {100 * result['server_rss_growth_after_warm_up']:+.1f}%; "
                  f"worker restarts: {result['worker_restarts']}")
        for e in result["error_examples"]:
            print("  ", e)
    return 0 if result["errors"] == 0 and result["invalid_refused"] == result["invalid_sent"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
