"""Run symbolic work under a wall-clock limit, off the calling thread.

SymPy can hang on innocent-looking input (an integral with no closed form, a
huge power).  Gradio runs handlers in worker threads, where ``signal.alarm``
does not work, so every potentially slow symbolic computation goes through
:func:`run_bounded`, which executes it in a pool of worker *processes*
(pebble) and kills the worker when the time is up.

The pool uses the ``forkserver`` start method: forking a process that has
threads (the Gradio server, a generation thread) can copy held locks into the
child and deadlock it.  Workers do not re-run the caller's ``__main__`` script
(multiprocessing would, and a script without an ``if __name__ == "__main__"``
guard would then start workers recursively): the functions they run live in
importable modules, so the main-module part of the start-up data is dropped.

Usage::

    from tutor.bounded import run_bounded, SymbolicTimeout
    value = run_bounded(some_module_level_function, arg1, arg2, timeout=5.0)
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, TypeVar

from multiprocessing import spawn

from pebble import ProcessPool
from pebble.common import ProcessExpired
from pebble.pool.process import WORKERS_NAME

T = TypeVar("T")

DEFAULT_TIMEOUT = float(os.environ.get("TUTOR_TIMEOUT", "10"))

_pool: ProcessPool | None = None
_pool_lock = threading.Lock()


class SymbolicTimeout(TimeoutError):
    """The computation did not finish within its time limit."""


class WorkerCrashed(RuntimeError):
    """The worker process died (out of memory, a crash in native code)."""


_original_preparation_data = spawn.get_preparation_data


def _preparation_data(name: str) -> dict:
    data = _original_preparation_data(name)
    if name == WORKERS_NAME:
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


spawn.get_preparation_data = _preparation_data


def _workers() -> int:
    return max(2, min(4, os.cpu_count() or 2))


def _get_pool() -> ProcessPool:
    global _pool
    with _pool_lock:
        if _pool is None or not _pool.active:
            context = multiprocessing.get_context("forkserver")
            # Preloading sympy in the fork server makes each worker start fast.
            context.set_forkserver_preload(["sympy", "tutor"])
            _pool = ProcessPool(max_workers=_workers(), context=context)
        return _pool


def shutdown() -> None:
    """Stop the worker pool (it is restarted on the next call)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.stop()
            _pool.join(timeout=5)
            _pool = None


atexit.register(shutdown)


def run_bounded(fn: Callable[..., T], *args: Any, timeout: float | None = None, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in a worker process; raise SymbolicTimeout after ``timeout`` s.

    ``fn`` and its arguments must be picklable (module-level functions, SymPy
    objects).  Exceptions raised by ``fn`` are re-raised here unchanged.
    """
    limit = DEFAULT_TIMEOUT if timeout is None else timeout
    future = _get_pool().schedule(fn, args=args, kwargs=kwargs, timeout=limit)
    try:
        # The pool enforces the limit and kills the worker; the extra margin
        # covers scheduling and pickling.
        return future.result(timeout=limit + 5)
    except (FutureTimeout, TimeoutError) as exc:
        future.cancel()
        raise SymbolicTimeout(f"could not finish in time ({limit:g} s)") from exc
    except ProcessExpired as exc:
        raise WorkerCrashed(f"the symbolic worker stopped unexpectedly ({exc})") from exc
