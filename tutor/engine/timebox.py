"""Time limits for parts of a derivation inside the bounded worker (interval timer).

:func:`tutor.bounded.run_bounded` limits the whole ``solve`` call; inside it one hopeless
integral (``integral_steps`` exploring trigonometric rewrites, ``solve`` on a
transcendental relation) must not eat the budget the next method, SymPy's ``dsolve`` or
the checker needs.  :func:`attempt` runs a function for at most ``seconds`` using
``signal.setitimer`` — only in the main thread of a worker process (where the pool runs
tasks); anywhere else (a Gradio handler thread, the main process) it runs the function
unlimited, because signals there would hit the caller (docs/ARCHITECTURE.md, Limits on symbolic work).

Nested limits work: an inner limit never outlives an outer one, and the outer timer is
restored when the inner block ends.

Usage::

    from tutor.engine.timebox import attempt
    ok, value = attempt(1.5, sympy.integrate, f, x)   # (False, None) after 1.5 s
"""
from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from typing import Any, Callable

from pebble.pool.process import WORKERS_NAME


class StageTimeout(BaseException):
    """A time-boxed part ran out of time (BaseException: SymPy has ``except Exception``)."""


def in_worker() -> bool:
    """Whether this process is one of :mod:`tutor.bounded`'s pool workers (pebble names them).

    There symbolic work runs in place (the checker inside the engine's worker) instead of asking
    for another worker, and interval timers may be used."""
    return multiprocessing.current_process().name == WORKERS_NAME


def _timer_allowed() -> bool:
    # a pool worker's main thread runs the task (tutor.bounded)
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread() and in_worker()


def attempt(seconds: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """``(True, fn(*args))``, or ``(False, None)`` when ``seconds`` ran out first.

    Exceptions from ``fn`` propagate.  Without a usable timer the call is not limited.
    """
    if not _timer_allowed():
        return True, fn(*args, **kwargs)
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_left and outer_left <= seconds:
        # An enclosing limit ends sooner: let it fire (its own attempt handles it).
        return True, fn(*args, **kwargs)
    token = object()

    def fire(signum: int, frame: Any) -> None:
        raise StageTimeout(token)

    previous = signal.signal(signal.SIGALRM, fire)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return True, fn(*args, **kwargs)
    except StageTimeout as exc:
        if exc.args and exc.args[0] is token:
            return False, None
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - started), 0.001))
