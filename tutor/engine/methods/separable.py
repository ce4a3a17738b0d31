"""Separable equations ``y' = g(x) h(y)`` (autonomous ``y' = h(y)`` included).

Separate, integrate both sides (naming the rule: substitution, parts, partial
fractions), collect one constant, solve for y when that is tidy; the constant
solutions ``h(y) = 0`` lost by dividing are mentioned.
"""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import (CannotDerive, Derivation, Method, Practice, conclude, make_problem,
                               normal_form, to_symbol, y_symbol)
from tutor.engine.methods.common import C, explicit_step, normal_form_steps, separate_and_integrate
from tutor.problem import Answer, InitialCondition, Problem


def split_product(f: sympy.Expr, x: sympy.Symbol, Y: sympy.Symbol) -> tuple[sympy.Expr, sympy.Expr] | None:
    """(g(x), h(Y)) with f = g h, or None when f does not factor that way."""
    parts = sympy.separatevars(sympy.factor(f), symbols=[x, Y], dict=True, force=True)
    if not parts:
        parts = sympy.separatevars(f, symbols=[x, Y], dict=True, force=True)
    if not parts:
        return None
    g = parts["coeff"] * parts[x]
    h = parts[Y]
    if h.has(x) or g.has(Y):
        return None
    if g.could_extract_minus_sign() and h.has(Y):
        g, h = -g, sympy.factor(-h)  # y' = y(1 - y), not y' = -y(y - 1)
    return g, h


class Separable(Method):
    id = "separable"
    name = "Separable equation"
    hint_pattern = (r"separa", None)
    orders = (1,)

    def _split(self, problem: Problem) -> tuple[sympy.Expr, sympy.Expr] | None:
        f = normal_form(problem)
        if f is None:
            return None
        Y = y_symbol(problem)
        return split_product(to_symbol(f, problem), problem.variable, Y)

    def matches(self, problem: Problem) -> bool:
        return self._split(problem) is not None

    def hint(self, problem: Problem) -> str:
        split = self._split(problem)
        if split and not split[0].has(problem.variable):
            return ("The equation is autonomous, $y' = h(y)$: separate the variables, "
                    "$\\frac{dy}{h(y)} = dx$, and integrate both sides.")
        return ("The right side factors as $g(x)\\,h(y)$: separate the variables, "
                "$\\frac{dy}{h(y)} = g(x)\\,dx$, and integrate both sides.")

    def derive(self, problem: Problem) -> Derivation:
        split = self._split(problem)
        if split is None:
            raise CannotDerive("not separable")
        g, h = split
        x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
        f, steps, ode = normal_form_steps(problem)
        more, implicit, lost = separate_and_integrate(ode, y, x, g, h, Y)
        steps += more
        explicit_steps, solutions, _ = explicit_step(implicit, ode, y, x, Y)
        steps += explicit_steps
        return conclude(problem, self.id, steps, solutions, [C], lost=tuple(lost), hint=self.hint(problem))

    # ------------------------------------------------------------------ practice problems

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x = sympy.Symbol("x")
        yf = sympy.Function("y")
        y = yf(x)
        k = rng.choice([1, 2, 3]) if difficulty > 1 else 1
        # G(x) is the x-antiderivative; the y side H(y) has a known inverse.
        G = rng.choice([k * x ** 2 / 2, k * x, x ** 3, sympy.sin(x), sympy.exp(x), x ** 2 + k * x][: 3 + 2 * difficulty])
        family = rng.choice(["log", "square", "reciprocal", "atan"][: 2 + difficulty])
        c0 = rng.choice([1, 2, -1, 3])
        if family == "log":  # dy/y = G' dx  ->  y = C e^{G}
            rhs = sympy.diff(G, x) * y
            sol = C * sympy.exp(G)
        elif family == "square":  # y dy = G' dx  ->  y^2 = 2G + C (explicit with the + branch + IC)
            rhs = sympy.diff(G, x) / y
            sol = None
            implicit = sympy.Eq(y ** 2, 2 * G + C)
        elif family == "reciprocal":  # dy/y^2 = G' dx  ->  y = -1/(G + C)
            rhs = sympy.diff(G, x) * y ** 2
            sol = -1 / (G + C)
        else:  # dy/(1+y^2) = G' dx  ->  y = tan(G + C)
            rhs = sympy.diff(G, x) * (1 + y ** 2)
            sol = sympy.tan(G + C)
        equation = sympy.Eq(sympy.Derivative(y, x), rhs)
        ics: tuple = ()
        if difficulty >= 3 or rng.random() < 0.3:
            x0 = 0
            if sol is not None:
                sol = sol.subs(C, c0)
                ics = (InitialCondition(0, sympy.Integer(x0), sympy.simplify(sol.subs(x, x0))),)
            else:
                value = sympy.simplify(2 * G.subs(x, x0) + c0 ** 2 + 4)
                ics = (InitialCondition(0, sympy.Integer(x0), sympy.sqrt(value)),)
                sol = sympy.sqrt(2 * G + c0 ** 2 + 4 - 2 * G.subs(x, x0))
        problem = make_problem(equation, yf, x, ics)
        if sol is None:
            answer = Answer(solutions=(implicit,), constants=(C,), explicit=(False,))
        else:
            answer = Answer(solutions=(sympy.Eq(y, sol),), constants=() if ics else (C,), explicit=(True,))
        return Practice(self.id, 0, difficulty, problem, answer)


METHODS = [Separable]
