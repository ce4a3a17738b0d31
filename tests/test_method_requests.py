"""A problem that names its method ("Solve ... using Laplace transforms", "Solve the Bernoulli equation
...", "Use separation of variables to solve ...") is read as the equation plus a request, and the engine
answers with that method first — or says, in its first step, why that method does not work here.
"""
from __future__ import annotations

import pytest

from tutor.engine import solve
from tutor.parser import parse

TEXTBOOK_PHRASINGS = [
    ("Solve y'' + 4y = 8 sin 2t using Laplace transforms, y(0)=0, y'(0)=0", "laplace_transform"),
    ("Use the Laplace transform to solve y' - 2y = e^{3t}, y(0) = 1", "laplace_transform"),
    ("Solve by undetermined coefficients: y'' - 4y' + 4y = x e^{2x}", "undetermined_coefficients"),
    ("Solve using variation of parameters y'' + y = tan x", "variation_of_parameters"),
    ("Solve y' = y/x + tan(y/x) using the substitution v = y/x", "homogeneous"),
    ("Solve the Bernoulli equation y' + y = y^3", "bernoulli"),
    ("Use separation of variables to solve dy/dx = x/y, y(0) = 2", "separable"),
    ("Solve the exact equation (2xy + 3) dx + (x^2 - 1) dy = 0", "exact"),
    ("Find the equilibrium solutions of y' = y^2 - 4y + 3 and classify them", "autonomous"),
    ("Find the critical points of y' = y(2 - y) and determine their stability", "autonomous"),
    ("Solve the Cauchy-Euler equation x^2 y'' - 2xy' + 2y = 0", "cauchy_euler"),
    ("Solve y'' + y' = 1 by reduction of order", "reduction_of_order"),
    ("y'' + 5y' + 6y = 0. Use the characteristic equation.", "constant_coefficients"),
    ("Solve the Riccati equation y' = y^2 - 2/x^2", "riccati"),
]


@pytest.mark.parametrize("text, method", TEXTBOOK_PHRASINGS)
def test_the_named_method_is_read_as_a_request_and_used(text, method):
    problem = parse(text)
    assert problem.requested_method == method
    solution = solve(problem, timeout=20)
    assert solution.verified and solution.method == method
    assert not solution.steps[0].title.startswith("Not ")


@pytest.mark.parametrize("text, method", [
    ("Solve y' = x y using an integrating factor", "first_order_linear"),
    ("Solve (3xy + y^2) dx + (x^2 + xy) dy = 0 with an integrating factor", "integrating_factor"),
])
def test_an_integrating_factor_is_the_linear_one_or_the_one_that_makes_it_exact(text, method):
    problem = parse(text)
    assert problem.requested_method == "integrating factor"
    solution = solve(problem, timeout=20)
    assert solution.verified and solution.method == method


@pytest.mark.parametrize("text, used", [
    ("Solve the Bernoulli equation y'' + y = 0", "constant_coefficients"),
    ("Use the Laplace transform to solve y'' + y = 0", "constant_coefficients"),
])
def test_a_method_that_does_not_apply_is_explained_first(text, used):
    solution = solve(text, timeout=20)
    assert solution.verified and solution.method == used
    first = solution.steps[0]
    assert first.title == "Not by the method asked for" and first.text.startswith("Asked for: ")


def test_an_exact_solution_is_not_a_request_for_the_exact_method():
    assert parse("Find the exact solution of y' = y, y(0) = 1").requested_method == ""


# --------------------------------------------------------------------------- values and points in words


@pytest.mark.parametrize("text, point, value", [
    ("dy/dx + 2y = 4, y(0) = 0. Find y(1).", 1, r"y(1) = 2 - \frac{2}{e^{2}} \approx 1.7293294"),
    ("y'' + y = 0, y(0) = 0, y'(0) = 1; compute y(pi/2)", "pi/2", r"y(\frac{\pi}{2}) = 1"),
    ("y' = y^2, y(0) = 1. What is y(1/2)?", "1/2", r"y(\frac{1}{2}) = 2"),
])
def test_a_value_asked_for_is_the_last_step_and_checked(text, point, value):
    import sympy

    problem = parse(text)
    assert problem.evaluate_at == (sympy.sympify(point),)
    solution = solve(problem, timeout=20, check_steps=True)
    assert solution.verified and solution.steps[-1].title.startswith("Value at $x = ")
    assert solution.steps[-1].latex == value and solution.step_checks[-1].ok


def test_a_point_the_curve_passes_through_is_a_condition():
    problem = parse("Find the solution of y' = -y/x that passes through (1, 2).")
    assert [(ic.order, ic.point, ic.value) for ic in problem.ics] == [(0, 1, 2)]
    assert solve(problem, timeout=20).verified


@pytest.mark.parametrize("text", ["y' = y, y(0) = 1, y(2)", "y' = y, 3", "y' = 2,5 y", "y' = y. y(2)"])
def test_a_piece_after_the_equation_is_never_multiplied_into_it(text):
    from tutor.errors import ParseError

    with pytest.raises(ParseError) as caught:
        parse(text)
    assert "neither part of the equation nor a condition" in caught.value.message


def test_the_homogeneous_equation_is_a_soft_request():
    first = solve("Solve the homogeneous equation y' = (x^2 + y^2)/(xy)", timeout=20)
    assert first.verified and first.method == "homogeneous"
    linear = solve("Solve the homogeneous equation y'' + 4y = 0", timeout=20)
    assert linear.verified and linear.method == "constant_coefficients" and not linear.steps[0].title.startswith("Not")
    plain = solve("Solve the homogeneous equation y' + 2y = 0", timeout=20)
    assert plain.verified and not plain.steps[0].title.startswith("Not")


@pytest.mark.parametrize("text, latex, parameters", [
    ("Solve y' = ky where k is a constant", "y' = k y", ("k",)),
    ("T' = -k(T - 20), T(0) = 90, where k is a positive constant", None, ("k",)),
    ("y'' + a y' + b y = 0 where a and b are real constants", "y'' + a y' + b y = 0", ("a", "b")),
    ("Solve y' = y on the interval [0, 1] with y(0) = 1", None, ()),
])
def test_notes_on_the_letters_and_the_interval_are_not_mathematics(text, latex, parameters):
    problem = parse(text)
    assert tuple(str(p) for p in problem.parameters) == parameters
    if latex:
        assert problem.latex == latex


@pytest.mark.parametrize("text", ["Solve y' + p(x) y = q(x)", "y'' + y = f(t)", r"\frac{dy}{dx} + p(x) y = 0"])
def test_a_coefficient_that_is_an_unknown_function_is_refused_not_multiplied(text):
    from tutor.errors import ParseError

    with pytest.raises(ParseError) as caught:
        parse(text)
    assert "looks like a function of" in caught.value.message and "for a product write" in caught.value.suggestion


@pytest.mark.parametrize("text", ["T' = -k(T - 20)", "y' = x(1 - x)", "y' = u(t)", "y' = c(x + 1)"])
def test_products_and_steps_written_with_brackets_are_still_read(text):
    parse(text)


@pytest.mark.parametrize("text, latex", [
    ("Solve the given initial-value problem: dy/dx = y - x, y(0) = 2", r"y' = - x + y,\quad y\left(0\right) = 2"),
    ("Newton's law of cooling: dT/dt = -0.1(T - 20), T(0) = 90", r"T' = 2 - \frac{T}{10},\quad T\left(0\right) = 90"),
    ("Solve the logistic equation P' = P (1 - P), P(0) = 1/2", None),
    ("Solve x y' + y = x^3 for x > 0 with y(1) = 2", r"x y' + y = x^{3},\quad y\left(1\right) = 2"),
])
def test_more_textbook_wording_is_read(text, latex):
    problem = parse(text)
    if latex:
        assert problem.latex == latex


@pytest.mark.parametrize("text, problem, answer", [
    ("Verify that y = e^{2x} is a solution of y'' - 4y = 0", "y'' - 4y = 0", "y = e^{2x}"),
    ("Show that y = x^2 solves x y' = 2y.", "x y' = 2y", "y = x^2"),
    ("Check whether y = sin x satisfies y'' + y = 0", "y'' + y = 0", "y = sin x"),
])
def test_a_verification_request_is_recognised(text, problem, answer):
    from tutor.notation import verification_request

    assert verification_request(text) == (problem, answer)
    assert verification_request("Solve y'' + y = 0") is None


def test_the_solve_tab_answers_a_verification_request_with_the_checker():
    import app

    *_, (markdown, view, _) = app.solve("Verify that y = e^{2x} is a solution of y'' - 4y = 0", "symbolic")
    assert "the checker answers" in markdown and view is None
    assert "Yes — it is a solution." in markdown and "one particular solution" in markdown
    *_, (markdown, _, _) = app.solve("Show that y = x^3 solves x y' = 2y", "symbolic")
    assert "No — it is not a solution." in markdown and "x^{3}" in markdown
    *_, (markdown, _, _) = app.solve("Verify that y = 2e^{x} solves y' = y, y(0) = 1", "symbolic")
    assert "No — it is not a solution." in markdown and "y(0)" in markdown
