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


def test_cancelling_a_request_stops_the_model_and_frees_the_device(model_profile, monkeypatch) -> None:
    """What the Stop button does: Gradio cancels the event and closes the handler's generator."""
    from gradio_client import Client

    model_profile.delay = 0.4
    monkeypatch.setattr(app, "RUNNABLE", ["symbolic", "stub-model"])
    pieces = WRONG_REPLY * 10  # a long reply: 40 pieces, 16 s if nobody stops it
    streamed: list[str] = []

    def slow_stream(problem_text: str):
        model_profile.active += 1
        try:
            for piece in pieces:
                time.sleep(model_profile.delay)
                streamed.append(piece)
                yield piece
        finally:
            model_profile.active -= 1

    monkeypatch.setattr(model_profile, "stream", slow_stream)
    demo = app.build_demo()
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    try:
        job = Client(demo.local_url, verbose=False).submit("y' = 2y", "stub-model", api_name="/solve")
        deadline = time.monotonic() + 30
        while len(streamed) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(streamed) >= 3 and model_profile.active == 1
        job.cancel()
        deadline = time.monotonic() + 15
        while model_profile.active and time.monotonic() < deadline:
            time.sleep(0.05)
        assert model_profile.active == 0  # the generator was closed: generation stopped
        assert len(streamed) < len(pieces)
        assert app._MODEL_DEVICE.acquire(timeout=5)  # and the device is free for the next request
        app._MODEL_DEVICE.release()
    finally:
        demo.close()
