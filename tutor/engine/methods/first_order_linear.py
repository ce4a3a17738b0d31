"""First-order linear equations ``y' + P(x) y = Q(x)``, solved with the integrating factor.

``mu = e^{∫P dx}`` turns the left side into ``(mu y)'``; integrate and divide by ``mu``.
"""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import (CannotDerive, Derivation, Method, Practice, conclude, make_problem,
                               normal_form, tidy, to_symbol, y_symbol)
from tutor.engine.methods.common import C, linear_steps, normal_form_steps
from tutor.problem import Answer, InitialCondition, Problem


def linear_coefficients(f: sympy.Expr, Y: sympy.Symbol) -> tuple[sympy.Expr, sympy.Expr] | None:
    """(P, Q) with ``f = Q - P Y`` (so ``y' + P y = Q``), or None when f is not linear in Y."""
    slope = sympy.diff(f, Y)
    if slope.has(Y):
        return None
    P = tidy(-slope)
    Q = tidy(f.subs(Y, 0))
    return P, Q


class FirstOrderLinear(Method):
    id = "first_order_linear"
    name = "First-order linear equation (integrating factor)"
    hint_pattern = (r"integrating factor|\\mu", r"exact")
    orders = (1,)

    def _coefficients(self, problem: Problem) -> tuple[sympy.Expr, sympy.Expr] | None:
        f = normal_form(problem)
        if f is None:
            return None
        return linear_coefficients(to_symbol(f, problem), y_symbol(problem))

    def matches(self, problem: Problem) -> bool:
        return self._coefficients(problem) is not None

    def hint(self, problem: Problem) -> str:
        return ("The equation is linear, $y' + P(x)\\,y = Q(x)$: multiply by the integrating factor "
                "$\\mu(x) = e^{\\int P\\,dx}$, so the left side becomes $(\\mu y)'$, then integrate.")

    def derive(self, problem: Problem) -> Derivation:
        coefficients = self._coefficients(problem)
        if coefficients is None:
            raise CannotDerive("not linear in y")
        P, Q = coefficients
        _, _, ode = normal_form_steps(problem)
        # Start from the equation as given: the first step rewrites it in standard form.
        steps, solution = linear_steps(problem.equation, problem.unknown, problem.variable, P, Q)
        return conclude(problem, self.id, steps, [solution], [C], hint=self.hint(problem))

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x = sympy.Symbol("x")
        yf = sympy.Function("y")
        y = yf(x)
        k = rng.choice([1, 2, 3, -1])
        # P with a tidy integrating factor, and a particular solution yp chosen first, so
        # that the answer y = yp + C e^{-∫P} is known by construction.
        P, homogeneous = rng.choice([
            (sympy.Integer(k), sympy.exp(-k * x)),
            (sympy.Integer(k) / x, x ** (-k)),
            (2 * x, sympy.exp(-x ** 2)),
        ][: 1 + difficulty])
        yp = rng.choice([x, x ** 2, sympy.exp(x), sympy.sin(x), x * sympy.exp(-x) if P == 1 else x + 1][: 2 + difficulty])
        Q = sympy.expand(sympy.diff(yp, x) + P * yp)
        equation = sympy.Eq(sympy.Derivative(y, x) + P * y, Q)
        solution = yp + C * homogeneous
        ics: tuple = ()
        if difficulty >= 3 or rng.random() < 0.3:
            x0 = sympy.Integer(1) if P.has(x) and not P.is_polynomial(x) else sympy.Integer(0)
            c0 = rng.choice([1, 2, -1])
            solution = solution.subs(C, c0)
            ics = (InitialCondition(0, x0, sympy.simplify(solution.subs(x, x0))),)
        problem = make_problem(equation, yf, x, ics)
        answer = Answer(solutions=(sympy.Eq(y, solution),), constants=() if ics else (C,), explicit=(True,))
        return Practice(self.id, 0, difficulty, problem, answer)


METHODS = [FirstOrderLinear]
