"""The Laplace transform method (tutor/engine/methods/laplace.py): the textbook table, every step
checked, every answer verified by the checker (in the sense of distributions for steps and
impulses), generated practice problems verified, the method offered first for step/impulse
forcing and available through the method selector for any constant-coefficient IVP.

The table lives in ``bench/textbook_set.json`` (method ``laplace_transform``), shared with
``bench/engine.py``; each expected answer there was written by hand from the textbook's table.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy

from tutor.checker import check
from tutor.engine.base import CannotDerive
from tutor.engine.methods.laplace import forcing_pieces
from tutor.engine.registry import get
from tutor.engine.steps import Check, check_step
from tutor.parser import parse

TEXTBOOK = json.loads((Path(__file__).parent.parent / "bench" / "textbook_set.json").read_text())["problems"]
TABLE = [p for p in TEXTBOOK if p["method"] == "laplace_transform"]
METHOD = get("laplace_transform")
t = sympy.Symbol("t")


def test_the_table_has_at_least_ten_textbook_problems():
    assert len(TABLE) >= 10
    assert any("delta" in p["text"] for p in TABLE) and any("u(t" in p["text"] for p in TABLE)


@pytest.mark.parametrize("row", TABLE, ids=[r["id"] for r in TABLE])
def test_derivation_is_verified_and_every_step_checks(row):
    problem = parse(row["text"])
    assert METHOD.matches(problem)
    derivation = METHOD.derive(problem)
    for step in derivation.steps:
        assert step.title and (step.text or step.latex), step
        result = check_step(step, problem)
        assert result.ok, f"{step.title}: {result.reason}"
    assert sum(s.check != Check.NOTE for s in derivation.steps) == len(derivation.steps)  # every step checked
    assert check(problem, derivation.answer(), timeout=30).verdict == "correct"
    expected = check(problem, row["answer"], timeout=30)
    assert expected.verdict == "correct", f"table answer: {expected.reason}"
    assert derivation.constants == ()


def test_steps_read_like_the_textbook():
    problem = parse("y'' + 3y' + 2y = t u(t - 1), y(0) = 0, y'(0) = 1")
    derivation = METHOD.derive(problem)
    titles = [s.title for s in derivation.steps]
    assert titles[0] == "Transform the left side"
    assert "Write the step at $t = 1$ in shifted form" in titles  # t = (t - 1) + 1
    assert "Put in the initial values" in titles and "Solve for Y(s)" in titles
    assert any(t_.startswith("Partial fractions") for t_ in titles)
    assert any(t_.startswith("Second shift theorem") for t_ in titles)
    text = " ".join(s.text + s.latex for s in derivation.steps)
    assert r"e^{-as}" in text and r"\mathcal{U}\left(t - 1\right)" in derivation.steps[-1].latex
    assert r"\left(s^{2} + 3 s + 2\right) Y(s) - s y(0) - y'(0) - 3 y(0)" in derivation.steps[0].latex


def test_a_wrong_table_entry_fails_its_step_check():
    """The transform steps are real identities: a wrong transform pair is caught."""
    import dataclasses

    problem = parse("y'' + y = u(t - 2), y(0) = 0, y'(0) = 0")
    step = next(s for s in METHOD.derive(problem).steps if s.title.startswith("Transform the step"))
    wrong = dataclasses.replace(step, after=sympy.Eq(step.after.lhs, sympy.exp(-2 * sympy.Symbol("s")) / sympy.Symbol("s") ** 2,
                                                     evaluate=False))
    assert check_step(wrong, problem).ok is False
    final = METHOD.derive(problem).steps[-1]
    shifted_wrong = dataclasses.replace(final, after=sympy.Eq(problem.unknown, (1 - sympy.cos(t)) * sympy.Heaviside(t - 2)))
    assert check_step(shifted_wrong, problem).ok is False  # the second shift theorem forgotten


@pytest.mark.parametrize("text, expected", [
    ("y'' + y = u(t - 1), y(0) = 0, y'(0) = 0", True),
    ("y' + 2y = delta(t - 3), y(0) = 1", True),
    ("y'' + y = cos(t), y(0) = 0, y'(0) = 0", False),   # no step or impulse: undetermined coefficients first
    ("y'' + y = u(t - 1)", False),                      # no initial values: not an IVP
    ("y'' + y = u(t - 1), y(1) = 0, y'(1) = 0", False),  # initial values not at 0
    ("y'' + t y = u(t - 1), y(0) = 0, y'(0) = 0", False),  # variable coefficient
    ("y'' + y = delta(t), y(0) = 0, y'(0) = 0", False),  # impulse at the initial point itself
    ("y'' + y = tan(t) u(t - 1), y(0) = 0, y'(0) = 0", False),  # no table entry
])
def test_matches(text, expected):
    assert METHOD.matches(parse(text)) is expected


def test_method_selector_solves_any_constant_coefficient_ivp():
    from tutor.engine import solve

    solution = solve("y'' - 3y' + 2y = 4 e^(3t), y(0) = 1, y'(0) = 0", timeout=30, method="laplace_transform",
                     check_steps=True)
    assert solution.verified and solution.method == "laplace_transform"
    assert all(c.ok for c in solution.step_checks)
    with pytest.raises(CannotDerive):
        METHOD.derive(parse("y'' + y = u(t - 1)"))


def test_solve_offers_laplace_first_for_step_forcing():
    from tutor.engine import solve

    solution = solve("y'' + 4y = u(t - pi) - u(t - 2pi), y(0) = 0, y'(0) = 0", timeout=30)
    assert solution.verified and solution.method == "laplace_transform"
    assert solution.classification.types[0] == "laplace_transform"
    assert r"\mathcal{U}" in solution.answer_latex


def test_forcing_pieces_group_by_kind_and_shift():
    pieces = forcing_pieces(3 + t * sympy.Heaviside(t - 1) - sympy.Heaviside(t - 1) + 2 * sympy.DiracDelta(t - 2), t)
    assert [(p.kind, p.shift, p.expression) for p in pieces] == [
        ("plain", 0, 3), ("step", 1, t - 1), ("impulse", 2, 2)]
    assert forcing_pieces(sympy.Heaviside(t ** 2 - 1), t) is None


def test_generated_problems_are_verified():
    for difficulty in (1, 2, 3):
        for seed in range(3):
            practice = METHOD.generate(seed, difficulty)
            assert METHOD.matches(practice.problem), practice.problem.equation
            verdict = check(practice.problem, practice.answer, timeout=30)
            assert verdict.verdict == "correct", (seed, difficulty, practice.problem.equation, verdict.reason)
    assert METHOD.generate(2, 2).problem == METHOD.generate(2, 2).problem


# --------------------------------------------------------------------------- piecewise forcing written as cases


@pytest.mark.parametrize("text", [
    "y'' + y = {1 if 0 <= t < 2; 0 if t >= 2}, y(0) = 0, y'(0) = 0",
    "y'' + y = f(t), f(t) = sin t for 0 <= t < pi, 0 for t >= pi, y(0) = 0, y'(0) = 0",
    "y' + 2y = f(t), f(t) = 3 if t < 1, 0 otherwise, y(0) = 1",
    r"\frac{dy}{dt} + y = \begin{cases} t & \text{if } 0 \leq t < 1 \\ 1 & \text{if } t \geq 1 \end{cases}, \quad y(0) = 0",
])
def test_piecewise_forcing_written_as_cases_is_solved_with_checked_steps(text):
    problem = parse(text)
    assert METHOD.matches(problem)
    derivation = METHOD.derive(problem)
    for step in derivation.steps:
        result = check_step(step, problem)
        assert result.ok, f"{step.title}: {result.reason}"
    assert check(problem, derivation.answer(), timeout=30).verdict == "correct"
