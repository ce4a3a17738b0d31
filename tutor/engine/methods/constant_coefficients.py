"""Homogeneous linear equations with constant coefficients, any order: the characteristic
equation, its roots with multiplicities (distinct, repeated, complex), the fundamental set."""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import Derivation, Method, Practice
from tutor.engine.linear_ode import LinearODE
from tutor.engine.methods.higher_order_practice import (
    equation_from_coefficients, poly_from_roots, practice_from_derivation, random_ics, random_roots,
)
from tutor.engine.methods.higher_order_steps import (
    R, characteristic_steps, combination, constant_coefficient_equation, finish_linear, numbered_constants,
)
from tutor.engine.steps import Check, Step, tex
from tutor.problem import Problem


class ConstantCoefficients(Method):
    """``a_n y^(n) + ... + a_0 y = 0`` with constant ``a_k`` (any order >= 2)."""

    id = "constant_coefficients"
    name = "Homogeneous linear equation with constant coefficients"
    not_matched = "not a homogeneous linear equation with constant coefficients"
    hint_pattern = (r"characteristic", r"particular|vary|variation")

    def match(self, problem: Problem) -> LinearODE | None:
        """The equation as a linear ODE, when it is homogeneous with constant coefficients."""
        return constant_coefficient_equation(problem, homogeneous=True)

    def hint(self, problem: Problem, form: LinearODE | None = None) -> str:
        return ("The equation is linear with constant coefficients: substitute $y = e^{rx}$ to get the "
                "characteristic equation, and build the general solution from its roots.")

    def _derive(self, problem: Problem, form: LinearODE) -> Derivation:
        steps, roots, basis = characteristic_steps(problem, form)
        constants = numbered_constants(len(basis))
        general = combination(basis, constants)
        steps.append(Step("General solution",
                          "The general solution is an arbitrary linear combination of the fundamental set.",
                          tex(sympy.Eq(problem.unknown, general), problem.variable),
                          Check.SOLVES, after=sympy.Eq(problem.unknown, general)))
        return finish_linear(self, problem, form, steps, general, constants)

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, y = sympy.Symbol("x"), sympy.Function("y")
        coefficients = poly_from_roots(random_roots(rng, difficulty), R)
        scale = rng.choice([1, 1, 2, 3]) if difficulty >= 2 else 1
        equation = equation_from_coefficients(tuple(scale * c for c in coefficients), sympy.S.Zero, y(x), x)
        ics = random_ics(rng, len(coefficients) - 1) if difficulty >= 2 and rng.random() < 0.5 else ()
        return practice_from_derivation(self, equation, y, x, ics)


METHODS = [ConstantCoefficients]
