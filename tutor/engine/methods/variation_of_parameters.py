"""Variation of parameters: constant coefficients with any continuous right-hand side —
the Wronskian, ``u_i'`` by Cramer's rule, the integrals with the rule used."""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import Derivation, Method, Practice
from tutor.engine.linear_ode import LinearODE
from tutor.engine.methods.higher_order_practice import equation_from_coefficients, poly_from_roots, practice_from_derivation
from tutor.engine.methods.higher_order_steps import (
    R, characteristic_steps, combination, complementary_step, constant_coefficient_equation, finish_linear,
    general_solution_steps, numbered_constants, variation_of_parameters_steps,
)
from tutor.problem import Problem

#: The variable of the right-hand sides in :attr:`VariationOfParameters._OTHER`.
X = sympy.Symbol("x")


class VariationOfParameters(Method):
    """Constant coefficients, any continuous right-hand side: Wronskian and ``u_i'``."""

    id = "variation_of_parameters"
    name = "Variation of parameters"
    not_matched = "not a non-homogeneous linear equation with constant coefficients"
    hint_pattern = (r"variation of parameters|vary the constants|wronskian", None)

    def match(self, problem: Problem) -> LinearODE | None:
        """The equation as a linear ODE, when it is non-homogeneous with constant coefficients."""
        return constant_coefficient_equation(problem, homogeneous=False)

    def hint(self, problem: Problem, form: LinearODE | None = None) -> str:
        return ("Find the homogeneous solutions $y_1, y_2, \\dots$ from the characteristic equation, then "
                "vary the constants: $y_p = \\sum u_i y_i$ with $u_i'$ from the Wronskian (Cramer's rule).")

    def _derive(self, problem: Problem, form: LinearODE) -> Derivation:
        normalized = form.normalized()
        steps, roots, basis = characteristic_steps(problem, normalized)
        constants = numbered_constants(len(basis))
        yh = combination(basis, constants)
        steps.append(complementary_step(problem, yh, normalized))
        more, particular = variation_of_parameters_steps(problem, basis, normalized.rhs, problem.variable)
        steps.extend(more)
        more, general = general_solution_steps(problem, yh, particular, "Check the particular solution",
                                               "Substituting $y_p$ gives the right-hand side.")
        steps.extend(more)
        return finish_linear(self, problem, form, steps, general, constants)

    # (roots of the characteristic polynomial, right-hand side) for a frequency or root w:
    # the classic forcings undetermined coefficients cannot handle.
    _TRIG = (
        lambda x, w: sympy.sec(w * x),
        lambda x, w: sympy.tan(w * x),
        lambda x, w: sympy.csc(w * x),
        lambda x, w: sympy.cot(w * x),
        lambda x, w: sympy.sec(w * x) ** 2,
        lambda x, w: sympy.sec(w * x) * sympy.tan(w * x),
    )
    _REPEATED = (
        lambda x, a: sympy.exp(a * x) / x,
        lambda x, a: sympy.exp(a * x) / x ** 2,
        lambda x, a: sympy.exp(a * x) / x ** 3,
        lambda x, a: sympy.exp(a * x) * sympy.log(x),
        lambda x, a: sympy.exp(a * x) / (1 + x ** 2),
        lambda x, a: sympy.exp(a * x) * sympy.sqrt(x),
    )
    _OTHER = (
        ([(sympy.Integer(0), 1), (sympy.Integer(1), 1)], 1 / (1 + sympy.exp(-X))),
        ([(sympy.Integer(1), 1), (sympy.Integer(2), 1)], sympy.exp(X) / (1 + sympy.exp(X))),
        ([(sympy.Integer(-1), 1), (sympy.Integer(-2), 1)], 1 / (1 + sympy.exp(X))),
        ([(-1 + sympy.I, 1)], sympy.exp(-X) * sympy.sec(X)),
        ([(1 + sympy.I, 1)], sympy.exp(X) * sympy.csc(X)),
    )

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        # Difficulty 1: y'' + y with sec/tan/csc/cot, or a double root 1 with e^x/x^k;
        # 2: other frequencies and roots, more forcings, a coefficient; 3: all shapes.
        x, y = sympy.Symbol("x"), sympy.Function("y")
        kind = rng.choice(["trig", "repeated", "other"] if difficulty >= 3 else ["trig", "repeated"])
        if kind == "trig":
            w = rng.choice([1, 2, 3, 4] if difficulty >= 2 else [1])
            roots = [(w * sympy.I, 1)]
            forcing = rng.choice(self._TRIG[: 4 if difficulty == 1 else None])(x, w)
        elif kind == "repeated":
            r = rng.choice([1, -1, 2, -2, 3] if difficulty >= 2 else [1, -1])
            roots = [(sympy.Integer(r), 2)]
            forcing = rng.choice(self._REPEATED[: 3 if difficulty == 1 else None])(x, r)
        else:
            roots, forcing = rng.choice(self._OTHER)
            forcing = forcing.subs(X, x)
        c = rng.choice([1, 1, 2, 3, 4, 5]) if difficulty >= 2 else 1
        equation = equation_from_coefficients(poly_from_roots(roots, R), c * forcing, y(x), x)
        return practice_from_derivation(self, equation, y, x)


METHODS = [VariationOfParameters]
