"""Undetermined coefficients: constant coefficients with a right-hand side made of
``x^k e^{ax} cos/sin(bx)`` terms — the trial form (times ``x^s`` on resonance), substitution, the
linear system for the coefficients."""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import CannotDerive, Derivation, Method, Practice
from tutor.engine.linear_ode import forcing_terms, linear_equation
from tutor.engine.methods.higher_order_practice import (
    equation_from_coefficients, poly_from_roots, practice_from_derivation, random_ics, random_roots,
)
from tutor.engine.methods.higher_order_steps import (
    R, characteristic_steps, combination, finish_linear, homogeneous_equation, ln_latex, numbered_constants,
    undetermined_coefficients_steps,
)
from tutor.engine.steps import Check, Step, tex
from tutor.problem import Problem


class UndeterminedCoefficients(Method):
    """Constant coefficients with a right-hand side of ``x^k e^{ax} cos/sin(bx)`` terms."""

    id = "undetermined_coefficients"
    name = "Undetermined coefficients"

    def matches(self, problem: Problem) -> bool:
        if problem.order < 2:
            return False
        equation = linear_equation(problem)
        return (equation is not None and not equation.homogeneous
                and equation.constant_coefficients() is not None
                and forcing_terms(equation.normalized().rhs, problem.variable) is not None)

    def hint(self, problem: Problem) -> str:
        return ("Solve the homogeneous equation with the characteristic equation, then guess a particular "
                "solution shaped like the right-hand side (multiplied by $x^s$ if it overlaps the "
                "homogeneous solution) and find its coefficients.")

    def derive(self, problem: Problem) -> Derivation:
        if not self.matches(problem):
            raise CannotDerive("the right-hand side is not of undetermined-coefficients form")
        x, y = problem.variable, problem.unknown
        equation = linear_equation(problem).normalized()
        steps, roots, basis = characteristic_steps(problem, equation)
        constants = numbered_constants(len(basis))
        yh = combination(basis, constants)
        steps.append(Step("Complementary solution", "Combine the fundamental set with arbitrary constants.",
                          "y_h = " + ln_latex(yh), Check.SOLVES, after=sympy.Eq(y, yh),
                          ode=homogeneous_equation(problem, equation)))
        more, particular = undetermined_coefficients_steps(problem, equation, roots, x)
        steps.extend(more)
        steps.append(Step("Particular solution", "Put the coefficients back into the trial form.",
                          "y_p = " + ln_latex(particular), Check.SOLVES, after=sympy.Eq(y, particular)))
        general = yh + particular
        steps.append(Step("General solution", "The general solution is $y = y_h + y_p$.",
                          tex(sympy.Eq(y, general), x), Check.SOLVES, after=sympy.Eq(y, general)))
        return finish_linear(self, problem, steps, general, constants)

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, y = sympy.Symbol("x"), sympy.Function("y")
        roots = random_roots(rng, 1 if difficulty < 3 else 2)
        coefficients = poly_from_roots(roots, R)
        real_roots = [r for r, _ in roots if r.is_real]
        kind = rng.choice(["poly", "exp", "trig", "exp_trig"] + (["resonant"] * 2 if difficulty >= 2 else []))
        c = rng.choice([1, 2, 3, -1, -2, 4, 5])
        if kind == "poly":
            rhs = c * x ** rng.randint(0, difficulty) + rng.randint(-3, 3)
        elif kind == "exp":
            rhs = c * sympy.exp(rng.choice([-3, -2, 2, 3, 5]) * x)
        elif kind == "trig":
            rhs = c * rng.choice([sympy.sin, sympy.cos])(rng.randint(1, 3) * x)
        elif kind == "exp_trig":
            rhs = c * sympy.exp(rng.choice([-1, 1]) * x) * rng.choice([sympy.sin, sympy.cos])(rng.randint(1, 2) * x)
        else:  # resonance: the forcing overlaps the homogeneous solution
            if real_roots:
                rhs = c * x ** rng.randint(0, difficulty - 2) * sympy.exp(real_roots[0] * x)
            else:
                z = [r for r, _ in roots][0]
                rhs = c * sympy.exp(sympy.re(z) * x) * rng.choice([sympy.sin, sympy.cos])(sympy.im(z) * x)
        equation = equation_from_coefficients(coefficients, rhs, y(x), x)
        ics = random_ics(rng, len(coefficients) - 1) if difficulty >= 2 and rng.random() < 0.4 else ()
        return practice_from_derivation(self, equation, y, x, ics)


METHODS = [UndeterminedCoefficients]
