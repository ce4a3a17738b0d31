"""Boundary value problems (tutor/engine/methods/boundary_value.py): the general solution, the
system for the constants and its three outcomes — one solution, none, infinitely many — with the
textbook table (``bench/textbook_set.json``, method ``boundary_value_problem``; an answer of
"no solution" there means the engine must prove that), every step checked, answers verified.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import sympy

from tutor.checker import check
from tutor.engine import solve
from tutor.engine.registry import get
from tutor.engine.solution import NO_SOLUTION
from tutor.engine.steps import check_step
from tutor.parser import parse

TEXTBOOK = json.loads((Path(__file__).parent.parent / "bench" / "textbook_set.json").read_text())["problems"]
TABLE = [p for p in TEXTBOOK if p["method"] == "boundary_value_problem"]
METHOD = get("boundary_value_problem")
x = sympy.Symbol("x")


def test_the_table_has_every_outcome():
    assert len(TABLE) >= 10
    answers = [r["answer"] for r in TABLE]
    assert "no solution" in answers and any(" C " in a for a in answers)


@pytest.mark.parametrize("row", TABLE, ids=[r["id"] for r in TABLE])
def test_derivation_every_step_checks_and_the_outcome_is_right(row):
    problem = parse(row["text"])
    assert METHOD.matches(problem)
    derivation = METHOD.derive(problem)
    for step in derivation.steps:
        assert step.title and (step.text or step.latex), step
        result = check_step(step, problem)
        assert result.ok, f"{step.title}: {result.reason}"
    if row["answer"] == "no solution":
        assert derivation.solutions == ()
        assert derivation.steps[-1].title == "The conditions contradict each other"
        return
    assert check(problem, derivation.answer(), timeout=30).verdict == "correct"
    expected = check(problem, row["answer"], timeout=30)
    assert expected.verdict == "correct", f"table answer: {expected.reason}"
    assert len(derivation.constants) == (1 if " C " in row["answer"] else 0)


def test_solve_reports_no_solution_as_a_proved_outcome():
    solution = solve("y'' + y = 0, y(0) = 0, y(pi) = 1", timeout=30)
    assert solution.status == NO_SOLUTION and solution.verified and solution.answer is None
    assert solution.method == "boundary_value_problem"
    assert "No solution" in solution.final_answer_text()
    assert solution.to_dict()["answer"] is None


def test_a_false_contradiction_does_not_check():
    problem = parse("y'' + y = 0, y(0) = 0, y(pi) = 1")
    last = METHOD.derive(problem).steps[-1]
    forged = dataclasses.replace(last, after=sympy.Eq(last.after.lhs, 5, evaluate=False))
    assert check_step(forged, problem).ok is False


def test_checker_accepts_the_family_for_infinitely_many_solutions():
    problem = "y'' + y = 0, y(0) = 0, y(pi) = 0"
    family = check(problem, "y = C sin x")
    assert family.verdict == "correct" and "infinitely many" in family.reason
    assert check(problem, "y = C cos x").verdict != "correct"   # does not meet y(0) = 0 for every C
    assert check(problem, "y = C sin x + 1").verdict == "wrong"   # not a solution of the equation
    assert check("y'' + y = 0, y(0) = 0, y(pi/2) = 1", "y = C sin x").verdict == "incomplete"  # C = 1 fixed


@pytest.mark.parametrize("text, expected", [
    ("y'' + y = 0, y(0) = 0, y(pi) = 0", True),
    ("y'' + y = 0, y(0) = 0, y'(0) = 1", False),        # an IVP
    ("y'' + k y = 0, y(0) = 0, y(1) = 0", True),        # an eigenvalue problem (the parameter k)
    ("y'' + k y = x, y(0) = 0, y(1) = 0", False),       # a parameter, but not an eigenvalue problem
    ("y'' + k y = 0, y(0) = 1, y(1) = 0", False),       # conditions not homogeneous
    ("y'' + y^2 = 0, y(0) = 0, y(1) = 0", False),       # nonlinear
])
def test_matches(text, expected):
    assert METHOD.matches(parse(text)) is expected


def test_generated_problems_are_verified():
    for difficulty in (1, 2, 3):
        for seed in range(3):
            practice = METHOD.generate(seed, difficulty)
            assert METHOD.matches(practice.problem), practice.problem.equation
            verdict = check(practice.problem, practice.answer, timeout=30)
            assert verdict.verdict == "correct", (seed, difficulty, practice.problem, verdict.reason)


# --------------------------------------------------------------------------- eigenvalue problems

n = sympy.Symbol("n", integer=True, positive=True)


@pytest.mark.parametrize("text, eigenvalue, eigenfunction", [
    ("y'' + k y = 0, y(0) = 0, y(pi) = 0", n ** 2, sympy.sin(n * x)),
    ("y'' + k y = 0, y(0) = 0, y(1) = 0", sympy.pi ** 2 * n ** 2, sympy.sin(sympy.pi * n * x)),
    ("y'' + k y = 0, y'(0) = 0, y(pi) = 0", (2 * n - 1) ** 2 / sympy.Integer(4), sympy.cos((2 * n - 1) * x / 2)),
    ("y'' + k y = 0, y(0) = 0, y'(2) = 0", sympy.pi ** 2 * (2 * n - 1) ** 2 / 16, sympy.sin(sympy.pi * (2 * n - 1) * x / 4)),
])
def test_eigenvalue_problems(text, eigenvalue, eigenfunction):
    problem = parse(text)
    assert METHOD.matches(problem)
    derivation = METHOD.derive(problem)
    for step in derivation.steps:
        result = check_step(step, problem)
        assert result.ok, f"{step.title}: {result.reason}"
    assert derivation.solutions == () and derivation.result == "eigenvalues"
    final = next(s for s in derivation.steps if s.title == "Eigenvalues and eigenfunctions")
    lam = problem.parameters[0]
    assert sympy.simplify(final.ode.lhs.coeff(problem.unknown) - eigenvalue) == 0
    assert sympy.simplify(final.after.rhs / eigenfunction).is_constant()
    titles = [s.title for s in derivation.steps]
    assert titles.count("No eigenvalue with ${} < 0$".format(sympy.latex(lam))) == 1


def test_neumann_conditions_have_the_eigenvalue_zero():
    problem = parse("y'' + k y = 0, y'(0) = 0, y'(pi) = 0")
    derivation = METHOD.derive(problem)
    assert all(check_step(s, problem).ok for s in derivation.steps)
    assert any(s.title == "$k = 0$ is an eigenvalue" for s in derivation.steps)
    assert "\\cos{\\left(n x \\right)}" in derivation.statement


def test_a_wrong_eigenvalue_does_not_check():
    problem = parse("y'' + k y = 0, y(0) = 0, y(pi) = 0")
    step = next(s for s in METHOD.derive(problem).steps if s.title == "Eigenvalues and eigenfunctions")
    wrong = dataclasses.replace(step, after=sympy.Eq(problem.unknown, sympy.sin(n * x / 2)),
                                ode=sympy.Eq(problem.unknown.diff(x, 2) + n ** 2 / 4 * problem.unknown, 0))
    assert check_step(wrong, problem).ok is False  # sin(n pi / 2) is not 0 for every n


def test_solve_reports_the_eigenvalues():
    from tutor.engine.solution import EIGENVALUES

    solution = solve("y'' + k y = 0, y(0) = 0, y(pi) = 0", timeout=30)
    assert solution.status == EIGENVALUES and solution.verified and solution.answer is None
    assert "n^{2}" in solution.final_answer_text() and "\\sin{\\left(n x \\right)}" in solution.final_answer_text()
