"""Run symbolic work under a wall-clock limit, off the calling thread, in two lanes.

SymPy can hang on innocent-looking input (an integral with no closed form, a
huge power).  Gradio runs handlers in worker threads, where ``signal.alarm``
does not work, so every potentially slow symbolic computation goes through
:func:`run_bounded`, which executes it in a pool of worker *processes*
(pebble) and kills the worker when the time is up.

**Lanes.**  Heavy requests must never starve light ones (a class of students typing ``y' = 2y``
while someone solves ``y'' + y = sin(x)^1000``).  The workers are split into two pools:

* the *light* lane (``TUTOR_LIGHT_WORKERS``, default 2-4 by CPU count) runs every call's first
  attempt, for at most ``TUTOR_LIGHT_SECONDS`` (default 2) seconds of the worker's *CPU time*
  (``setitimer(ITIMER_PROF)``), so light work that is merely slowed down by a crowded machine is
  not mistaken for heavy work; the call's wall-clock limit still applies;
* the *heavy* lane (``TUTOR_HEAVY_WORKERS``, default 2-4) runs a call again, with its whole time
  limit, when that first attempt used up its CPU time — or at once when the caller's cheap
  estimate says the work is heavy (``heavy=True``; :func:`tutor.problem.looks_heavy`).  Its workers
  run at a lower CPU priority (``nice`` +10), so on a machine with few cores light work still gets
  the CPU.

So heavy work can occupy at most the heavy lane's workers; a light request waits only for other
light requests (and for heavy work the estimate missed, for its first attempt's CPU seconds).  Each lane runs at most as many calls as it has workers, and lets at most
``TUTOR_LIGHT_QUEUE`` (default 64) / ``TUTOR_HEAVY_QUEUE`` (default 8) more wait in line; a call
beyond that is refused at once with :class:`SymbolicBusy`, which carries an estimate of when a
place frees up (the app shows "busy, try again in N s"), never a hang.  Time spent waiting in line
is not part of a call's limit (the line is bounded, so the wait is too).

The pools use the ``forkserver`` start method: forking a process that has
threads (the Gradio server, a generation thread) can copy held locks into the
child and deadlock it.  Workers do not re-run the caller's ``__main__`` script
(multiprocessing would, and a script without an ``if __name__ == "__main__"``
guard would then start workers recursively): the functions they run live in
importable modules, so the main-module part of the start-up data is dropped.

Each worker runs under an address-space limit (``TUTOR_WORKER_MEMORY_MB``, default 4096 MB;
``resource.RLIMIT_AS``), so an expansion that would need more memory fails in that worker as
:class:`SymbolicTooLarge` instead of waking the machine's OOM killer.  A worker killed from
outside (SIGKILL, the OOM killer) is :class:`WorkerCrashed`; pebble starts a new one, so the next
call works.  Lane settings are read when a lane is first used (:func:`shutdown` resets them).

Usage::

    from tutor.bounded import run_bounded, SymbolicTimeout, SymbolicBusy
    value = run_bounded(some_module_level_function, arg1, arg2, timeout=5.0)
    value = run_bounded(fn, big_problem, timeout=10.0, heavy=True)   # straight to the heavy lane
"""
from __future__ import annotations

import atexit
import heapq
import math
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, TypeVar

from multiprocessing import spawn

from pebble import ProcessPool
from pebble.common import ProcessExpired
from pebble.pool.process import WORKERS_NAME

T = TypeVar("T")

DEFAULT_TIMEOUT = float(os.environ.get("TUTOR_TIMEOUT", "10"))

LIGHT, HEAVY = "light", "heavy"
#: CPU priority of heavy-lane workers relative to the server and the light lane.
HEAVY_NICENESS = 10


class SymbolicTimeout(TimeoutError):
    """The computation did not finish within its time limit."""


class WorkerCrashed(RuntimeError):
    """The worker process died (out of memory, a crash in native code)."""


class SymbolicTooLarge(WorkerCrashed):
    """The computation needed more memory than a worker may use (``TUTOR_WORKER_MEMORY_MB``)."""


class SymbolicBusy(RuntimeError):
    """Every worker of a lane is busy and its line is full: nothing was computed.

    ``retry_after`` is whole seconds until a place in that lane is expected to free up (an upper
    bound: it assumes the running and waiting calls use their whole time limits)."""

    def __init__(self, lane: str, retry_after: int):
        super().__init__(f"the {lane} lane is full; try again in {retry_after} s")
        self.lane = lane
        self.retry_after = retry_after


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def worker_memory_limit() -> int | None:
    """Bytes of address space a worker may use: ``TUTOR_WORKER_MEMORY_MB`` (default 4096; 0 = none)."""
    mb = _env_int("TUTOR_WORKER_MEMORY_MB", 4096)
    return mb * 2**20 if mb > 0 else None


def first_attempt_seconds() -> float:
    """CPU seconds a call may use in the light lane before it is moved to the heavy one."""
    try:
        return max(0.1, float(os.environ.get("TUTOR_LIGHT_SECONDS", "2")))
    except ValueError:
        return 2.0


class _FirstAttemptOver(BaseException):
    """The light lane's CPU time ran out (BaseException: SymPy has ``except Exception``)."""


def _first_attempt(cpu_seconds: float, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
    """Worker: ``fn(*args, **kwargs)``, stopped with :class:`_FirstAttemptOver` once this process
    has used ``cpu_seconds`` of CPU time (a profiling timer, so waiting for the CPU does not count;
    the wall-clock timers of :mod:`tutor.engine.timebox` are separate and keep working)."""
    if not hasattr(signal, "setitimer"):
        return fn(*args, **kwargs)

    def over(signum: int, frame: Any) -> None:
        raise _FirstAttemptOver()

    previous = signal.signal(signal.SIGPROF, over)
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
    try:
        return fn(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _init_worker(limit: int | None, niceness: int) -> None:
    """Worker initializer: cap the address space, so a blow-up is a MemoryError in that worker
    (reported as :class:`SymbolicTooLarge`), never the machine's OOM killer taking the server;
    lower a heavy worker's CPU priority."""
    if niceness:
        try:
            os.nice(niceness)
        except (AttributeError, OSError):  # no nice here: same priority rather than no worker
            pass
    if limit is None:
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: no cap rather than no worker
        pass


_original_preparation_data = spawn.get_preparation_data


def _preparation_data(name: str) -> dict:
    data = _original_preparation_data(name)
    if name == WORKERS_NAME:
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


spawn.get_preparation_data = _preparation_data


def _default_workers() -> int:
    return max(2, min(4, os.cpu_count() or 2))


class Lane:
    """A pool of ``workers`` processes that runs at most that many calls at once (so a call that
    gets a place starts at once), with a bounded FIFO line in front of it."""

    def __init__(self, name: str, workers: int, max_waiting: int, niceness: int = 0):
        self.name = name
        self.workers = max(1, workers)
        self.max_waiting = max(0, max_waiting)
        self.niceness = niceness
        self.pool: ProcessPool | None = None
        self._cond = threading.Condition()
        self._running: dict[object, float] = {}          # ticket -> when its limit ends
        self._waiting: list[tuple[object, float]] = []   # (ticket, limit), first come first
        self.started_calls = 0
        self.refused_calls = 0

    def _get_pool(self) -> ProcessPool:
        if self.pool is None or not self.pool.active:
            context = multiprocessing.get_context("forkserver")
            # Preloading sympy in the fork server makes each worker start fast.
            context.set_forkserver_preload(["sympy", "tutor"])
            self.pool = ProcessPool(max_workers=self.workers, context=context, initializer=_init_worker,
                                    initargs=(worker_memory_limit(), self.niceness))
        return self.pool

    def load(self) -> tuple[int, int]:
        """(calls running, calls waiting in line) now."""
        with self._cond:
            return len(self._running), len(self._waiting)

    def retry_after(self) -> int:
        """Seconds until a new call would get a place, if every call used its whole limit."""
        with self._cond:
            return self._retry_after_locked()

    def _retry_after_locked(self) -> int:
        now = time.monotonic()
        ends = list(self._running.values()) + [now] * (self.workers - len(self._running))
        heapq.heapify(ends)
        for _, limit in self._waiting:
            heapq.heappush(ends, max(heapq.heappop(ends), now) + limit)
        return max(1, math.ceil(ends[0] - now))

    def _enter(self, limit: float) -> object:
        with self._cond:
            if len(self._running) >= self.workers and len(self._waiting) >= self.max_waiting:
                self.refused_calls += 1
                raise SymbolicBusy(self.name, self._retry_after_locked())
            ticket = object()
            self._waiting.append((ticket, limit))
            while len(self._running) >= self.workers or self._waiting[0][0] is not ticket:
                self._cond.wait()
            self._waiting.pop(0)
            self._running[ticket] = time.monotonic() + limit
            self.started_calls += 1
            self._cond.notify_all()  # the next in line may find a free place too
            return ticket

    def _leave(self, ticket: object) -> None:
        with self._cond:
            self._running.pop(ticket, None)
            self._cond.notify_all()

    def run(self, fn: Callable[..., T], args: tuple, kwargs: dict, limit: float) -> T:
        ticket = self._enter(limit)
        try:
            with _lanes_lock:
                pool = self._get_pool()
            future = pool.schedule(fn, args=args, kwargs=kwargs, timeout=limit)
            try:
                # The pool enforces the limit and kills the worker; the extra margin covers
                # scheduling, pickling and a worker that is being restarted.
                return future.result(timeout=limit + 5)
            except (FutureTimeout, TimeoutError) as exc:
                future.cancel()
                raise SymbolicTimeout(f"could not finish in time ({limit:g} s)") from exc
            except ProcessExpired as exc:
                raise WorkerCrashed(f"the symbolic worker stopped unexpectedly ({exc})") from exc
            except MemoryError as exc:
                limit_mb = (worker_memory_limit() or 0) // 2**20
                raise SymbolicTooLarge(
                    f"the computation needs more memory than a worker may use ({limit_mb} MB)") from exc
        finally:
            self._leave(ticket)

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.stop()
            self.pool.join(timeout=5)
            self.pool = None


_lanes: dict[str, Lane] = {}
_lanes_lock = threading.Lock()


def lane(name: str) -> Lane:
    """The light or heavy lane (created on first use from the environment)."""
    with _lanes_lock:
        if name not in _lanes:
            if name == LIGHT:
                _lanes[name] = Lane(LIGHT, _env_int("TUTOR_LIGHT_WORKERS", _default_workers()),
                                    _env_int("TUTOR_LIGHT_QUEUE", 64))
            elif name == HEAVY:
                _lanes[name] = Lane(HEAVY, _env_int("TUTOR_HEAVY_WORKERS", _default_workers()),
                                    _env_int("TUTOR_HEAVY_QUEUE", 8), niceness=HEAVY_NICENESS)
            else:
                raise KeyError(name)
        return _lanes[name]


def shutdown() -> None:
    """Stop the worker pools (they are restarted, with fresh settings, on the next call)."""
    with _lanes_lock:
        lanes = list(_lanes.values())
        _lanes.clear()
    for each in lanes:
        each.stop()


atexit.register(shutdown)


def run_bounded(fn: Callable[..., T], *args: Any, timeout: float | None = None, heavy: bool = False,
                **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in a worker process; raise SymbolicTimeout after ``timeout`` s.

    The first attempt runs in the light lane for at most :func:`first_attempt_seconds` of CPU
    time (and ``timeout`` of wall time); when the CPU time ran out, the call runs again in the
    heavy lane with the whole ``timeout`` (so a heavy call takes up to the first attempt longer
    than its limit).  ``heavy=True`` skips the first attempt.  A full lane raises
    :class:`SymbolicBusy`.

    ``fn`` and its arguments must be picklable (module-level functions, SymPy
    objects).  Exceptions raised by ``fn`` are re-raised here unchanged.
    """
    limit = DEFAULT_TIMEOUT if timeout is None else timeout
    if not heavy:
        try:
            return lane(LIGHT).run(_first_attempt, (first_attempt_seconds(), fn, args, kwargs), {}, limit)
        except _FirstAttemptOver:
            pass
    return lane(HEAVY).run(fn, args, kwargs, limit)
