"""The app through its real Gradio server and gradio_client: /parse, /solve (streaming), /check, /practice.

One server per module (launch costs seconds); every call goes over HTTP as a user's would.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tutor import check, parse

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def client():
    from gradio_client import Client

    from app import build_demo

    demo = build_demo()
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    try:
        yield Client(demo.local_url, verbose=False)
    finally:
        demo.close()


# ------------------------------------------------------------------ /parse (live preview)


def test_preview_shows_latex_order_and_conditions(client) -> None:
    out = client.predict("y'' + y = 0, y(0) = 1, y'(0) = 0", api_name="/parse")
    assert "$$y'' + y = 0" in out
    assert "order **2**" in out
    assert "y'\\left(0\\right) = 0" in out


def test_preview_reports_parse_errors_as_text(client) -> None:
    out = client.predict("y' = (x + 1", api_name="/parse")
    assert out.startswith("**Could not read this:**") and "never closed" in out
    assert "     ^" in out  # the caret under the unclosed bracket
    out = client.predict("__import__('os').system('id')", api_name="/parse")
    assert "Could not read this" in out


def test_an_overtaken_preview_is_dropped_and_the_api_is_always_answered() -> None:
    """The page numbers its preview requests; an older one that finishes late keeps what is shown."""
    import gradio as gr

    import app

    class Page:
        session_hash = "page-1"

    skip = gr.skip()
    assert "order **1**" in app.preview("y' = y")  # over the API: no number, always answered
    assert app.preview("y' = y", -3, Page()) == skip  # the page already knew a newer keystroke came

    def compute_while_keystroke_5_arrives() -> str:
        app._KEYSTROKES.ask(("page-1", "problem"), 5)
        return "the preview of keystroke 4"

    assert app._latest_only("problem", 4, Page(), compute_while_keystroke_5_arrives) == skip
    assert "order **1**" in app.preview("y' = y", 5, Page())
    assert app.preview("y' = ", 4, Page()) == skip  # arrives after keystroke 5: dropped at once
    assert "order **1**" in app.check_problem_preview("y' = y", 1, Page())  # each box counts on its own
    other = type("OtherPage", (), {"session_hash": "page-2"})()
    assert "order **1**" in app.preview("y' = y", 1, other)  # and so does each page


# ------------------------------------------------------------------ /solve


def test_solve_streams_sections_then_the_verified_badge(client) -> None:
    job = client.submit("y' + 2y = e^(-x), y(0) = 1", api_name="/solve")
    values = list(job)
    assert len(values) >= 3, values
    assert all(isinstance(v, str) for v in values)
    first, final = values[0], values[-1]
    assert "$$y' + 2 y = e^{- x}" in first and "Final Answer" not in first  # the problem, at once
    for heading in ("### Classification", "### Hint", "### Steps", "### Final Answer"):
        assert heading in final
    assert "Verified by substitution." in final and "verdict-correct" in final
    assert "$$y = e^{- x}$$" in final
    # Streamed values grow: each one starts as the previous one did (same problem line).
    assert len({v.split("\n", 1)[0] for v in values}) == 1
    # While it is worked on, a value ends with the status line; the finished one has none.
    status = re.compile(r'\n\n<div class="progress" role="status">.*?</div>$', re.DOTALL)
    assert all(status.search(v) for v in values[1:-1]) and not status.search(final)
    assert "Asking the symbolic engine for a verified solution" in values[1]
    assert len(final) >= max(len(status.sub("", v)) for v in values[:-1])


def test_solve_with_only_the_problem_text_uses_defaults(client) -> None:
    final = client.predict("y' = 2y", api_name="/solve")
    assert "Verified by substitution." in final and "C e^{2 x}" in final


def test_solve_parse_error_comes_back_as_a_message(client) -> None:
    out = client.predict("y' = sin(", api_name="/solve")
    assert out.startswith("**Could not read this:**")
    assert "Traceback" not in out


def test_solve_rejects_overlong_input_politely(client) -> None:
    out = client.predict("y' = " + "x + " * 1000 + "1", api_name="/solve")
    assert "too long" in out


def test_an_overlong_paste_reaches_the_app_and_gets_its_message(client) -> None:
    """A 3000-character paste was cut to 2000 by the box's own max_length, silently.

    The boxes now accept far more than the app's limit, so the app's own message (with the
    length) is what the student sees — in the live preview, from Solve and from Check.
    """
    import app

    boxes = {c["props"].get("elem_id"): c["props"] for c in client.config["components"] if c.get("type") == "textbox"}
    for elem_id in ("problem-box", "check-problem", "check-answer"):
        assert boxes[elem_id]["max_length"] >= 10 * app.MAX_INPUT_CHARS, elem_id
    paste = "y' = " + "x + " * 748 + "x^2"
    assert len(paste) == 3000 > app.MAX_INPUT_CHARS
    preview = client.predict(paste, api_name="/parse")
    assert "Too long" in preview and "3000 characters" in preview
    solved = client.predict(paste, api_name="/solve")
    assert "too long" in solved and "3000 characters" in solved and f"at most {app.MAX_INPUT_CHARS}" in solved
    checked = client.predict("y' = 2y", "y = " + "x + " * 748 + "1000", api_name="/check")
    assert "answer is too long" in checked and "3000 characters" in checked


def test_solve_refuses_profiles_that_cannot_run_here(client) -> None:
    # The selector's choices are the runnable profiles; Gradio rejects others with a readable error.
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict("y' = 2y", "no-such-profile", api_name="/solve")


def test_solve_step_by_step_mode_holds_back_steps_and_answer(client) -> None:
    out = client.predict("y'' + 9y = 0, y(0) = 1, y'(0) = 3", "symbolic", "step by step", api_name="/solve")
    assert "### Hint" in out and "press **Next step**" in out
    assert "Hidden until you have seen the steps" in out
    assert "Verified by substitution" not in out


# ------------------------------------------------------------------ /check


@pytest.mark.parametrize("problem, answer, verdict_words", [
    ("y' = 2y", "y = C e^{2x}", "Correct."),
    ("y' = 2y", "y = e^{2x}", "Incomplete."),
    ("y' = 2y, y(0) = 3", "y = 2e^{2x}", "Not a solution."),
    ("y'' + y = 0", "y = C_1 \\sin x + C_2 \\cos x", "Correct."),
])
def test_check_verdicts(client, problem: str, answer: str, verdict_words: str) -> None:
    out = client.predict(problem, answer, api_name="/check")
    assert verdict_words in out


def test_check_wrong_answer_points_without_solving(client) -> None:
    out = client.predict("y' + 2y = e^(-x)", "y = e^{-x} + C e^{2x}", api_name="/check")
    assert "Not a solution." in out and "**Where to look:**" in out
    assert "first-order linear" in out  # the strategy is named ...
    assert "### Steps" not in out  # ... but the solution is not given away
    asked = client.predict("y' + 2y = e^(-x)", "y = e^{-x} + C e^{2x}", True, api_name="/check")
    assert "### Steps" in asked and "### Final Answer" in asked


def test_check_unreadable_problem_is_a_message(client) -> None:
    out = client.predict("y' = (", "y = 1", api_name="/check")
    assert out.startswith("**Could not read this:**")


# ------------------------------------------------------------------ /practice


def test_practice_is_reproducible_by_seed(client) -> None:
    card_a, data_a = client.predict("separable", 2, 11, api_name="/practice")
    card_b, data_b = client.predict("separable", 2, 11, api_name="/practice")
    assert card_a == card_b and data_a == data_b
    assert data_a["method"] == "separable" and data_a["seed"] == 11 and data_a["verified"] is True
    assert data_a["steps"] and data_a["hint"] and data_a["answer"]
    # The problem text reads back as the same problem, and the answer checks out.
    problem = parse(data_a["problem"])
    assert check(problem, data_a["answer"]).verdict == "correct"
    _, data_c = client.predict("separable", 2, 12, api_name="/practice")
    assert data_c["problem"] != data_a["problem"]


def test_practice_defaults_and_random_method(client) -> None:
    card, data = client.predict(api_name="/practice")
    assert data["seed"] == 1 and data["problem"] in card
    _, again = client.predict("random", 1, 1, api_name="/practice")
    assert again["method"] == data["method"]


# ------------------------------------------------------------------ examples


def test_examples_cover_every_method_family_and_parse() -> None:
    from tutor.engine.registry import ids

    examples = json.loads((ROOT / "assets" / "examples.json").read_text(encoding="utf-8"))
    assert len(examples) >= 12
    # every method of the registry, and linear systems (their own method, outside it); besides them
    # Euler's method / a slope field (numerical) and an equation solved as a system
    families = {e["family"] for e in examples}
    assert set(ids()) | {"linear_system"} <= families <= set(ids()) | {"linear_system", "numerical", "as_system"}
    problems = [parse(e["text"]) for e in examples]
    assert sum(bool(p.ics) for p in problems) >= 3
    assert any("\\frac" in e["text"] for e in examples)  # LaTeX input is shown too
    assert len({e["label"] for e in examples}) == len(examples)


# ------------------------------------------------------------------ /solve with a model (issue 15)

MODEL_PROFILE = "test-model"  # a tiny local model of a test profiles file: always in the profile selector
#: A model reply to y' = -y that is wrong everywhere: order, linearity, method and answer.
WRONG_REPLY = """## Classification
Second order, nonlinear. Methods that apply: Bernoulli equation.

## Hint
This is a Bernoulli equation: substitute $v = y^{-1}$.

## Steps
1. **Substitute.** $v = y^{-1}$, so $v' = -y^{-2} y'$
2. **Integrate.** $v = e^{x} + C$

## Final Answer
$y = C e^{x}$
"""


class SlowReply:
    """A model backend that streams one fixed reply, a few characters every 0.05 s."""

    def __init__(self, text: str):
        self.text = text

    def stream(self, prompt):
        import time

        for i in range(0, len(self.text), 12):
            time.sleep(0.05)
            yield self.text[i:i + 12]

    def complete(self, prompt, n: int = 1) -> list[str]:
        return []


@pytest.fixture(scope="module")
def model_client(tmp_path_factory):
    """The app with a :data:`MODEL_PROFILE` profile (a tiny model built by training.tiny_model, named
    by a test ``TUTOR_PROFILES_FILE``) whose model is replaced by :data:`WRONG_REPLY`."""
    from gradio_client import Client

    import tutor.session
    from tiny_models import app_with_profiles_file, model_profiles_file

    real = tutor.session.get_backend
    with pytest.MonkeyPatch.context() as patch:
        app = app_with_profiles_file(patch, model_profiles_file(tmp_path_factory, MODEL_PROFILE))
        assert MODEL_PROFILE in app.RUNNABLE
        patch.setattr(tutor.session, "get_backend",
                      lambda profile: SlowReply(WRONG_REPLY) if profile.name == MODEL_PROFILE else real(profile))
        demo = app.build_demo()
        demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
        try:
            yield Client(demo.local_url, verbose=False)
        finally:
            demo.close()


def test_a_wrong_model_answer_is_replaced_by_the_engines_in_the_main_view(model_client) -> None:
    """Issue 15, items 1 and 5: while the model writes, its sections say "model — not yet
    checked" and a status line counts what it has written; when its answer is wrong, the
    engine's verified solution is the main view and the model's attempt is collapsed below it,
    labelled, with its contradicted classification and hint flagged."""
    values = list(model_client.submit("y' = -y", MODEL_PROFILE, api_name="/solve"))
    streaming = [v for v in values if "Generating the model's reply" in v]
    assert streaming, values
    assert any("### Classification <span class=\"tag tag-unchecked\">model — not yet checked</span>" in v
               for v in streaming)
    assert not any("Verified by substitution" in v for v in streaming)  # nothing unchecked looks checked
    final = values[-1]
    main, attempt = final.split('<details class="model-attempt">')
    assert "The model's answer is wrong" in main and "engine — checked" in main
    assert "$$y = C e^{- x}$$" in main and "$$y = C e^{x}$$" not in main and "Bernoulli" not in main
    assert main.index("### Final Answer") < main.index("Verified by substitution.")
    assert "The model’s unverified attempt (its answer is wrong)" in attempt
    assert "$$y = C e^{x}$$" in attempt and "verdict-wrong" in attempt
    assert attempt.count('class="flag"') == 2 and "the engine finds order 1" in attempt
    assert "Generating" not in final and 'class="progress"' not in final  # done: no status line
