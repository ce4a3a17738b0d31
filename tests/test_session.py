"""Tests for tutor.session: live parsing, verification as soon as the answer is complete,
verified best-of-n, the labelled engine fallback, and the ``solve --profile`` command line."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Iterator

import pytest

import tutor.session as session_module
from tiny_models import local_profile, one_torch_thread, tiny_model_dir  # noqa: F401 (autouse fixture)
from tutor.backends import BackendError
from tutor.cli import main
from tutor.format import Sections, serialize
from tutor.profiles import Generation, ModelUnavailable, load_profile
from tutor.session import FALLBACK_LABEL, TutorSession

RIGHT = Sections(classification="First order, linear.", hint="Separate the variables.",
                 steps=["$\\frac{dy}{y} = 2\\,dx$", "$\\ln|y| = 2x + C_0$"], final_answer="$y = C e^{2x}$")
WRONG = replace(RIGHT, final_answer="$y = e^{x}$")


class FakeBackend:
    """Streams fixed text in small pieces and records how far the consumer read."""

    def __init__(self, text: str, candidates: list[str] = (), fail_after: int | None = None):
        self.text = text
        self.candidates = list(candidates)
        self.fail_after = fail_after
        self.consumed = 0
        self.closed = False
        self.asked: list[int] = []

    def stream(self, problem_text: str) -> Iterator[str]:
        try:
            for i in range(0, len(self.text), 5):
                if self.fail_after is not None and i >= self.fail_after:
                    raise BackendError("the connection to the model server failed (ReadError)")
                self.consumed = i + 5
                yield self.text[i:i + 5]
        finally:
            self.closed = True

    def complete(self, problem_text: str, n: int = 1) -> list[str]:
        self.asked.append(n)
        return self.candidates[:n]


@pytest.fixture
def fake(monkeypatch):
    """Install a FakeBackend for a local-kind profile (availability checks pass)."""
    def install(text: str, candidates: list[str] = (), fail_after: int | None = None, n: int = 1):
        backend = FakeBackend(text, candidates, fail_after)
        monkeypatch.setattr(session_module, "get_backend", lambda profile: backend)
        profile = load_profile("local", base_model="org/any-model", generation=Generation(candidates=n))
        monkeypatch.setattr(type(profile), "check_available", lambda self: None)
        return backend, profile
    return install


def test_answer_is_verified_as_soon_as_it_is_complete(fake) -> None:
    text = serialize(RIGHT) + "\nSome closing remarks that take a while to stream out.\n"
    backend, profile = fake(text)
    updates = []
    for update in TutorSession(profile).stream("y' = 2y"):
        updates.append((update, backend.consumed))
    first = next(i for i, (u, _) in enumerate(updates) if u.verdict is not None)
    update, consumed_then = updates[first]
    assert update.verdict["verdict"] == "correct"
    assert consumed_then < len(text) - 20  # checked while the rest was still streaming
    assert update.sections.final_answer == "$y = C e^{2x}$"
    result = updates[-1][0].result
    assert result.verdict == "correct" and not result.fallback_used and backend.closed
    assert result.sections.extra.startswith("Some closing remarks")


def test_wrong_answer_falls_back_to_the_engine_labelled(fake) -> None:
    _, profile = fake(serialize(WRONG))
    updates = list(TutorSession(profile).stream("y' = 2y"))
    result = updates[-1].result
    assert result.verdict == "wrong" and result.model_verdict["reason"]
    assert result.fallback_used and result.fallback.verified
    assert any(u.fallback is not None and not u.done for u in updates)
    data = json.loads(json.dumps(result.to_dict(), default=str))
    assert data["fallback_used"] is True and data["model_verdict"]["verdict"] == "wrong"
    assert data["fallback"]["label"] == FALLBACK_LABEL and data["fallback"]["verified"] is True
    assert data["answer"]["latex"] == "y = e^{x}"  # the model's answer stays what it was
    assert "## Final Answer" in serialize(result.fallback.to_sections())


@pytest.mark.parametrize("final_answer, verdict, words", [
    ("$y = C e^{3t}$", "wrong", "The model's answer is written in $t$"),
    ("$y = (C e^{2x}$", "undecided", "I could not read the model's answer"),
])
def test_the_verdict_describes_the_models_answer(fake, final_answer: str, verdict: str, words: str) -> None:
    # The checker's reasons were written to "you" ("write it in terms of x", "check that every
    # bracket you open is closed") even when the answer checked was the model's.
    _, profile = fake(serialize(replace(RIGHT, final_answer=final_answer)))
    result = TutorSession(profile, fallback=False).run("y' = 2y")
    reason = result.model_verdict["reason"]
    assert result.verdict == verdict and words in reason, reason
    assert not any(word in reason.lower().split() for word in ("you", "your", "write")), reason


def test_no_final_answer_is_undecided(fake) -> None:
    _, profile = fake("## Classification\nFirst order.\n## Hint\nSeparate")
    result = TutorSession(profile, fallback=False).run("y' = 2y")
    assert result.model_verdict == {"verdict": "undecided", "reason": "The reply has no final answer."}
    assert not result.fallback_used


def test_broken_stream_is_reported_and_falls_back(fake) -> None:
    backend, profile = fake(serialize(RIGHT), fail_after=40)
    result = TutorSession(profile).run("y' = 2y")
    assert "ReadError" in result.error and result.verdict == "undecided"
    assert "stopped before giving a final answer" in result.model_verdict["reason"]
    assert result.fallback_used


def test_verified_best_of_n(fake) -> None:
    backend, profile = fake(serialize(WRONG), candidates=[serialize(WRONG), serialize(RIGHT)], n=3)
    result = TutorSession(profile).run("y' = 2y")
    assert backend.asked == [2]  # one batched request for the other n - 1 candidates
    assert result.candidates == 3 and result.chosen_candidate == 2
    assert result.verdict == "correct" and not result.fallback_used
    assert result.sections.final_answer == "$y = C e^{2x}$"


def test_first_correct_answer_samples_no_more(fake) -> None:
    backend, profile = fake(serialize(RIGHT), candidates=[serialize(WRONG)], n=4)
    result = TutorSession(profile).run("y' = 2y")
    assert backend.asked == [] and result.candidates == 1 and result.verdict == "correct"


def test_lmt_format_answers_are_extracted(fake, monkeypatch) -> None:
    backend, _ = fake("Separate: dy/y = 2 dx.\n[[Final Answer]]:\n$y = C e^{2x}$\n")
    profile = load_profile("lmt-tuning")
    monkeypatch.setattr(type(profile), "check_available", lambda self: None)
    result = TutorSession(profile).run("y' = 2y")
    assert result.sections.final_answer == "$y = C e^{2x}$" and result.verdict == "correct"


def test_stopping_the_session_stops_the_backend(fake) -> None:
    backend, profile = fake(serialize(RIGHT) * 3)
    stream = TutorSession(profile).stream("y' = 2y")
    next(stream)
    next(stream)
    stream.close()
    assert backend.closed and backend.consumed <= 15


def test_missing_model_is_an_error_not_a_switch(monkeypatch) -> None:
    monkeypatch.delenv("TUTOR_TINYLLAMA_ADAPTER", raising=False)
    monkeypatch.delenv("TUTOR_ADAPTER", raising=False)
    with pytest.raises(ModelUnavailable, match="needs its fine-tuned adapter"):
        next(TutorSession(load_profile("tinyllama-ode")).stream("y' = 2y"))


def test_symbolic_profile_streams_the_engine() -> None:
    result = TutorSession(load_profile("symbolic")).run("y' = 2y")
    assert result.verdict == "correct" and not result.fallback_used
    assert result.sections.final_answer == result.engine_solution.to_sections().final_answer
    data = result.to_dict()
    assert data["method"] == "separable" and data["backend"]["kind"] == "symbolic"


def test_real_model_session_and_cli(tmp_path_factory, capsys) -> None:
    """The taught tiny model: right on y' = 2y, wrong on y' = -y (then the engine's answer)."""
    model = tiny_model_dir(tmp_path_factory, taught=True)
    session = TutorSession(local_profile(model))
    updates = list(session.stream("y' = 2y"))
    assert "".join(u.piece for u in updates) == updates[-1].result.text
    assert updates[-1].result.verdict == "correct"

    code = main(["solve", "y' = -y", "--profile", "local", "--base-model", str(model), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0  # the engine's verified answer was shown
    assert data["backend"] == {"profile": "local", "kind": "local", "model": str(model), "adapter": None,
                               "quantization": "nf4"}
    assert data["model_verdict"]["verdict"] == "wrong" and data["fallback_used"] is True

    import torch

    torch.manual_seed(0)  # the extra candidate is sampled
    code = main(["solve", "y' = -y", "--profile", "local", "--base-model", str(model), "--candidates", "2",
                 "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["candidates"] == 2 and data["model_verdict"]["verdict"] == "wrong"  # a sample was tried too

    code = main(["solve", "y' = 2y", "--profile", "local", "--base-model", str(model), "--stream"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("## Classification\n") and "Model answer (local): correct" in out


def test_cli_reports_missing_model_and_engine_keys(capsys, monkeypatch) -> None:
    monkeypatch.delenv("TUTOR_PROFILE", raising=False)
    code = main(["solve", "y' = 2y", "--profile", "local", "--base-model", "/no/such/dir", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 3 and data["ok"] is False and data["missing"] == "/no/such/dir"
    code = main(["solve", "y' = 2y", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["backend"]["profile"] == "symbolic"
    assert data["model_verdict"]["verdict"] == "correct" and data["fallback_used"] is False


def test_canonical_letters_prompt_in_y_of_x_check_there_and_show_the_students_letters(fake) -> None:
    """A canonical-letters profile reads u(t) as y(x); the student sees u and t everywhere."""
    reply = serialize(Sections(classification="First order, linear.", hint="Separate $y$ and $x$.",
                               steps=["$\\frac{dy}{y} = 3\\,dx$"], final_answer="$y = 2 e^{3 x}$"))
    backend, profile = fake(reply)
    prompts = []
    original = backend.stream

    def stream(problem_text: str):
        prompts.append(problem_text)
        return original(problem_text)

    backend.stream = stream
    result = TutorSession(replace(profile, canonical_letters=True)).run("u'(t) = 3u, u(0) = 2")
    assert prompts == ["y' = 3 y,\\quad y(0) = 2"]
    assert result.verdict == "correct" and not result.fallback_used
    assert result.sections.final_answer == "$u = 2 e^{3 t}$"
    assert result.sections.hint == "Separate $u$ and $t$." and "$u = 2 e^{3 t}$" in result.text
    assert "$y = 2 e^{3 x}$" in result.model_text
    # without the setting the model reads what the student typed, as before
    backend, profile = fake(reply)
    assert TutorSession(profile).run("u'(t) = 3u, u(0) = 2").verdict != "correct"


# ------------------------------------------------------------------ issue 15: flags and progress

CONTRADICTED = replace(RIGHT, classification="Second order, nonlinear. Methods that apply: Bernoulli equation.",
                       hint="This is a Bernoulli equation: substitute $v = y^{-1}$.")


def test_a_classification_and_hint_the_engine_contradicts_are_flagged(fake) -> None:
    _, profile = fake(serialize(CONTRADICTED))
    updates = list(TutorSession(profile, fallback=False).stream("y' = 2y"))
    flags = updates[-1].result.flags
    assert set(flags) == {"Classification", "Hint"}, flags
    assert "second order" in flags["Classification"] and "order 1" in flags["Classification"]
    assert "nonlinear" in flags["Classification"] and "Bernoulli equation" in flags["Classification"]
    assert "Bernoulli" in flags["Hint"] and "Separable equation" in flags["Hint"]
    assert updates[-1].flags == flags and updates[-1].result.to_dict()["flags"] == flags
    # a section is flagged once it is finished, never while it may still change
    for update in updates:
        if "Classification" in update.flags:
            assert update.sections.is_complete("Classification")
    # a reply that agrees with the engine is not flagged
    _, profile = fake(serialize(RIGHT))
    assert TutorSession(profile, fallback=False).run("y' = 2y").flags == {}


class SlowBackend(FakeBackend):
    """Silent for a while before its first piece (a model loading), counting tokens as it goes."""

    def __init__(self, text: str, first_piece_after: float):
        super().__init__(text)
        self.first_piece_after = first_piece_after

    def stream(self, problem_text: str, stats=None) -> Iterator[str]:
        import time

        time.sleep(self.first_piece_after)
        for i, piece in enumerate(super().stream(problem_text)):
            if stats is not None:
                stats.tokens = 2 * (i + 1)  # two tokens per piece
            yield piece


def test_progress_is_reported_while_the_model_is_silent_checking_and_asking_the_engine(fake, monkeypatch) -> None:
    """Issue 15: 8-75 s without a sign of life.  Every slow phase now sends updates that say
    what is happening and for how long; the answer check and the engine are slowed down here."""
    import time

    _, profile = fake(serialize(WRONG))
    backend = SlowBackend(serialize(WRONG), first_piece_after=0.5)
    monkeypatch.setattr(session_module, "get_backend", lambda profile: backend)
    real_check, real_engine = TutorSession._check, TutorSession._engine

    def slow(real):
        def call(self, *args):
            time.sleep(0.4)
            return real(self, *args)
        return call

    monkeypatch.setattr(TutorSession, "_check", slow(real_check))
    monkeypatch.setattr(TutorSession, "_engine", slow(real_engine))
    updates = list(TutorSession(profile, check_timeout=7, engine_timeout=9, tick=0.1).stream("y' = 2y"))
    statuses = [u.status for u in updates if u.status is not None]
    phases = [s.phase for s in statuses]
    assert phases[0] == "starting" and phases.count("starting") >= 3  # ticks before the first piece
    assert all(u.text == "" for u in updates if u.status is not None and u.status.phase == "starting")
    assert "Waiting for the model's first words" in statuses[0].describe()
    generating = [s for s in statuses if s.phase == "generating"]
    assert generating and generating[-1].counted and generating[-1].tokens == 2 * len(serialize(WRONG)[::5])
    assert f"{generating[-1].tokens} tokens" in generating[-1].describe()
    checking = [s for s in statuses if s.phase == "checking" and s.what != "steps"]  # the steps: their own line
    assert len(checking) >= 2 and "Checking the model's answer" in checking[-1].describe()
    assert any("Checking the model's steps" in s.describe() for s in statuses if s.phase == "checking")
    assert "at most 7 s" in checking[-1].describe()
    engine = [s for s in statuses if s.phase == "engine"]
    assert len(engine) >= 2 and "Asking the symbolic engine" in engine[-1].describe() and "at most 9 s" in engine[-1].describe()
    # in that order, and the last update says it is done
    order = [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]
    assert order.index("starting") < order.index("generating") < order.index("checking") < order.index("engine")
    assert updates[-1].done and updates[-1].status.phase == "done" and updates[-1].result.fallback_used


def test_the_generating_status_estimates_what_is_left() -> None:
    from tutor.session import Progress

    status = Progress("generating", 10.0, tokens=200, counted=True, max_tokens=768, rate=20.0)
    assert status.describe() == ("Generating the model's reply: 200 tokens in 10 s (20.0/s); "
                                 "at most 568 more, about 28 s at this pace.")
    pieces = Progress("generating", 3.0, tokens=12, rate=4.0)
    assert pieces.describe() == "Generating the model's reply: 12 pieces of text in 3 s (4.0/s)."


def test_a_tools_reply_is_shown_as_maths_computed_by_sympy(fake, monkeypatch) -> None:
    reply = ("## Classification\nFirst order, linear.\n\n## Hint\nSeparate the variables.\n\n## Steps\n"
             "1. **Integrate the y side.** <<integrate: \\frac{1}{y}; y>><<= \\ln(y)>>\n"
             "2. **Integrate the x side.** <<integrate: 2; x>><<= 2 x>>\n\n## Final Answer\n$y = C e^{2 x}$\n")
    fake(reply)
    profile = load_profile("smollm2-ode-tools")
    monkeypatch.setattr(type(profile), "check_available", lambda self: None)
    updates = list(TutorSession(profile).stream("u'(t) = 2 u"))  # the student's letters: u(t)
    result = updates[-1].result
    assert result.verdict == "correct" and "<<" in result.model_text
    steps = result.sections.steps
    assert "<<" not in " ".join(steps) and "<<" not in result.text
    assert steps[0].endswith(" $\\int \\frac{1}{u}\\,du = \\ln(u)$ *(computed by SymPy)*")
    assert "\\int 2\\,dt = 2 t$" in steps[1]
    assert all("<<" not in u.text for u in updates)  # never a raw request, even mid-stream
