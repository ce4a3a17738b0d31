"""Riccati equations ``y' = q0(x) + q1(x) y + q2(x) y^2`` from a guessed particular solution.

A particular solution ``y1`` is found by trying polynomial and simple rational forms
(``a``, ``a x + b``, ``a x^2 + b x + c``, ``a/x``, ``a x + b/x``) and solving for the
coefficients; then ``y = y1 + 1/v`` gives the linear equation
``v' + (q1 + 2 q2 y1) v = -q2``, solved with its integrating factor.
"""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import (Derivation, Method, Practice, conclude, make_problem,
                               normal_form, tidy, to_symbol, vanishes, y_symbol)
from tutor.engine.methods.common import C, linear_steps, normal_form_steps, solves_step
from tutor.engine.steps import Check, Step, tex
from tutor.problem import Answer, Problem


def riccati_coefficients(problem: Problem) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr] | None:
    """(q0, q1, q2) with q0 != 0 and q2 != 0 (q0 = 0 is Bernoulli), else None."""
    f = normal_form(problem)
    if f is None:
        return None
    Y = y_symbol(problem)
    f = to_symbol(f, problem)
    try:
        poly = sympy.Poly(sympy.expand(f), Y)
    except sympy.PolynomialError:
        return None
    if poly.degree() != 2:
        return None
    q2, q1, q0 = (tidy(c) for c in poly.all_coeffs())
    if q0 == 0 or any(c.has(Y) for c in (q0, q1, q2)):
        return None
    return q0, q1, q2


def particular_solution(q0: sympy.Expr, q1: sympy.Expr, q2: sympy.Expr, x: sympy.Symbol) -> sympy.Expr | None:
    """A rational/polynomial particular solution found by undetermined coefficients, or None."""
    a, b, c = sympy.symbols("a b c")
    guesses = [a, a * x + b, a / x, a * x ** 2 + b * x + c, a * x + b / x, a * sympy.exp(x), a * sympy.exp(-x)]
    for guess in guesses:
        unknowns = [s for s in (a, b, c) if guess.has(s)]
        residual = sympy.together(sympy.diff(guess, x) - q0 - q1 * guess - q2 * guess ** 2)
        numerator = sympy.expand(sympy.numer(residual))
        try:
            coefficients = sympy.Poly(numerator, x).coeffs() if numerator.is_polynomial(x) else None
        except sympy.PolynomialError:
            coefficients = None
        if coefficients is None:
            # exponentials: collect on the distinct exponential terms
            terms = sympy.collect(numerator, [sympy.exp(x), sympy.exp(-x), sympy.exp(2 * x), sympy.exp(-2 * x)],
                                  evaluate=False)
            coefficients = list(terms.values())
            if any(cf.has(x) for cf in coefficients):
                continue
        try:
            solutions = sympy.solve(coefficients, unknowns, dict=True)
        except NotImplementedError:
            continue
        found = []
        for values in solutions:
            if set(values) != set(unknowns) or any(v.has(sympy.I) for v in values.values()):
                continue
            y1 = tidy(guess.subs(values))
            if vanishes(sympy.diff(y1, x) - q0 - q1 * y1 - q2 * y1 ** 2):
                found.append(y1)
        if found:
            # the tidiest guess: rational coefficients first, then the shortest, then positive
            return min(found, key=lambda e: (e.has(sympy.Pow) and any(not p.exp.is_integer for p in e.atoms(sympy.Pow)),
                                             sympy.count_ops(e), e.could_extract_minus_sign()))
    return None


class Riccati(Method):
    id = "riccati"
    name = "Riccati equation (from a particular solution)"
    hint_pattern = (r"riccati", None)
    orders = (1,)

    not_matched = "not a Riccati equation with a particular solution among the simple guesses"

    def match(self, problem: Problem) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr, sympy.Expr] | None:
        """(q0, q1, q2, y1): the Riccati coefficients and a particular solution, searched for once."""
        coefficients = riccati_coefficients(problem)
        if coefficients is None:
            return None
        y1 = particular_solution(*coefficients, problem.variable)
        return None if y1 is None else (*coefficients, y1)

    def hint(self, problem: Problem, form=None) -> str:
        return ("This is a Riccati equation $y' = q_0 + q_1 y + q_2 y^2$: guess a particular solution $y_1$ "
                "(try polynomials and simple rational functions), then $y = y_1 + 1/v$ makes the equation "
                "linear in v.")

    def _derive(self, problem: Problem, form: tuple) -> Derivation:
        q0, q1, q2, y1 = form
        x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
        vf = sympy.Function("v")
        v = vf(x)
        _, steps, ode = normal_form_steps(problem)
        form = sympy.Eq(sympy.Derivative(y, x), q0 + q1 * y + q2 * y ** 2)
        steps.append(Step("Riccati form",
                          f"$q_0 = {tex(q0, x)}$, $q_1 = {tex(q1, x)}$, $q_2 = {tex(q2, x)}$.",
                          latex=tex(form, x), check=Check.EQUIVALENT, before=ode, after=form))
        steps.append(solves_step("Guess a particular solution",
                                 f"Trying simple forms (constants, polynomials, $a/x$) gives $y_1 = {tex(y1, x)}$; "
                                 "substituting confirms it.",
                                 sympy.Eq(y, y1), problem.equation, y, x))
        P = tidy(q1 + 2 * q2 * y1)
        linear = sympy.Eq(sympy.Derivative(v, x) + P * v, -q2)
        steps.append(Step("Substitute y = y1 + 1/v",
                          f"With $y = {tex(y1, x)} + \\frac{{1}}{{v}}$ the $y_1$ terms cancel and, multiplying by "
                          "$-v^2$, the equation becomes linear in v.",
                          latex=tex(linear, x), check=Check.SUBSTITUTION, before=ode, after=linear,
                          substitution={y: y1 + 1 / v}))
        more, v_solution = linear_steps(linear, v, x, P, -q2)
        steps += more
        reciprocal = 1 / v_solution.rhs
        combined = sympy.cancel(reciprocal)
        if len(str(combined)) <= len(str(reciprocal)):
            reciprocal = combined  # 1/(C/x^2 - x/3) is 3x^2/(3C - x^3)
        solution = sympy.Eq(y, y1 + reciprocal)
        shorter = sympy.Eq(y, tidy(solution.rhs))
        if sympy.count_ops(shorter.rhs) < sympy.count_ops(solution.rhs):
            solution = shorter
        steps.append(solves_step("Back-substitute",
                                 f"$y = y_1 + 1/v$. (The particular solution $y = {tex(y1, x)}$ itself is the "
                                 "limit $C \\to \\infty$.)", solution, problem.equation, y, x))
        return conclude(problem, self.id, steps, [solution], [C], hint=self.hint(problem))

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x = sympy.Symbol("x")
        yf = sympy.Function("y")
        y = yf(x)
        a, b = rng.choice([1, 2, -1]), rng.choice([1, -1, 2])
        # Choose y1, constant q2 and k = q1 + 2 q2 y1 (a constant), then q0 follows; the linear
        # equation v' + k v = -q2 has v = -q2/k + C e^{-kx} (or v = -q2 x + C when k = 0).
        y1 = rng.choice([sympy.Integer(a), a * x, a * x + b][: 1 + difficulty])
        q2 = sympy.Integer(rng.choice([1, -1, 2]))
        k = sympy.Integer(rng.choice([0, 1, 2, -1]))
        q1 = sympy.expand(k - 2 * q2 * y1)
        q0 = sympy.expand(sympy.diff(y1, x) - q1 * y1 - q2 * y1 ** 2)
        if q0 == 0:
            q0, y1 = None, None
        if q0 is None:  # y1 made the equation Bernoulli; shift it
            y1 = a * x + 1
            q1 = sympy.expand(k - 2 * q2 * y1)
            q0 = sympy.expand(sympy.diff(y1, x) - q1 * y1 - q2 * y1 ** 2)
        v = (-q2 * x + C) if k == 0 else (-q2 / k + C * sympy.exp(-k * x))
        equation = sympy.Eq(sympy.Derivative(y, x), q0 + q1 * y + q2 * y ** 2)
        problem = make_problem(equation, yf, x)
        answer = Answer(solutions=(sympy.Eq(y, y1 + 1 / v),), constants=(C,), explicit=(True,))
        return Practice(self.id, 0, difficulty, problem, answer)


METHODS = [Riccati]
