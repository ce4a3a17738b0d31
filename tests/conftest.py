"""Shared test setup: quiet third-party loggers; one symbolic worker pool per session."""
import logging
import os

import pytest

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
# The app's tests exercise the engine-backed UI unless they pick a profile: with the embedded
# demo-cpu model shipped, the app's own default would be that model (tested in test_demo_model.py,
# which clears this, as do the availability tests).
os.environ.setdefault("TUTOR_PROFILE", "symbolic")


@pytest.fixture(scope="session", autouse=True)
def _stop_worker_pool():
    yield
    from tutor.bounded import shutdown

    shutdown()
