"""Equations that factor: each factor solved on its own (tutor/engine/methods/factored.py)."""
from __future__ import annotations

import pytest
import sympy

from tutor.checker import check
from tutor.engine import solve
from tutor.engine.methods.factored import factors
from tutor.parser import parse


@pytest.mark.parametrize("text, expected", [
    ("(y'' - e^y)(y'' + e^y) = 0", 2),        # SymPy's fact_11: dsolve times out on it
    ("(x^2 y + y')(y'' + y) = 0", 2),         # fact_04: different orders
    ("(y'^2 - 1)(y'^2 - 4) = 0", 4),          # fact_05: four straight-line families
    ("(y' - y)(y' + y) = 0", 2),
])
def test_a_factored_equation_is_solved_factor_by_factor_with_checked_steps(text, expected):
    problem = parse(text)
    assert len(factors(problem)) == len(set(factors(problem))) == expected
    solution = solve(problem, timeout=40, check_steps=True)
    assert solution.method == "factored" and solution.verified and solution.verdict == "correct"
    assert len(solution.answer) == expected
    assert solution.steps[0].title == "Factor the equation"
    assert sum(step.title.startswith("Factor ") for step in solution.steps) == len(factors(problem)) + 1
    assert all(c.ok for c in solution.step_checks), [c.reason for c in solution.step_checks if not c.ok]
    # each family on its own solves the equation (the checker, independently of the engine)
    for answer in solution.answer:
        assert check(problem, answer, timeout=30).verdict in ("correct", "incomplete")


def test_a_factor_without_a_derivative_gives_its_algebraic_solutions():
    problem = parse("(y^2 - 1)(y'^2 - 1) = 0")
    solution = solve(problem, timeout=30, check_steps=True)
    assert solution.method == "factored" and solution.verified and all(c.ok for c in solution.step_checks)
    y = problem.unknown
    assert {sympy.Eq(y, 1), sympy.Eq(y, -1)} <= set(solution.answer)
    assert any(step.title.endswith("no derivative") for step in solution.steps)


@pytest.mark.parametrize("text", ["y' = y", "x y' - y = 0", "y'' + y = 0, y(0) = 1, y'(0) = 0",
                                  "y' y + y = 0, y(0) = 1"])
def test_equations_that_do_not_factor_or_have_conditions_are_left_alone(text):
    assert factors(parse(text)) is None


def test_factoring_comes_after_the_textbook_methods():
    # y' y + y = 0 is separable (dividing by y, which the steps say): the textbook method stays first
    solution = solve(parse("y y' + y = 0"), timeout=30)
    assert solution.method == "separable" and solution.verified
