"""Autonomous first-order equations (tutor/engine/methods/autonomous.py): equilibria, stability,
the phase line, then the separable solution; the textbook table (``bench/textbook_set.json``,
method ``autonomous``), every step checked, every answer verified, generated problems verified.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import sympy

from tutor.checker import check
from tutor.engine.methods.autonomous import SEMISTABLE, STABLE, UNSTABLE, phase_line
from tutor.engine.registry import get
from tutor.engine.steps import check_step
from tutor.parser import parse

TEXTBOOK = json.loads((Path(__file__).parent.parent / "bench" / "textbook_set.json").read_text())["problems"]
TABLE = [p for p in TEXTBOOK if p["method"] == "autonomous"]
METHOD = get("autonomous")
Y = sympy.Symbol("y")


def test_the_table_has_at_least_ten_textbook_problems():
    assert len(TABLE) >= 10


@pytest.mark.parametrize("row", TABLE, ids=[r["id"] for r in TABLE])
def test_derivation_is_verified_and_every_step_checks(row):
    problem = parse(row["text"])
    assert METHOD.matches(problem)
    derivation = METHOD.derive(problem)
    for step in derivation.steps:
        assert step.title and (step.text or step.latex), step
        result = check_step(step, problem)
        assert result.ok, f"{step.title}: {result.reason}"
    titles = [s.title for s in derivation.steps]
    assert "Equilibria" in titles and "Phase line" in titles
    assert check(problem, derivation.answer(), timeout=30).verdict == "correct"
    expected = check(problem, row["answer"], timeout=30)
    assert expected.verdict == "correct", f"table answer: {expected.reason}"


@pytest.mark.parametrize("f, expected", [
    (Y * (1 - Y), [(0, UNSTABLE), (1, STABLE)]),
    (Y * (1 - Y) - sympy.Rational(3, 16), [(sympy.Rational(1, 4), UNSTABLE), (sympy.Rational(3, 4), STABLE)]),
    ((Y - 1) ** 2, [(1, SEMISTABLE)]),
    (-(Y - 2) ** 2, [(2, SEMISTABLE)]),
    (Y * (Y - 1) * (Y + 2), [(-2, UNSTABLE), (0, STABLE), (1, UNSTABLE)]),
    (Y ** 3, [(0, UNSTABLE)]),  # f'(0) = 0, but the signs decide
])
def test_equilibria_and_stability(f, expected):
    line = phase_line(f, Y)
    assert [(e.value, e.stability) for e in line.equilibria] == expected


@pytest.mark.parametrize("text, expected", [
    ("y' = y(1 - y)", True),
    ("y' = 2y", False),             # linear: the exponential model, separable
    ("y' = 1 + y^2", False),        # no equilibrium
    ("y' = x y (1 - y)", False),    # not autonomous
    ("y' = r y (1 - y)", False),    # a parameter: the stability depends on its sign
    ("y' = sin(y)", False),         # infinitely many equilibria
    ("y' = y^5 - y + 1", False),    # a real root without radicals
    ("y'' = y(1 - y)", False),      # second order
])
def test_matches(text, expected):
    assert METHOD.matches(parse(text)) is expected


def test_a_wrong_stability_claim_fails_its_check():
    problem = parse("y' = y(1 - y)")
    steps = METHOD.derive(problem).steps
    stability = next(s for s in steps if s.title.startswith("Stability") and "= 1" in s.title)
    wrong = dataclasses.replace(stability, after=sympy.Eq(stability.after.lhs, 1, evaluate=False))
    assert check_step(wrong, problem).ok is False
    phase = next(s for s in steps if s.title == "Phase line")
    flipped = dataclasses.replace(phase, after=sympy.Eq(phase.after.lhs, -phase.after.rhs, evaluate=False))
    assert check_step(flipped, problem).ok is False


def test_long_term_behaviour_of_an_ivp():
    derivation = METHOD.derive(parse("y' = y(1 - y) - 3/16, y(0) = 1/2"))
    last = derivation.steps[-1]
    assert last.title == "Long-term behaviour" and r"\frac{3}{4}" in last.latex


def test_solve_picks_the_phase_line_for_the_logistic_equation():
    from tutor.engine import solve

    solution = solve("dP/dt = P(1 - P/10), P(0) = 2", timeout=30)
    assert solution.verified and solution.method == "autonomous"
    assert solution.classification.types[:2] == ("autonomous", "separable")
    assert solve("y' = 2y", timeout=30).method == "separable"


def test_generated_problems_are_verified():
    for difficulty in (1, 2, 3):
        for seed in range(3):
            practice = METHOD.generate(seed, difficulty)
            assert METHOD.matches(practice.problem), practice.problem.equation
            verdict = check(practice.problem, practice.answer, timeout=30)
            assert verdict.verdict == "correct", (seed, difficulty, practice.problem.equation, verdict.reason)
