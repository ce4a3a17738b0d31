"""The worker-process timeout works from threads and kills stuck work."""
import threading
import time

import pytest
import sympy

from tutor.bounded import SymbolicTimeout, run_bounded


def test_result_comes_back():
    x = sympy.Symbol("x")
    assert run_bounded(sympy.integrate, x**2, x, timeout=20) == x**3 / 3


def test_timeout_from_a_worker_thread():
    results = {}

    def work():
        start = time.perf_counter()
        try:
            run_bounded(time.sleep, 30, timeout=1)
        except SymbolicTimeout as exc:
            results["error"] = exc
        results["elapsed"] = time.perf_counter() - start

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(20)
    assert isinstance(results.get("error"), SymbolicTimeout)
    assert results["elapsed"] < 10


def test_exceptions_propagate():
    with pytest.raises(ZeroDivisionError):
        run_bounded(divmod, 1, 0, timeout=20)


def test_a_worker_over_its_memory_limit_is_a_clean_too_large_error(monkeypatch):
    """An allocation over the address-space cap fails inside the worker, and the pool goes on."""
    from tutor import bounded

    bounded.shutdown()
    monkeypatch.setenv("TUTOR_WORKER_MEMORY_MB", "1024")
    try:
        with pytest.raises(bounded.SymbolicTooLarge, match="1024 MB"):
            run_bounded(bytearray, 3 * 2**30, timeout=30)  # 3 GiB: more than the cap
        x = sympy.Symbol("x")
        assert run_bounded(sympy.expand, (x + 1) ** 2, timeout=20) == x**2 + 2 * x + 1
    finally:
        bounded.shutdown()  # the next test gets a pool with the default limit


def test_a_killed_worker_fails_its_request_and_the_next_one_works():
    """SIGKILL mid-solve (as the OOM killer would): that call says so, the pool replaces the worker."""
    import os
    import signal

    from tutor import bounded

    pool = bounded._get_pool()
    results = {}

    def slow():
        try:
            run_bounded(time.sleep, 20, timeout=30)
        except bounded.WorkerCrashed as exc:
            results["error"] = exc

    thread = threading.Thread(target=slow)
    thread.start()
    busy = []
    for _ in range(100):  # wait until a worker has taken the task
        busy = [t.worker_id for t in list(pool._pool_manager.task_manager.tasks.values()) if t.worker_id]
        if busy:
            break
        time.sleep(0.1)
    assert busy, "no worker picked up the task"
    os.kill(busy[0], signal.SIGKILL)
    thread.join(30)
    assert isinstance(results.get("error"), bounded.WorkerCrashed)
    x = sympy.Symbol("x")
    assert run_bounded(sympy.diff, x**3, x, timeout=20) == 3 * x**2
