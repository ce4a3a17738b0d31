"""Shared test setup: quiet third-party loggers; one symbolic worker pool per session."""
import logging

import pytest

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)


@pytest.fixture(scope="session", autouse=True)
def _stop_worker_pool():
    yield
    from tutor.bounded import shutdown

    shutdown()
