"""Per-step ticks and crosses for a model's derivation (tutor/model_steps.py, issue 14).

Against the real checker and engine: a real reply of the shipped tools model (from its
evaluation) gets a cross exactly where it goes wrong, the engine's own verified derivations
(written as the model is trained to write them) get no cross, and the session and the page
carry the marks.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from tutor.format import compact_sections, parse_sections
from tutor.model_steps import HOLDS, UNCHECKED, WRONG, check_model_step, check_model_steps, first_wrong, step_relation
from tutor.parser import parse

# The shipped smollm2-ode-tools adapter's greedy reply to a test problem (assets/models/
# smollm2-ode-tools/eval.json, record separable-100001-2-plain): right up to step 6, then it
# "renames the constant" into the wrong family and carries the error to the end.
SEPARABLE_REPLY = r"""## Classification
First order, degree 1, nonlinear. Methods that apply: Separable equation.

## Hint
The right side factors as $g(x)\,h(y)$: separate the variables.

## Steps
1. **Separate the variables.** Divide by $y$ and write $dy$ and $dx$ on separate sides. $\frac{1}{y}\,dy = x\,dx$
2. **Integrate both sides.** $\int \frac{1}{y}\, dy = \int x\, dx$
3. **Integrate the y side.** <<integrate: \frac{1}{y}; y>><<= \ln(y)>>
4. **Integrate the x side.** <<integrate: x; x>><<= \frac{x^2}{2}>>
5. **General solution (implicit).** $\ln(y) = C + \frac{x^2}{2}$
6. **Solve for y.** Solve for $y$. <<solve: \ln(y) = C + \frac{x^2}{2}; y>><<= y = e^{C + \frac{x^2}{2}}>>
7. **Rename the constant.** $y = C e^{x}$
8. **Solutions lost on the way.** Check them separately: $y = 0$. $y = 0$
9. **Use the initial condition.** Substitute $y(1) = 1$ into the general solution. $\C = 0$
10. **Solve for the constant.** <<constants: y = C e^{x}; y(1) = 1>><<= y = e^{x - 1}>>

## Final Answer
$y = e^{x - 1}$
"""


def test_a_real_model_reply_is_crossed_where_it_goes_wrong():
    problem = parse("y' = x*y, y(1) = 1")
    steps = parse_sections(SEPARABLE_REPLY, done=True).steps
    marks = check_model_steps(problem, steps)
    statuses = [m.status for m in marks]
    assert statuses == [HOLDS, UNCHECKED, UNCHECKED, UNCHECKED, HOLDS, HOLDS, WRONG, HOLDS, UNCHECKED, WRONG]
    assert marks[0].reason == "the equation in an equivalent form"           # dy/y = x dx
    assert marks[2].reason == marks[3].reason == "computed by SymPy"       # antiderivatives: no relation in y
    assert marks[5].relation == r"y = e^{C + \frac{x^2}{2}}"               # the SymPy answer is what is checked
    assert "This step's formula" in marks[6].reason or "Substituting" in marks[6].reason
    assert first_wrong(marks) == 7
    assert first_wrong([m.to_dict() for m in marks]) == 7


@pytest.mark.parametrize("relation, status", [
    (r"y' + \frac{3}{x}\,y = 5 x", WRONG),         # another equation
    (r"y\,dy = y^2\,dx", WRONG),
    (r"y' = x y", HOLDS),
    (r"\mu = e^{2x}", UNCHECKED),                   # a helper quantity
    (r"r^2 - 4 = 0", UNCHECKED),                    # a characteristic equation
    (r"C_1 = 1", UNCHECKED),                        # a constant's value
    (r"y_h = C e^{x}", UNCHECKED),                  # a named part, not y itself
    (r"M_y - N_x = \frac{2 y}{x}", UNCHECKED),      # exactness test: helper quantities, not the solution
    (r"y = A e^{x^2/2}", HOLDS),                    # the constants a derivation names
    (r"y = " + "x + " * 200 + "1", UNCHECKED),      # too long to read
])
def test_what_is_checked_and_what_is_not(relation, status):
    problem = parse("y' = x*y")
    assert check_model_step(problem, f"**Step.** ${relation}$").status == status


def test_the_relation_is_the_last_formula_or_sympy_answer():
    assert step_relation(r"From $y = 1$ we get $y = 2$.") == ("y = 2", "model")
    assert step_relation(r"$y = 1$ <<solve: y - 2 = 0; y>><<= y = 2>>") == ("y = 2", "sympy")
    assert step_relation(r"<<integrate: x; x>><<= \frac{x^2}{2}>>") == (None, "computed")
    assert step_relation(r"<<integrate: x; x>><<= ? could not read>>") == (None, "")
    assert step_relation(r"Note that $x > 0$ here.") == (None, "")


def test_a_malicious_step_executes_nothing(tmp_path):
    sentinel = tmp_path / "pwned"
    code = f"__import__('os').system('touch {sentinel}')"
    for step in (f"$y = {code}$", f"<<solve: {code} = 0; y>><<= y = {code}>>", f"$y' = {code}$"):
        assert check_model_step(parse("y' = y"), step).status == UNCHECKED
    assert not sentinel.exists()


# One textbook problem per family the model is trained on: the engine's verified derivation,
# written as the training targets are (concise, compact, and in the tools format), never gets a
# cross; most families have steps that get a tick.
ENGINE_PROBLEMS = [
    "y' = x*y", "y' + 2y = e^x, y(0) = 1", "(2x + y) dx + (x + 2y) dy = 0", "y' = (x^2 + y^2)/(x*y)",
    "y' + y = x*y^2", "y'' - 3y' + 2y = 0", "y'' + y = x, y(0) = 1, y'(0) = 0", "y'' + y = tan(x)",
    "x^2 y'' - 2x y' + 2y = 0", "y' = y^2 - 4", "y'' + 4y = 0, y(0) = 0, y(pi/4) = 1",
]


@pytest.mark.parametrize("text", ENGINE_PROBLEMS)
def test_the_engines_own_derivations_get_no_cross(text):
    from tutor.engine import solve
    from tutor.tools import tool_sections

    problem = parse(text)
    solution = solve(problem, timeout=30)
    assert solution.verified, solution.message
    plain = compact_sections(solution.to_sections(concise=True))
    tools, _ = tool_sections(solution)
    for sections in (plain, tools):
        marks = check_model_steps(problem, sections.steps)
        wrong = [(n, sections.steps[n - 1], m.reason) for n, m in enumerate(marks, 1) if m.status == WRONG]
        assert not wrong, wrong
    assert any(m.status == HOLDS for m in check_model_steps(problem, plain.steps)) or problem.order > 1


# ------------------------------------------------------------------ the session and the page

def _fake_session(monkeypatch, reply: str):
    import tutor.session as session_module
    from tutor.profiles import load_profile

    class Backend:
        def stream(self, prompt: str):
            import time

            for i in range(0, len(reply), 7):
                time.sleep(0.01)
                yield reply[i:i + 7]

        def complete(self, prompt: str, n: int = 1):
            return []

    monkeypatch.setattr(session_module, "get_backend", lambda profile: Backend())
    profile = replace(load_profile("local", base_model="org/any-model"), canonical_letters=True)
    monkeypatch.setattr(type(profile), "check_available", lambda self: None)
    return profile


def test_the_session_marks_each_step_while_streaming_and_in_the_result(monkeypatch):
    from tutor.session import TutorSession

    plain = SEPARABLE_REPLY.replace("<<integrate: \\frac{1}{y}; y>><<= \\ln(y)>>", "$\\ln(y)$").replace(
        "<<integrate: x; x>><<= \\frac{x^2}{2}>>", "$\\frac{x^2}{2}$").replace(
        "<<solve: \\ln(y) = C + \\frac{x^2}{2}; y>><<= y = e^{C + \\frac{x^2}{2}}>>", "$y = e^{C + x^2/2}$").replace(
        "<<constants: y = C e^{x}; y(1) = 1>><<= y = e^{x - 1}>>", "$y = e^{x - 1}$")
    profile = _fake_session(monkeypatch, plain)
    updates = list(TutorSession(profile, fallback=False).stream("u'(t) = t*u, u(1) = 1"))
    # marks arrive while the reply streams, one per finished step
    live = [(u.step_marks, len(u.text)) for u in updates if not u.done and any(u.step_marks)]
    assert live and len(live[0][0]) < 10 and live[0][1] < len(updates[-1].result.text)
    result = updates[-1].result
    statuses = [m["status"] for m in result.step_marks]
    assert statuses[0] == "holds" and statuses[6] == "wrong" and statuses[9] == "wrong"
    assert len(statuses) == len(result.sections.steps) == 10
    assert result.to_dict()["step_marks"][6]["status"] == "wrong"
    # the reason is in the student's letters, as the whole reply is
    assert "t" in result.step_marks[6]["reason"] and "x" not in result.step_marks[6]["reason"].replace("\\exp", "")


def test_the_page_shows_ticks_crosses_and_where_the_attempt_went_wrong():
    from tutor import render

    sections = parse_sections(SEPARABLE_REPLY, done=True)
    marks = tuple(m.to_dict() for m in check_model_steps(parse("y' = x*y, y(1) = 1"), sections.steps))
    view = render.SolveView("y' = x y", sections=sections, verdict={"verdict": "wrong", "reason": "no"},
                            done=True, source="model", step_marks=marks,
                            fallback=sections, fallback_label="The engine's solution")
    md = render.solve_markdown(view)
    assert "goes wrong at step 7 (marked ✗)" in md
    attempt = md[md.index("model-attempt"):]
    assert attempt.count('class="step-mark step-holds"') == 4
    assert attempt.count('class="step-mark step-wrong"') == 2
    assert "model — formulas checked where readable" in attempt
    # the engine's own solution above carries no model marks
    assert "step-mark" not in md[:md.index("model-attempt")]
    # a step without a checkable formula has no mark at all
    assert render.step_mark_html({"status": "unchecked", "reason": "computed by SymPy"}) == ""


def test_a_runaway_reply_has_only_its_first_steps_checked(monkeypatch):
    from tutor.model_steps import MAX_CHECKED_STEPS
    from tutor.session import TutorSession

    steps = "".join(f"{n}. **Step.** $y = C e^{{x^2/2}}$\n" for n in range(1, MAX_CHECKED_STEPS + 6))
    reply = f"## Classification\nFirst order.\n\n## Hint\nSeparate.\n\n## Steps\n{steps}\n## Final Answer\n$y = C e^{{x^2/2}}$\n"
    result = TutorSession(_fake_session(monkeypatch, reply), fallback=False).run("y' = x*y")
    statuses = [m["status"] for m in result.step_marks]
    assert len(statuses) == MAX_CHECKED_STEPS + 5
    assert statuses[:MAX_CHECKED_STEPS] == ["holds"] * MAX_CHECKED_STEPS
    assert statuses[MAX_CHECKED_STEPS:] == ["unchecked"] * 5
