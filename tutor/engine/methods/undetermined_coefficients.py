"""Undetermined coefficients: constant coefficients with a right-hand side made of
``x^k e^{ax} cos/sin(bx)`` terms — the trial form (times ``x^s`` on resonance), substitution, the
linear system for the coefficients."""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy

from tutor.engine.base import Derivation, Method, Practice
from tutor.engine.linear_ode import LinearODE, forcing_terms
from tutor.engine.methods.higher_order_practice import (
    equation_from_coefficients, poly_from_roots, practice_from_derivation, random_ics, random_roots,
)
from tutor.engine.methods.higher_order_steps import (
    R, characteristic_steps, combination, complementary_step, constant_coefficient_equation, finish_linear,
    general_solution_steps, numbered_constants, undetermined_coefficients_steps,
)
from tutor.problem import Problem


@dataclass(frozen=True)
class ForcedEquation:
    """What undetermined coefficients works from: the equation divided by its leading coefficient
    and the ``x^k e^{ax} cos/sin(bx)`` terms of its right-hand side."""

    equation: LinearODE
    terms: list


class UndeterminedCoefficients(Method):
    """Constant coefficients with a right-hand side of ``x^k e^{ax} cos/sin(bx)`` terms."""

    id = "undetermined_coefficients"
    name = "Undetermined coefficients"
    not_matched = "the right-hand side is not of undetermined-coefficients form"
    hint_pattern = (r"undetermined|guess a particular|particular solution", r"wronskian")

    def match(self, problem: Problem) -> ForcedEquation | None:
        equation = constant_coefficient_equation(problem, homogeneous=False)
        if equation is None:
            return None
        normalized = equation.normalized()
        terms = forcing_terms(normalized.rhs, problem.variable)
        return None if terms is None else ForcedEquation(normalized, terms)

    def hint(self, problem: Problem, form: ForcedEquation | None = None) -> str:
        return ("Solve the homogeneous equation with the characteristic equation, then guess a particular "
                "solution shaped like the right-hand side (multiplied by $x^s$ if it overlaps the "
                "homogeneous solution) and find its coefficients.")

    def _derive(self, problem: Problem, form: ForcedEquation) -> Derivation:
        equation = form.equation
        steps, roots, basis = characteristic_steps(problem, equation)
        constants = numbered_constants(len(basis))
        yh = combination(basis, constants)
        steps.append(complementary_step(problem, yh, equation))
        more, particular = undetermined_coefficients_steps(problem, equation, roots, problem.variable,
                                                           terms=form.terms)
        steps.extend(more)
        more, general = general_solution_steps(problem, yh, particular, "Particular solution",
                                               "Put the coefficients back into the trial form.")
        steps.extend(more)
        return finish_linear(self, problem, form, steps, general, constants)

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
