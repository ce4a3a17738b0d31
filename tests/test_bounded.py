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
        busy = [t.worker_id for name in (bounded.LIGHT, bounded.HEAVY) if (pool := bounded.lane(name).pool)
                for t in list(pool._pool_manager.task_manager.tasks.values()) if t.worker_id]
        if busy:
            break
        time.sleep(0.1)
    assert busy, "no worker picked up the task"
    os.kill(busy[0], signal.SIGKILL)
    thread.join(30)
    assert isinstance(results.get("error"), bounded.WorkerCrashed)
    x = sympy.Symbol("x")
    assert run_bounded(sympy.diff, x**3, x, timeout=20) == 3 * x**2


@pytest.fixture
def lanes(monkeypatch):
    """Fresh lanes with settings from the environment (set before the first call); reset after."""
    from tutor import bounded

    bounded.shutdown()

    def configure(**settings: str):
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        return bounded

    yield configure
    bounded.shutdown()


def _in_background(fn, *args, **kwargs) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # reported by the test that looks at it
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_light_work_finishes_while_heavy_work_fills_the_heavy_lane(lanes):
    bounded = lanes(TUTOR_HEAVY_WORKERS="2", TUTOR_LIGHT_WORKERS="1")
    heavy = [_in_background(run_bounded, time.sleep, 6, timeout=20, heavy=True) for _ in range(2)]
    _wait_until(lambda: bounded.lane(bounded.HEAVY).load() == (2, 0))
    x = sympy.Symbol("x")
    for _ in range(3):  # light calls, one after another, all while both heavy ones still run
        assert run_bounded(sympy.diff, x**3, x, timeout=20) == 3 * x**2
    assert all(thread.is_alive() for thread, _ in heavy)
    for thread, outcome in heavy:
        thread.join(30)
        assert "error" not in outcome, outcome


def test_a_call_that_uses_up_its_first_attempt_finishes_in_the_heavy_lane(lanes):
    bounded = lanes(TUTOR_LIGHT_SECONDS="0.1")
    x, y, z, w = sympy.symbols("x y z w")
    # about 0.7 s of CPU: more than the light lane's 0.1 s, so the heavy lane finishes it
    assert len(run_bounded(sympy.expand, (x + y + z + w) ** 20, timeout=60).args) == 1771
    assert bounded.lane(bounded.LIGHT).started_calls == 1
    assert bounded.lane(bounded.HEAVY).started_calls == 1
    # the first attempt counts CPU time, not waiting: a call that sleeps longer stays light
    assert run_bounded(time.sleep, 0.5, timeout=10) is None
    assert bounded.lane(bounded.LIGHT).started_calls == 2
    assert bounded.lane(bounded.HEAVY).started_calls == 1


def test_a_full_lane_refuses_at_once_and_says_when_to_come_back(lanes):
    bounded = lanes(TUTOR_HEAVY_WORKERS="1", TUTOR_HEAVY_QUEUE="1")
    running = _in_background(run_bounded, time.sleep, 8, timeout=20, heavy=True)
    _wait_until(lambda: bounded.lane(bounded.HEAVY).load() == (1, 0))
    waiting = _in_background(run_bounded, time.sleep, 0.1, timeout=20, heavy=True)
    _wait_until(lambda: bounded.lane(bounded.HEAVY).load() == (1, 1))
    with pytest.raises(bounded.SymbolicBusy) as refused:
        run_bounded(time.sleep, 0.1, timeout=20, heavy=True)
    # one place frees up at the latest when the running call's 20 s and the waiting call's 20 s are over
    assert 20 < refused.value.retry_after <= 40
    assert running[0].is_alive() and waiting[0].is_alive()  # refused without waiting for them
    assert bounded.lane(bounded.HEAVY).refused_calls == 1
    x = sympy.Symbol("x")
    assert run_bounded(sympy.diff, x**2, x, timeout=20) == 2 * x  # the light lane still answers
    for thread, outcome in (running, waiting):
        thread.join(30)
        assert "error" not in outcome, outcome


@pytest.mark.parametrize("text, heavy", [
    ("(x+y)^1000 dx + dy = 0", True), ("y'' + y = sin(x)^1000", True), ("y' = x^50 + y", True),
    ("y' = 2y", False), ("y'' + 4y' + 4y = x^2 e^(-2x)", False), ("y' + 2y = e^(-x), y(0) = 10^300", False),
])
def test_the_cheap_estimate_sends_power_bombs_to_the_heavy_lane(text, heavy):
    from tutor import parse

    assert parse(text).heavy is heavy
