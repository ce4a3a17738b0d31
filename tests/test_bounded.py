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
