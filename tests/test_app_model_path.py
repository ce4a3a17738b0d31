"""The Solve handler with a model profile: a wrong model answer gets the engine's verified solution,
and generation by an in-process model is serialized (one device) while its requests wait politely.

The model is a stub backend (the real local backend is tested with tiny models elsewhere); the
profile is a real ``local`` profile whose weights directory exists, so availability checks pass.
"""
from __future__ import annotations

import threading
import time

import pytest

import app
import tutor.session

WRONG_REPLY = ["## Classification\nFirst order, linear.\n\n", "## Hint\nUse an integrating factor.\n\n",
               "## Steps\n1. Multiply by $e^{2x}$.\n\n", "## Final Answer\n$y = C e^{x}$\n"]


class StubModel:
    """Streams a fixed (wrong) reply; records how many streams run at the same time."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.active = 0
        self.most = 0
        self.lock = threading.Lock()

    def stream(self, problem_text: str):
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            for piece in WRONG_REPLY:
                time.sleep(self.delay)
                yield piece
        finally:
            with self.lock:
                self.active -= 1

    def complete(self, problem_text: str, n: int = 1) -> list[str]:
        return ["".join(WRONG_REPLY)] * n


@pytest.fixture
def model_profile(monkeypatch, tmp_path):
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "config.json").write_text("{}")
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(f"profiles:\n  stub-model:\n    backend: local\n    base_model: {weights}\n")
    monkeypatch.setenv("TUTOR_PROFILES_FILE", str(profiles))
    stub = StubModel()
    monkeypatch.setattr(tutor.session, "get_backend", lambda profile: stub)
    return stub


def test_wrong_model_answer_is_flagged_and_the_engine_solution_offered(model_profile) -> None:
    values = [md for md, _, _ in app.solve("y' + 2y = e^(-x)", "stub-model")]
    final = values[-1]
    assert "“stub-model”" in final
    assert "Not verified:" in final and "verdict-wrong" in final
    assert tutor.session.FALLBACK_LABEL in final
    # The engine's answer follows the label, and is the right one.
    assert "y = \\left(C + e^{x}\\right) e^{- 2 x}$$" in final.split(tutor.session.FALLBACK_LABEL, 1)[1]


def test_model_generation_is_serialized_per_device(model_profile) -> None:
    model_profile.delay = 0.15
    results: dict[int, list[str]] = {}

    def run(i: int) -> None:
        results[i] = [md for md, _, _ in app.solve("y' = 2y", "stub-model")]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 3
    assert model_profile.most == 1  # never two generations at once
    assert any("Waiting for the model" in v for values in results.values() for v in values)
    assert all("Not verified:" in values[-1] for values in results.values())
