"""Piecewise functions written as cases (the Laplace chapter): read into unit-step form.

Plain text ``{1 if 0 <= t < 2; 0 if t >= 2}`` and ``f(t) = 1 for 0 <= t < 2, 0 for t >= 2``, LaTeX
``\\begin{cases} ... \\end{cases}``; errors keep a caret at the piece and a suggestion.
"""
from __future__ import annotations

import pytest
import sympy

from tutor import ParseError, parse
from tutor.checker import read_answer

t = sympy.Symbol("t")
H = sympy.Heaviside
BOX = H(t) - H(t - 2)  # 1 on [0, 2)


@pytest.mark.parametrize("text", [
    "y'' + y = {1 if 0 <= t < 2; 0 if t >= 2}, y(0) = 0, y'(0) = 0",
    "y'' + y = {1 for 0 <= t < 2, 0 for t >= 2}, y(0) = 0, y'(0) = 0",
    "y'' + y = f(t), f(t) = 1 for 0 <= t < 2, 0 for t >= 2, y(0) = 0, y'(0) = 0",
    "y'' + y = f(t), y(0) = 0, y'(0) = 0, f(t) = {1 if 0<=t<2; 0 if t>=2}",
    "Solve y'' + y = f(t) where f(t) = {1 when 0 ≤ t < 2; 0 when t ≥ 2} and y(0) = 0, y'(0) = 0.",
    "y'' + y = {1 if 0 <= t < 2; 0 otherwise}, y(0) = 0, y'(0) = 0",
    r"y'' + y = f(t),\quad f(t) = \begin{cases} 1 & 0 \le t < 2 \\ 0 & t \ge 2 \end{cases},\quad y(0) = 0,\ y'(0) = 0",
    r"y'' + y = \begin{cases} 1, & \text{if } 0 \leq t < 2, \\ 0, & \text{otherwise.} \end{cases}\quad y(0)=0,\ y'(0)=0",
])
def test_box_forcing_in_every_spelling(text):
    problem = parse(text)
    assert problem.variable == t and not problem.parameters
    assert sympy.simplify(problem.equation.rhs - BOX) == 0, problem.equation
    assert [(ic.order, ic.point, ic.value) for ic in problem.ics] == [(0, 0, 0), (1, 0, 0)]


def test_values_are_expressions_and_the_open_ends_are_steps():
    problem = parse("y' + y = {t if t < 1; 1 if t >= 1}, y(0) = 0")
    assert sympy.expand(problem.equation.rhs - (t * (1 - H(t - 1)) + H(t - 1))) == 0
    problem = parse(r"y'' + y = \begin{cases} \sin t & 0 \le t < \pi \\ 0 & t \ge \pi \end{cases}, y(0)=0, y'(0)=0")
    assert sympy.expand(problem.equation.rhs - sympy.sin(t) * (H(t) - H(t - sympy.pi))) == 0
    problem = parse("y' + 2y = f(t), f(t) = 3 if t < 1, 0 otherwise, y(0) = 1")
    assert sympy.expand(problem.equation.rhs - 3 * (1 - H(t - 1))) == 0


@pytest.mark.parametrize("text, message, at", [
    ("y' + y = {t if t < 1; 1 if t > 0}, y(0) = 0", "overlap", "1 if t > 0"),
    ("y' + y = {t if 3 < t < 1; 1 if t > 2}, y(0) = 0", "empty", "t if 3"),
    ("y' + y = {t if t <; 1 if t > 2}, y(0) = 0", "condition", "t <;"),
    ("y' + y = {t if t < a; 1 if t >= a}, y(0) = 0", "numbers", "t < a"),
    ("y' + y = {t if t < 1; 1 whatever t >= 2}, y(0) = 0", "piece", "1 whatever"),
    ("y' + y = {t if 0 < t > 1; 1 if t >= 1}, y(0) = 0", "not an interval", "0 < t > 1"),
    ("y' + y = {t if x < 1; 1 if t >= 1}, y(0) = 0", "one variable", "{t if"),
    (r"y'' + y = \begin{cases} 1 & 0 \le t < 2 , y(0)=0", "never closed", r"\begin"),
    (r"y'' + y = \begin{cases} \sin t & 0 \le t < \pi \\ 0 \end{cases}, y(0)=0", "&", "0 \\end"),
    ("y' + y = {t if t < 1; 1 if t >= 1} + qwerty, y(0) = 0", "looks like a word", "qwerty"),
])
def test_errors_point_at_the_piece_with_a_suggestion(text, message, at):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in info.value.message
    assert info.value.position == text.index(at), (info.value.position, text.index(at))
    if message != "looks like a word":
        assert info.value.suggestion


def test_a_comparison_outside_a_piecewise_function_says_how_to_write_one():
    with pytest.raises(ParseError) as info:
        parse("y' + y = 2 < t, y(0) = 0")
    assert info.value.position == 11 and "{1 if 0 <= t < 2; 0 if t >= 2}" in info.value.suggestion


def test_a_single_qualifier_is_not_a_piecewise_function():
    problem = parse("y'' + y = 0, y(0) = 0, y'(0) = 1")
    assert read_answer("y = sin t for t >= 0", problem).solutions[0].rhs == sympy.sin(t)


@pytest.mark.parametrize("answer", [
    "y = {1 - cos t for 0 <= t < 2; cos(t - 2) - cos t for t >= 2}",
    "y = 1 - cos t for 0 <= t < 2, cos(t - 2) - cos t for t >= 2",
    "y(t) = 1 - cos t for t < 2, y(t) = cos(t - 2) - cos t for t >= 2",
    r"y = \begin{cases} 1 - \cos t & 0 \le t < 2 \\ \cos(t - 2) - \cos t & t \ge 2 \end{cases}",
])
def test_written_piecewise_answers_are_read_as_steps(answer):
    problem = parse("y'' + y = {1 if 0 <= t < 2; 0 if t >= 2}, y(0) = 0, y'(0) = 0")
    (solution,) = read_answer(answer, problem).solutions
    expected = (1 - sympy.cos(t)) * (1 - H(t - 2)) + (sympy.cos(t - 2) - sympy.cos(t)) * H(t - 2)
    got = solution.rhs.subs(H(t), 1)  # u(t) is 1 for t >= 0, where an IVP at 0 is solved
    assert sympy.simplify(sympy.expand(got - expected)) == 0, solution


@pytest.mark.parametrize("text", [
    "{" * 1990 + "<",
    "{" * 995 + "<" + "}" * 995,
    "y' = " + "{1 if t<2; 0 if t>=2} + " * 80,
    "y' = y, " + "f(t) = 1 for t < 2, " * 100,
    "y' = " + "{" * 50000 + "<",
])
def test_hostile_piecewise_text_is_refused_quickly(text):
    import time

    started = time.monotonic()
    with pytest.raises(ParseError):
        parse(text)
    assert time.monotonic() - started < 1.0
