"""Fan CPU-bound SymPy work (the engine's generators, the checker) out: on Ray, or on this machine.

Two executors, one result: ``fan_out(fn, items)`` returns ``[fn(x) for x in items]`` in order.

* ``local`` (the default, needs nothing more): a few threads call ``fn``; the symbolic work inside
  goes through :func:`tutor.bounded.run_bounded`, so it runs in this machine's pebble worker
  processes, each call under its time and memory limits.
* ``ray``: every item is a Ray task (``ray.remote(fn)``).  Without ``RAY_ADDRESS`` Ray starts on
  this machine with ``workers`` CPUs; with it (``RAY_ADDRESS=ray://head:10001`` or ``auto``) the
  same command runs on the cluster.  Inside a task ``fn`` still bounds its symbolic calls with
  ``run_bounded`` (one light and one heavy worker per Ray worker), so a hung integral costs a
  task its time limit, not the cluster a worker.
* ``auto``: ``ray`` when ``RAY_ADDRESS`` is set and Ray is installed, else ``local``.

``fn`` must be a module-level function and the items picklable (parsed problems are).  Tasks are
submitted at most ``4 * workers`` ahead, so a list of 400,000 items costs no memory up front.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

EXECUTORS = ("auto", "local", "ray")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_executor(executor: str = "auto") -> str:
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if executor == "ray" and not ray_available():
        raise RuntimeError("the ray executor needs Ray: pip install 'ray==2.60.0'")
    if executor == "auto":
        return "ray" if os.environ.get("RAY_ADDRESS") and ray_available() else "local"
    return executor


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def start_ray(workers: int | None = None) -> None:
    """Connect to ``RAY_ADDRESS`` or start Ray here with ``workers`` CPUs (once per process)."""
    import ray

    if ray.is_initialized():
        return
    env = {"TUTOR_LIGHT_WORKERS": "1", "TUTOR_HEAVY_WORKERS": "1",
           # the workers import this project's modules, wherever Ray starts them
           "PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    kwargs: dict[str, Any] = {"runtime_env": {"env_vars": env}, "include_dashboard": False,
                              "log_to_driver": False, "logging_level": logging.WARNING}
    address = os.environ.get("RAY_ADDRESS")
    if address:
        kwargs["address"] = address
    else:
        kwargs["num_cpus"] = workers or default_workers()
    ray.init(**kwargs)


def fan_out(fn: Callable[[T], R], items: Iterable[T], *, executor: str = "auto", workers: int | None = None,
            desc: str = "items", progress: bool = False) -> list[R]:
    """``[fn(x) for x in items]``, computed in parallel (see the module docstring)."""
    from tqdm.auto import tqdm

    items = list(items)
    kind = resolve_executor(executor)
    workers = workers or default_workers()
    bar = tqdm(total=len(items), desc=desc, unit="item", disable=not progress)
    try:
        if kind == "local" or not items:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout") as pool:
                results = []
                for result in pool.map(fn, items):
                    results.append(result)
                    bar.update(1)
                return results
        return _ray_map(fn, items, workers, bar)
    finally:
        bar.close()


_REMOTE: dict[Callable, Any] = {}


def _ray_map(fn: Callable[[T], R], items: list[T], workers: int, bar: Any) -> list[R]:
    import ray

    start_ray(workers)
    if fn not in _REMOTE:  # exported to the cluster once, not per call
        _REMOTE[fn] = ray.remote(num_cpus=1, max_retries=2)(fn)  # a task lost with its node is retried
    task = _REMOTE[fn]
    ahead = 4 * max(1, workers)
    results: list[Any] = [None] * len(items)
    in_flight: dict[Any, int] = {}
    next_index = 0
    while next_index < len(items) or in_flight:
        while next_index < len(items) and len(in_flight) < ahead:
            in_flight[task.remote(items[next_index])] = next_index
            next_index += 1
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        for ref in ready:
            results[in_flight.pop(ref)] = ray.get(ref)
            bar.update(1)
    return results


# --------------------------------------------------------------------------- the verifier, fanned out

def verify_item(item: tuple[Any, str, float]) -> str:
    """The checker's verdict on ``(problem, answer, timeout)``; ``no answer`` for an empty answer.

    ``problem`` is a parsed :class:`tutor.problem.Problem` (what the answer is checked against) or
    the problem's text.
    """
    from tutor import checker

    problem, answer, timeout = item
    if not (answer or "").strip():
        return "no answer"
    if isinstance(problem, str):
        from tutor.parser import parse

        problem = parse(problem)
    return checker.check(problem, answer, timeout=timeout).verdict


def verify_many(items: list[tuple[Any, str, float]], *, executor: str = "auto", workers: int | None = None,
                progress: bool = False) -> list[str]:
    """Verdicts for many ``(problem, answer, timeout)`` items, fanned out."""
    return fan_out(verify_item, items, executor=executor, workers=workers, desc="checking answers",
                   progress=progress)
