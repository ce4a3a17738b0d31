"""tutor.parse_answer: explicit, implicit and multiple solutions, and their arbitrary constants."""
from __future__ import annotations

import pytest
from sympy import Abs, Eq, Function, Symbol, atan, exp, log, sqrt

from tutor import ParseError, parse, parse_answer

x, t = Symbol("x"), Symbol("t")
y, T = Function("y"), Function("T")
C, C1, C2, A, B, K, c = (Symbol(n) for n in ("C", "C1", "C2", "A", "B", "K", "c"))
Y = y(x)


@pytest.fixture(scope="module")
def first_order():
    return parse("y' = 2y")


CASES = [
    ("y = C e^{2x}", [Eq(Y, C * exp(2 * x))], (C,), [True]),
    ("y(x) = C1 e^x + C2 e^(-x)", [Eq(Y, C1 * exp(x) + C2 * exp(-x))], (C1, C2), [True]),
    ("y = C_1 e^{x} + c_2", [Eq(Y, C1 * exp(x) + Symbol("c2"))], (C1, Symbol("c2")), [True]),
    (r"y = C_{1} e^{2 x}", [Eq(Y, C1 * exp(2 * x))], (C1,), [True]),
    ("C e^{2x} = y", [Eq(Y, C * exp(2 * x))], (C,), [True]),
    ("x^2 y + 3x - y = C", [Eq(x**2 * Y + 3 * x - Y, C)], (C,), [False]),
    ("ln|y| = 2x + K", [Eq(log(Abs(Y)), 2 * x + K)], (K,), [False]),
    ("arctan(y) = arctan(x) + A", [Eq(atan(Y), atan(x) + A)], (A,), [False]),
    ("y = ±sqrt(x^2 + C)", [Eq(Y, sqrt(x**2 + C)), Eq(Y, -sqrt(x**2 + C))], (C,), [True, True]),
    (r"y = \pm\sqrt{x^{2} + C}", [Eq(Y, sqrt(x**2 + C)), Eq(Y, -sqrt(x**2 + C))], (C,), [True, True]),
    ("y = 0 or y = C e^x", [Eq(Y, 0), Eq(Y, C * exp(x))], (C,), [True, True]),
    ("y = A e^{2x}; y = 0", [Eq(Y, A * exp(2 * x)), Eq(Y, 0)], (A,), [True, True]),
    ("y = c e^{2x}", [Eq(Y, c * exp(2 * x))], (c,), [True]),
    ("y = B", [Eq(Y, B)], (B,), [True]),
]


@pytest.mark.parametrize("text,solutions,constants,explicit", CASES, ids=[c[0] for c in CASES])
def test_answers(first_order, text, solutions, constants, explicit):
    answer = parse_answer(text, first_order)
    assert list(answer.solutions) == solutions
    assert answer.constants == constants
    assert list(answer.explicit) == explicit


def test_parameters_are_not_constants():
    problem = parse("dT/dt = -k(T - 20)")
    answer = parse_answer("T = 20 + C e^{-kt}", problem)
    assert answer.solutions == (Eq(T(t), 20 + Symbol("C") * exp(-Symbol("k") * t)),)
    assert answer.constants == (Symbol("C"),)


@pytest.mark.parametrize("text,fragment", [
    ("y' = 2y", "must not contain derivatives"),
    ("C e^{2x}", "needs '='"),
    ("y = ", "empty"),
    ("y = " + "x+" * 60000 + "1", "too long"),
    ("__import__('os').system('id')", "unexpected character"),
    ("y = (x", "never closed"),
])
def test_bad_answers(first_order, text, fragment):
    with pytest.raises(ParseError) as info:
        parse_answer(text, first_order)
    assert fragment in str(info.value)
