"""The numerical answer when no closed form exists (tutor/engine/numerical.py and solve()'s fallback):
accurate against known solutions in both directions, Euler's method as the textbook runs it, and
always labelled as numerical, never verified.
"""
from __future__ import annotations

import math

import pytest

from tutor.bounded import run_bounded
from tutor.engine import solve
from tutor.engine.numerical import numerical_solution
from tutor.engine.solution import NUMERICAL
from tutor.parser import parse


def _numerical(text: str, **kwargs):
    return run_bounded(numerical_solution, parse(text), timeout=30, **kwargs)


def test_first_order_against_the_exact_solution_both_ways():
    result = _numerical("y' = y, y(0) = 1")
    assert [x for x, _ in result.points] == [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
    for x, y in result.points:
        assert abs(y - math.exp(x)) < 1e-8 * math.exp(x), x
    # Euler with h = 0.1 from 0 to 1 is (1.1)^10 exactly: the textbook's hand computation
    x1, y1, error = next(e for e in result.euler if e[0] == 1.0)
    assert abs(y1 - 1.1 ** 10) < 1e-12 and abs(error - (math.e - 1.1 ** 10)) < 1e-8


def test_second_order_and_the_step_the_student_picks():
    coarse = _numerical("y'' = -y, y(0) = 0, y'(0) = 1", euler_step=0.1)
    fine = _numerical("y'' = -y, y(0) = 0, y'(0) = 1", euler_step=0.05)
    for x, y in coarse.points:
        assert abs(y - math.sin(x)) < 1e-8, x
    error = {x: e for x, _, e in coarse.euler}
    finer = {x: e for x, _, e in fine.euler}
    assert 0.35 < finer[2.0] / error[2.0] < 0.65  # first order: half the step, about half the error


def test_solve_answers_numerically_when_there_is_no_closed_form():
    solution = solve("y' = sin(x y), y(0) = 1", timeout=15)
    assert solution.status == NUMERICAL and not solution.verified and solution.answer is None
    assert "numerical" in solution.message and "not verified" in solution.message
    titles = [s.title for s in solution.steps]
    assert titles == ["No closed form found", "Numerical solution", "Euler's method with h = 0.1"]
    values = dict(solution.numerical.points)
    assert values[0.0] == 1.0
    for x in (0.5, 1.0, 1.5):  # f(-x, y) = -f(x, y): the solution is even
        assert abs(values[x] - values[-x]) < 1e-8
    data = solution.to_dict()
    assert data["status"] == NUMERICAL and data["answer"] is None and data["numerical"]["points"]


def test_without_an_initial_condition_there_is_no_numerical_answer():
    solution = solve("y' = sin(x*y) + x", timeout=6)
    assert solution.status != NUMERICAL and solution.numerical is None


@pytest.mark.parametrize("text", ["y' = y, y(0) = k", "y' = y, y(0) = 1, y(1) = 2"])
def test_not_a_plain_ivp_gives_none(text):
    assert _numerical(text) is None


# --------------------------------------------------------------------------- Euler's method asked for


@pytest.mark.parametrize("text, step, target", [
    ("Use Euler's method with h = 0.1 to approximate y(1) for y' = y, y(0) = 1", 0.1, 1.0),
    ("y' = x + y, y(0) = 1, by Euler's method, step size 0.05", 0.05, None),
    ("y' = x + y, y(0) = 1; using the Euler method with a step of 0.25", 0.25, None),
    ("Estimate y(0.5) for y' = 2xy, y(0) = 1 using Euler's method, h = 0.1", 0.1, 0.5),
    (r"y' = y,\ y(0) = 1 \text{ by Euler's method with } \Delta x = 0.2", 0.2, None),
    ("y' = y, y(0) = 1 by Euler's method", None, None),
])
def test_the_student_asks_for_eulers_method_its_step_and_the_point(text, step, target):
    problem = parse(text)
    assert problem.requested_method == "euler"
    assert problem.euler_step == step and problem.euler_target == target


@pytest.mark.parametrize("text, says", [
    ("y' = y by Euler's method", "initial values"),
    ("y' = y, y(0) = 1, Euler's method with h = 5", "outside"),
    ("y' = y, y(0) = 1, Euler's method with h = 0.3 to approximate y(1)", "whole number of steps"),
    ("y' = y, y(1) = 1, Euler's method to estimate y(0)", "forwards"),
])
def test_an_euler_request_that_cannot_run_is_a_clear_parse_error(text, says):
    from tutor.errors import ParseError

    with pytest.raises(ParseError) as caught:
        parse(text)
    assert says in caught.value.message and caught.value.suggestion


def test_eulers_table_follows_the_exact_solution_when_asked_for():
    solution = solve("Use Euler's method with h = 0.1 to approximate y(1) for y' = y, y(0) = 1", timeout=15)
    assert solution.verified and solution.answer is not None  # the closed form stays the answer
    last = solution.steps[-1]
    assert last.title == "Euler's method with h = 0.1" and "as asked" in last.text
    assert [x for x, _, _ in solution.numerical.euler] == pytest.approx([0.1 * k for k in range(1, 11)])
    x1, y1, error = solution.numerical.euler[-1]
    assert x1 == pytest.approx(1.0) and y1 == pytest.approx(1.1 ** 10) and error == pytest.approx(math.e - 1.1 ** 10)
    assert r"y(1) \approx 2.59374" in last.text
    # a problem that does not ask gets no Euler table after its closed form
    assert solve("y' = y, y(0) = 1", timeout=15).numerical is None


@pytest.mark.parametrize("text, point", [("y' = x^2 + y^2, y(0) = 0. Find y(1).", 1.0),
                                         ("y' = x^2 + y^2, y(0) = 0. Find y(1.3).", 1.3),
                                         ("y' = sin(x y), y(0) = 1, find y(0.35)", 0.35)])
def test_a_value_asked_for_without_a_closed_form_is_read_off_the_numerical_table(text, point):
    solution = solve(text, timeout=15)
    assert solution.status == NUMERICAL
    values = {round(x, 9): y for x, y in solution.numerical.points}
    assert round(point, 9) in values
    last = solution.steps[-1]
    assert last.title.startswith("Value at") and "not a verified" in last.text
    assert f"{values[round(point, 9)]:.10g}" in last.latex
    if point == 1.0:  # y' = x^2 + y^2, y(0) = 0: y(1) = 0.350231844... (Bessel-function closed form)
        assert abs(values[1.0] - 0.3502318443) < 1e-8
