"""Model text is as untrusted as user text: code-shaped replies are read, judged and shown, never run.

A model (here a backend that streams fixed replies) answers with code in every section: Python
that would create a sentinel file if anything ``eval``-ed, ``exec``-ed, ``sympify``-ed or
``parse_expr``-ed it, and TeX that would read or write files if a TeX engine ran it.  Each reply
goes through the whole path a real one takes: the tutoring session (live section parsing, the
checker on the Final Answer, the engine's fallback) and the app's Solve handler (Markdown, KaTeX
checks, the export).  Afterwards the sentinel files do not exist, the answer is not accepted,
and the engine's verified solution is offered.  A positive control shows the payloads are live:
Python's own ``eval`` of one does create its sentinel.

(The tool-assisted protocol, where the model asks for computations, does not exist yet; when it
does, its malicious requests belong here too.)
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import tutor.session as session_module
from tutor.format import Sections, serialize
from tutor.profiles import load_profile
from tutor.session import TutorSession

PROBLEM = "y' = 2y"

PAYLOADS = [
    "__import__('pathlib').Path(r'{sentinel}').touch()",
    "exec(\"open(r'{sentinel}', 'w').write('ran')\")",
    "eval(compile(\"__import__('pathlib').Path(r'{sentinel}').touch()\", 'm', 'exec'))",
    "(lambda: __import__('os').open(r'{sentinel}', __import__('os').O_CREAT))()",
    "y = __import__('pathlib').Path(r'{sentinel}').touch() or C e^{{2x}}",
    "().__class__.__base__.__subclasses__() and __import__('pathlib').Path(r'{sentinel}').touch()",
    "Symbol('x').__class__.__init__.__globals__['__builtins__']['__import__']('pathlib').Path(r'{sentinel}').touch()",
    "\\immediate\\write18{{touch {sentinel}}} y = C e^{{2x}}",
    "\\input{{/etc/passwd}} \\openout1={sentinel} \\write1{{ran}}",
]


class ScriptedModel:
    """A backend that streams one fixed reply in small pieces (what a compromised or confused
    model server would send)."""

    def __init__(self, text: str):
        self.text = text

    def stream(self, problem_text: str) -> Iterator[str]:
        for i in range(0, len(self.text), 7):
            yield self.text[i:i + 7]

    def complete(self, problem_text: str, n: int = 1) -> list[str]:
        return [self.text] * n


def _reply(payload: str) -> str:
    """The payload in every section: as prose, inside math, as a code block, as the answer."""
    return serialize(Sections(
        classification=f"First order. {payload}",
        hint=f"Compute `{payload}` first.",
        steps=[f"$${payload}$$", f"```python\n{payload}\n```", f"$y = {payload}$"],
        final_answer=f"$y = {payload}$" if not payload.startswith(("y =", "\\")) else f"${payload}$",
    ))


@pytest.fixture
def scripted(monkeypatch):
    """Install a ScriptedModel for a local-kind profile (availability checks pass)."""
    def install(text: str):
        monkeypatch.setattr(session_module, "get_backend", lambda profile: ScriptedModel(text))
        profile = load_profile("local", base_model="org/any-model")
        monkeypatch.setattr(type(profile), "check_available", lambda self: None)
        return profile
    return install


def test_the_payloads_are_live_when_python_evaluates_them(tmp_path: Path) -> None:
    """Positive control: the sentinel mechanism works, so its absence below means something."""
    sentinel = tmp_path / "control"
    eval(PAYLOADS[0].format(sentinel=sentinel))  # noqa: S307 — our own constant, on purpose
    assert sentinel.exists()


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_a_code_shaped_reply_is_judged_not_run(payload: str, tmp_path: Path, scripted) -> None:
    sentinel = tmp_path / "ran"
    profile = scripted(_reply(payload.format(sentinel=sentinel)))
    result = TutorSession(profile, check_timeout=10, engine_timeout=10).run(PROBLEM)
    assert not sentinel.exists()
    assert result.verdict != "correct", result.model_verdict
    assert result.fallback_used and result.fallback.verified  # the engine's solution takes its place


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_the_app_shows_a_code_shaped_reply_without_running_it(payload: str, tmp_path: Path, scripted,
                                                             monkeypatch) -> None:
    import app

    sentinel = tmp_path / "ran"
    profile = scripted(_reply(payload.format(sentinel=sentinel)))
    original = app.load_profile
    monkeypatch.setattr(app, "load_profile", lambda name: profile if name == profile.name else original(name))
    updates = list(app.solve(PROBLEM, profile.name))
    markdown, view, _ = updates[-1]
    assert not sentinel.exists()
    assert view.done and view.fallback is not None  # the engine's verified solution is offered
    assert "Something went wrong" not in markdown
    app.export(view)  # the LaTeX and Markdown export of the same reply
    assert not sentinel.exists()
