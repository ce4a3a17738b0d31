"""Shared helper for the model tests: tiny local models built once per test session.

Session-scoped fixtures imported into several test modules would be built once per module;
this cache keys the built directories on pytest's base temp dir, so each kind of tiny
model is built once per session whichever module asks first.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
logging.getLogger("transformers").setLevel(logging.ERROR)

_built: dict[tuple[str, str], Path] = {}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread; two OpenMP threads on a shared 2-core box
    busy-wait each other (25x slower measured).  Restored after the module."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, taught: bool = True) -> Path:
    """A tiny Llama + tokenizer; ``taught`` ones reply to training.tiny_model.EXAMPLES in format."""
    from training.tiny_model import build

    key = (str(tmp_path_factory.getbasetemp()), "taught" if taught else "random")
    if key not in _built:
        out = tmp_path_factory.mktemp(f"tiny-{key[1]}")
        _built[key] = build(out, "tiny", seed=0, teach_steps=800 if taught else 0)  # stops once fitted (loss < 2e-3)
    return _built[key]


def local_profile(model_dir: Path, **changes):
    """A local profile for a tiny model: no adapter required, short replies."""
    from tutor.profiles import Generation, load_profile

    generation = changes.pop("generation", Generation(max_new_tokens=160))
    return load_profile("tinyllama-ode", base_model=str(model_dir), adapter_required=False,
                        generation=generation, **changes)


def model_profiles_file(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A ``TUTOR_PROFILES_FILE`` with one local profile ``name`` on a tiny random model built here (no
    download): its weights are present, so the profile is runnable and in the app's selector."""
    model = tiny_model_dir(tmp_path_factory, taught=False)
    path = tmp_path_factory.mktemp("profiles") / "profiles.yaml"
    path.write_text(f"profiles:\n  {name}:\n    backend: local\n    base_model: {model}\n    prompt_format: tutor\n",
                    encoding="utf-8")
    return path


def app_with_profiles_file(patch: pytest.MonkeyPatch, profiles_file: Path):
    """The ``app`` module with ``TUTOR_PROFILES_FILE`` set (through ``patch``, so undone with it) and
    its profile selector (``app.RUNNABLE``, read at import) listing what can run with that file."""
    import app
    from tutor.availability import runnable_profiles

    patch.setenv("TUTOR_PROFILES_FILE", str(profiles_file))
    patch.setattr(app, "RUNNABLE", runnable_profiles())
    return app
