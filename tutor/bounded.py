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

Each worker runs under an address-space limit (``TUTOR_WORKER_MEMORY_MB``, default 4096 MB;
``resource.RLIMIT_AS``), so an expansion that would need more memory fails in that worker as
:class:`SymbolicTooLarge` instead of waking the machine's OOM killer.  A worker killed from
outside (SIGKILL, the OOM killer) is :class:`WorkerCrashed`; pebble starts a new one, so the next
call works.

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


class SymbolicTooLarge(WorkerCrashed):
    """The computation needed more memory than a worker may use (``TUTOR_WORKER_MEMORY_MB``)."""


def worker_memory_limit() -> int | None:
    """Bytes of address space a worker may use: ``TUTOR_WORKER_MEMORY_MB`` (default 4096; 0 = none)."""
    try:
        mb = int(os.environ.get("TUTOR_WORKER_MEMORY_MB", "4096"))
    except ValueError:
        mb = 4096
    return mb * 2**20 if mb > 0 else None


def _limit_memory(limit: int | None) -> None:
    """Worker initializer: cap the address space, so a blow-up is a MemoryError in that worker
    (reported as :class:`SymbolicTooLarge`), never the machine's OOM killer taking the server."""
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


def _workers() -> int:
    return max(2, min(4, os.cpu_count() or 2))


def _get_pool() -> ProcessPool:
    global _pool
    with _pool_lock:
        if _pool is None or not _pool.active:
            context = multiprocessing.get_context("forkserver")
            # Preloading sympy in the fork server makes each worker start fast.
            context.set_forkserver_preload(["sympy", "tutor"])
            _pool = ProcessPool(max_workers=_workers(), context=context, initializer=_limit_memory,
                                initargs=(worker_memory_limit(),))
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
    except MemoryError as exc:
        limit_mb = (worker_memory_limit() or 0) // 2**20
        raise SymbolicTooLarge(f"the computation needs more memory than a worker may use ({limit_mb} MB)") from exc
